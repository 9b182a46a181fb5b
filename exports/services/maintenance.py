"""Keeping exports healthy: the watchdog for stuck jobs and the retention of finished files."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from django.db import transaction
from django.utils import timezone

from exports.conf import export_setting
from exports.models import ExportJob, ExportStatus
from exports.services.runner import fail_job, fail_locked, requeue_locked
from exports.storage import get_store
from exports.streaming import locked_job_ids

logger = structlog.get_logger(__name__)

# Retention deletes at most this many files per run, so one run stays short.
EXPIRE_BATCH = 500


def _minutes(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _recover_orphan(job_id: int, *, max_attempts: int) -> str | None:
    """Requeue (or fail) a running job whose worker is gone; None if it turned out alive."""
    with transaction.atomic():
        # Holding the row: a live run cannot finish or start (both write this row) while we
        # decide, so "running and nobody holds its lock" really means its worker died.
        job = (
            ExportJob.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("project", "requester")
            .filter(pk=job_id, status=ExportStatus.RUNNING)
            .first()
        )
        if job is None or locked_job_ids([job_id]):
            return None
        if job.attempts >= max_attempts:
            fail_locked(
                job,
                f"The worker running this export stopped {job.attempts} times before it "
                "finished (killed or out of memory); giving up. Try fewer rows or fields.",
            )
            return "failed"
        requeue_locked(job, reason=f"The worker running attempt {job.attempts} stopped; retrying.")
        return "requeued"


def recover_stalled_exports(*, now: datetime | None = None) -> dict[str, int]:
    """Fail jobs stuck past their limits and requeue those whose worker died; returns counts.

    - pending longer than EXPORT_PENDING_TIMEOUT_SECONDS: failed (no worker took it);
    - running, worker alive, longer than EXPORT_MAX_RUNTIME_SECONDS: failed (the run notices at
      its next progress write and stops);
    - running, worker dead (its session lock is free) and quiet for EXPORT_STALL_GRACE_SECONDS:
      requeued, or failed once EXPORT_MAX_ATTEMPTS runs have died.
    """
    now = now or timezone.now()
    counts = {"failed": 0, "requeued": 0}
    pending_limit = float(export_setting("EXPORT_PENDING_TIMEOUT_SECONDS"))
    runtime_limit = float(export_setting("EXPORT_MAX_RUNTIME_SECONDS"))
    grace = float(export_setting("EXPORT_STALL_GRACE_SECONDS"))
    max_attempts = int(export_setting("EXPORT_MAX_ATTEMPTS"))

    stale_pending = ExportJob.objects.filter(
        status=ExportStatus.PENDING, queued_at__lt=now - timedelta(seconds=pending_limit)
    ).values_list("pk", flat=True)
    for job_id in list(stale_pending):
        if fail_job(
            job_id,
            f"No worker started this export within {_minutes(pending_limit)} (are the Celery "
            "workers running?); request it again.",
            status=ExportStatus.PENDING,
        ):
            counts["failed"] += 1

    running = list(
        ExportJob.objects.filter(status=ExportStatus.RUNNING).values_list(
            "pk", "started_at", "heartbeat_at"
        )
    )
    alive = locked_job_ids(pk for pk, _, _ in running)
    for job_id, started_at, heartbeat_at in running:
        if job_id in alive:
            overdue = started_at is not None and started_at < now - timedelta(seconds=runtime_limit)
            if overdue and fail_job(
                job_id,
                f"The export did not finish within {_minutes(runtime_limit)} and was "
                "stopped; narrow the filters or choose fewer fields.",
                status=ExportStatus.RUNNING,
            ):
                counts["failed"] += 1
            continue
        if heartbeat_at and heartbeat_at > now - timedelta(seconds=grace):
            continue  # Celery's own redelivery of a killed worker's task gets the first go
        outcome = _recover_orphan(job_id, max_attempts=max_attempts)
        if outcome:
            counts[outcome] += 1
    if counts["failed"] or counts["requeued"]:
        logger.info("export_watchdog", **counts)
    return counts


def expire_exports(*, now: datetime | None = None) -> int:
    """Delete the files of succeeded jobs past expires_at and mark them expired; returns how many."""
    now = now or timezone.now()
    due: list[Any] = list(
        ExportJob.objects.filter(status=ExportStatus.SUCCEEDED, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", "storage", "file_key")[:EXPIRE_BATCH]
    )
    expired = 0
    for job_id, store_name, key in due:
        try:
            # File first: if the store is unreachable the job stays succeeded and the next run
            # tries again, rather than marking expired a file that still exists.
            get_store(store_name or None).delete(key)
        except Exception:
            logger.warning("export_expire_failed", export_id=job_id, key=key, exc_info=True)
            continue
        expired += ExportJob.objects.filter(pk=job_id, status=ExportStatus.SUCCEEDED).update(
            status=ExportStatus.EXPIRED
        )
    if expired:
        logger.info("exports_expired", count=expired)
    return expired
