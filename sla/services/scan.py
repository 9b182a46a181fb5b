"""The breach scan: find what fell due, mark it, queue its delivery and escalations.

One pass: take the Redis lock (token + expiry, released only by its owner), claim the scan slot
(a unique row: a second invocation for the slot is a no-op even if the lock failed), then mark
due rows in batches. A batch is ONE statement: it reads `next_check_at <= now` through the
partial index with FOR UPDATE SKIP LOCKED, inserts warnings/breaches (unique per ticket, metric,
cycle and kind) and escalation levels (unique per ticket, metric, cycle and level) with
ON CONFLICT DO NOTHING, and moves each row's `next_check_at` on. So a pass costs what the due rows
cost, however many tickets are open. Delivery (board events, notifications) and escalation
processing run in their own tasks, from the rows written here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from config.redis import redis_lock
from sla import sql
from sla.models import SlaScanRun

SLOT_SECONDS: int = getattr(settings, "SLA_SCAN_SLOT_SECONDS", 10)
LOCK_SECONDS: int = getattr(settings, "SLA_SCAN_LOCK_SECONDS", 60)
BATCH_SIZE: int = getattr(settings, "SLA_SCAN_BATCH_SIZE", 2000)
TIME_BUDGET_SECONDS: float = getattr(settings, "SLA_SCAN_TIME_BUDGET_SECONDS", 25.0)
SWEEP_AFTER = timedelta(minutes=2)
LOCK_NAME = "sla-scan"

# The marking statement (sla/sql.py); the name stays for tests and the benchmark.
SCAN_SQL = sql.SCAN


@dataclass
class ScanResult:
    """What one scan invocation did: `outcome` is done, locked or duplicate_slot."""

    outcome: str
    slot: int
    scanned: int = 0
    warned: int = 0
    breached: int = 0
    escalations: int = 0
    batches: int = 0
    event_ids: list[int] = field(default_factory=list)
    escalation_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "slot": self.slot,
            "scanned": self.scanned,
            "warned": self.warned,
            "breached": self.breached,
            "escalations": self.escalations,
            "batches": self.batches,
            "seconds": round(self.seconds, 4),
        }


def slot_for(now: datetime) -> int:
    """The scan slot of an instant (invocations less than SLOT_SECONDS apart share one)."""
    return int(now.timestamp()) // SLOT_SECONDS


def mark_due_batch(
    *, now: datetime, batch_size: int = BATCH_SIZE
) -> tuple[int, int, int, list[int], list[int]]:
    """One batch of marking in the caller's transaction: (rows, warned, breached, event ids, escalation ids)."""
    with connection.cursor() as cursor:
        # Losing this commit in a server crash only means the next scan marks the same rows
        # again (they are still due), so the statement turns synchronous_commit off for its
        # transaction (set_config(..., true) = SET LOCAL, without a round trip of its own).
        cursor.execute(SCAN_SQL, {"now": now, "batch": batch_size, "recorded": timezone.now()})
        _, rows, warned, breached, events, escalations = cursor.fetchone()
    return int(rows), int(warned), int(breached), list(events), list(escalations)


def _claim_slot(slot: int, started: datetime) -> bool:
    """Claim the slot in the caller's transaction (the first batch's): True when it is ours.

    A twin invocation's insert waits on ours and then finds the slot taken; if our transaction
    rolls back, the twin gets the slot. Its commit need not wait for the WAL flush either: a
    claim lost in a server crash lets the slot run again, which marks nothing twice.
    """
    with connection.cursor() as cursor:
        cursor.execute(sql.CLAIM_SLOT, [slot, started])
        return cursor.fetchone() is not None


def _record_run(result: ScanResult) -> None:
    SlaScanRun.objects.filter(slot=result.slot).update(
        finished_at=timezone.now(),
        scanned=result.scanned,
        warned=result.warned,
        breached=result.breached,
        escalations=result.escalations,
        batches=result.batches,
    )


def run_scan(
    *,
    now: datetime | None = None,
    slot: int | None = None,
    use_lock: bool = True,
    dispatch: bool = True,
    batch_size: int = BATCH_SIZE,
    time_budget: float = TIME_BUDGET_SECONDS,
) -> ScanResult:
    """One scan pass for a slot; with `dispatch`, delivery and escalations are queued as tasks."""
    now = now or timezone.now()
    slot = slot_for(now) if slot is None else slot
    if not use_lock:
        return _scan(now, slot, dispatch, batch_size, time_budget)
    with redis_lock(LOCK_NAME, timeout=LOCK_SECONDS) as acquired:
        if not acquired:
            return ScanResult(outcome="locked", slot=slot)
        return _scan(now, slot, dispatch, batch_size, time_budget)


def _scan(now: datetime, slot: int, dispatch: bool, batch_size: int, budget: float) -> ScanResult:
    from sla.tasks import process_sla_escalations_task, relay_sla_events_task

    started = time.monotonic()
    result = ScanResult(outcome="done", slot=slot)
    # One transaction per batch; the first also claims the slot and the last records the run,
    # so a pass with one batch (the usual case) is one transaction and one commit.
    while True:
        with transaction.atomic():
            if result.batches == 0 and not _claim_slot(slot, timezone.now()):
                return ScanResult(outcome="duplicate_slot", slot=slot)
            rows, warned, breached, events, escalations = mark_due_batch(
                now=now, batch_size=batch_size
            )
            if dispatch and events:
                relay_sla_events_task.delay_on_commit(events)
            if dispatch and escalations:
                for i in range(0, len(escalations), 500):
                    process_sla_escalations_task.delay_on_commit(escalations[i : i + 500])
            result.batches += 1
            result.scanned += rows
            result.warned += warned
            result.breached += breached
            result.escalations += len(escalations)
            result.event_ids += events
            result.escalation_ids += escalations
            last = rows < batch_size or time.monotonic() - started > budget
            if last:
                _record_run(result)
        if last:
            break
    if dispatch:
        _sweep()
    result.seconds = time.monotonic() - started
    return result


def _sweep() -> None:
    """Re-queue deliveries and escalations whose task was lost (both are idempotent)."""
    from sla.services.escalations import pending_escalation_ids
    from sla.services.outbox import undelivered_event_ids
    from sla.tasks import process_sla_escalations_task, relay_sla_events_task

    older_than = timezone.now() - SWEEP_AFTER
    events = undelivered_event_ids(older_than=older_than)
    for i in range(0, len(events), 500):
        relay_sla_events_task.delay(events[i : i + 500])
    escalations = pending_escalation_ids(older_than=older_than)
    for i in range(0, len(escalations), 500):
        process_sla_escalations_task.delay(escalations[i : i + 500])
