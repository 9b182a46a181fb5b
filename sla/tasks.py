"""SLA background work. Every task takes ids (or nothing), is acks_late, and is idempotent:
a second run finds the unique rows already written and does nothing."""

from __future__ import annotations

from typing import Any

import structlog
from celery import shared_task

logger = structlog.get_logger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def scan_sla_task(slot: int | None = None) -> dict[str, Any]:
    """Beat, every 30 s: one scan pass under the Redis lock, once per slot."""
    from sla.services.scan import run_scan

    result = run_scan(slot=slot)
    summary = result.summary()
    if result.outcome == "done" and (result.warned or result.breached or result.escalations):
        logger.info("sla_scan", **summary)
    return summary


@shared_task(acks_late=True, ignore_result=True, max_retries=5, default_retry_delay=5)
def relay_sla_events_task(event_ids: list[int]) -> int:
    """Deliver warnings/breaches (board event, notifications, audit) not yet delivered."""
    from sla.services.outbox import relay_events

    return relay_events(event_ids=event_ids)


@shared_task(acks_late=True, ignore_result=True, max_retries=5, default_retry_delay=5)
def process_sla_escalations_task(
    escalation_ids: list[int], chunk_size: int = 100
) -> dict[str, int]:
    """Carry out queued escalation levels not yet processed."""
    from sla.services.escalations import process_escalations

    return process_escalations(escalation_ids=escalation_ids, chunk_size=chunk_size)


@shared_task(acks_late=True, ignore_result=True)
def recompute_project_sla_task(project_id: int) -> dict[str, int]:
    """After a policy or calendar change: apply it to the project's open tickets."""
    from django.utils import timezone

    from config.redis import redis_lock
    from sla.services.clocks import open_ticket_ids, recompute_tickets

    # Two edits in a row queue two runs; the lock keeps them from interleaving (both are correct).
    with redis_lock(f"sla-recompute:{project_id}", timeout=1800, blocking=True):
        return recompute_tickets(ticket_ids=open_ticket_ids(project_id), now=timezone.now())
