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

SLOT_SECONDS: int = getattr(settings, "SLA_SCAN_SLOT_SECONDS", 10)
LOCK_SECONDS: int = getattr(settings, "SLA_SCAN_LOCK_SECONDS", 60)
BATCH_SIZE: int = getattr(settings, "SLA_SCAN_BATCH_SIZE", 2000)
TIME_BUDGET_SECONDS: float = getattr(settings, "SLA_SCAN_TIME_BUDGET_SECONDS", 25.0)
SWEEP_AFTER = timedelta(minutes=2)
LOCK_NAME = "sla-scan"

_FR_RUN = (
    "t.paused_at IS NULL AND t.stopped_at IS NULL AND t.policy_id IS NOT NULL "
    "AND t.fr_met_at IS NULL AND t.fr_due_at IS NOT NULL"
)
_RES_RUN = _FR_RUN.replace("fr_", "res_")
_ISO = '\'YYYY-MM-DD"T"HH24:MI:SS"Z"\''

# Only module constants are interpolated; every value is a bound parameter.
SCAN_SQL = f"""
WITH f AS MATERIALIZED (
    SELECT s.*,
        (s.fr_run AND s.fr_warned_at IS NULL AND s.fr_warn_at <= %(now)s) AS fr_warn,
        (s.fr_run AND s.fr_breached_at IS NULL AND s.fr_due_at <= %(now)s) AS fr_breach,
        (s.fr_run AND s.fr_due_at <= %(now)s AND s.fr_next_esc_at <= %(now)s) AS fr_esc,
        (s.res_run AND s.res_warned_at IS NULL AND s.res_warn_at <= %(now)s) AS res_warn,
        (s.res_run AND s.res_breached_at IS NULL AND s.res_due_at <= %(now)s) AS res_breach,
        (s.res_run AND s.res_due_at <= %(now)s AND s.res_next_esc_at <= %(now)s) AS res_esc
    FROM (
        SELECT t.ticket_id, t.project_id, t.cycle, t.policy_id, t.policy_version,
            t.fr_warn_at, t.fr_due_at, t.fr_warned_at, t.fr_breached_at, t.fr_next_esc_at,
            t.fr_esc_level, t.fr_target_seconds,
            t.res_warn_at, t.res_due_at, t.res_warned_at, t.res_breached_at, t.res_next_esc_at,
            t.res_esc_level, t.res_target_seconds,
            ({_FR_RUN}) AS fr_run, ({_RES_RUN}) AS res_run
        FROM sla_ticketsla t
        WHERE t.next_check_at <= %(now)s
        ORDER BY t.next_check_at
        LIMIT %(batch)s
        FOR UPDATE SKIP LOCKED
    ) s
),
fired AS (
    SELECT ticket_id, project_id, cycle, policy_id, policy_version,
           'warned' AS kind, 'first_response' AS metric, fr_warn_at AS at, fr_due_at AS due,
           'first response near breach' AS reason
    FROM f WHERE fr_warn
    UNION ALL
    SELECT ticket_id, project_id, cycle, policy_id, policy_version,
           'breached', 'first_response', fr_due_at, fr_due_at,
           'first response target of ' || (fr_target_seconds / 60) || ' business minutes passed'
    FROM f WHERE fr_breach
    UNION ALL
    SELECT ticket_id, project_id, cycle, policy_id, policy_version,
           'warned', 'resolution', res_warn_at, res_due_at, 'resolution near breach'
    FROM f WHERE res_warn
    UNION ALL
    SELECT ticket_id, project_id, cycle, policy_id, policy_version,
           'breached', 'resolution', res_due_at, res_due_at,
           'resolution target of ' || (res_target_seconds / 60) || ' business minutes passed'
    FROM f WHERE res_breach
),
ev AS (
    INSERT INTO sla_slaevent (ticket_id, project_id, kind, metric, cycle, level, at, recorded_at,
                              reason, policy_id, policy_version, actor_id, data, delivered_at)
    SELECT ticket_id, project_id, kind, metric, cycle, NULL, at, %(recorded)s, reason, policy_id,
           policy_version, NULL,
           jsonb_build_object('due_at', to_char(due AT TIME ZONE 'UTC', {_ISO})), NULL
    FROM fired
    ON CONFLICT (ticket_id, metric, cycle, kind) WHERE kind IN ('warned', 'breached') DO NOTHING
    RETURNING id, kind
),
levels AS (
    SELECT ticket_id, project_id, cycle, policy_id, 'first_response' AS metric,
           fr_esc_level AS lvl, fr_next_esc_at AS at
    FROM f WHERE fr_esc
    UNION ALL
    SELECT ticket_id, project_id, cycle, policy_id, 'resolution', res_esc_level, res_next_esc_at
    FROM f WHERE res_esc
),
esc AS (
    INSERT INTO sla_slaescalation (ticket_id, project_id, metric, cycle, level, due_at, role,
                                   reassign, manual, actor_id, reason, created_at, processed_at,
                                   outcome, notified, reassigned_to_id)
    SELECT l.ticket_id, l.project_id, l.metric, l.cycle, l.lvl + 1, l.at,
           coalesce(p.escalation_chain -> l.lvl::int ->> 'role', 'admin'),
           coalesce((p.escalation_chain -> l.lvl::int ->> 'reassign')::boolean, false),
           false, NULL, 'automatic', %(recorded)s, NULL, '', '[]'::jsonb, NULL
    FROM levels l LEFT JOIN sla_slapolicy p ON p.id = l.policy_id
    ON CONFLICT (ticket_id, metric, cycle, level) DO NOTHING
    RETURNING id
),
upd AS (
    UPDATE sla_ticketsla t SET
        fr_warned_at = CASE WHEN f.fr_warn THEN %(now)s ELSE t.fr_warned_at END,
        fr_breached_at = CASE WHEN f.fr_breach THEN f.fr_due_at ELSE t.fr_breached_at END,
        fr_next_esc_at = CASE WHEN f.fr_esc THEN NULL ELSE t.fr_next_esc_at END,
        res_warned_at = CASE WHEN f.res_warn THEN %(now)s ELSE t.res_warned_at END,
        res_breached_at = CASE WHEN f.res_breach THEN f.res_due_at ELSE t.res_breached_at END,
        res_next_esc_at = CASE WHEN f.res_esc THEN NULL ELSE t.res_next_esc_at END,
        ever_breached = t.ever_breached OR f.fr_breach OR f.res_breach,
        next_check_at = LEAST(
            CASE WHEN f.fr_run AND f.fr_warned_at IS NULL AND NOT f.fr_warn THEN f.fr_warn_at END,
            CASE WHEN f.fr_run AND f.fr_breached_at IS NULL AND NOT f.fr_breach THEN f.fr_due_at END,
            CASE WHEN f.fr_run AND NOT f.fr_esc THEN f.fr_next_esc_at END,
            CASE WHEN f.res_run AND f.res_warned_at IS NULL AND NOT f.res_warn THEN f.res_warn_at END,
            CASE WHEN f.res_run AND f.res_breached_at IS NULL AND NOT f.res_breach THEN f.res_due_at END,
            CASE WHEN f.res_run AND NOT f.res_esc THEN f.res_next_esc_at END
        ),
        updated_at = %(recorded)s
    FROM f WHERE t.ticket_id = f.ticket_id
    RETURNING 1
)
SELECT
    -- The marking need not wait for its WAL flush: see mark_due_batch.
    set_config('synchronous_commit', 'off', true),
    (SELECT count(*) FROM upd),
    (SELECT count(*) FROM ev WHERE kind = 'warned'),
    (SELECT count(*) FROM ev WHERE kind = 'breached'),
    (SELECT coalesce(array_agg(id), '{{}}') FROM ev),
    (SELECT coalesce(array_agg(id), '{{}}') FROM esc)
"""  # noqa: S608


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
        cursor.execute(
            "INSERT INTO sla_slascanrun (slot, started_at, scanned, warned, breached, escalations,"
            " batches) SELECT %s, %s, 0, 0, 0, 0, 0"
            " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS cfg"
            " ON CONFLICT (slot) DO NOTHING RETURNING id",
            [slot, started],
        )
        return cursor.fetchone() is not None


def _record_run(result: ScanResult) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sla_slascanrun SET finished_at = %s, scanned = %s, warned = %s, breached = %s,"
            " escalations = %s, batches = %s WHERE slot = %s",
            [
                timezone.now(),
                result.scanned,
                result.warned,
                result.breached,
                result.escalations,
                result.batches,
                result.slot,
            ],
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
