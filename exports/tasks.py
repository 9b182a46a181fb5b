"""Background work of exports: running a job, the watchdog and file retention (beat)."""

from __future__ import annotations

from celery import shared_task

from config.redis import redis_lock


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_export_task(export_id: int) -> str:
    """Run one export job (idempotent: a second delivery after the outcome is a no-op)."""
    from exports.services import run_export

    return run_export(export_id=export_id)


@shared_task(acks_late=True, ignore_result=True)
def export_watchdog_task() -> dict[str, int]:
    """Fail exports stuck past their limits; requeue those whose worker died."""
    from exports.services import recover_stalled_exports

    with redis_lock("exports:watchdog", timeout=300) as acquired:
        if not acquired:
            return {}
        return recover_stalled_exports()


@shared_task(acks_late=True, ignore_result=True)
def expire_exports_task() -> int:
    """Delete export files past their expiry and mark their jobs expired."""
    from exports.services import expire_exports

    with redis_lock("exports:retention", timeout=1800) as acquired:
        return expire_exports() if acquired else 0
