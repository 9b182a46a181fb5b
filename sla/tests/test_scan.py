"""The breach scan: marking, slots, the Redis lock, concurrency, and every task twice == once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection, connections

from config.redis import get_redis, redis_lock
from notifications.models import BoardEvent, Notification
from sla.models import SlaEscalation, SlaEvent, SlaScanRun, TicketSla
from sla.services.scan import LOCK_NAME, SCAN_SQL, run_scan, slot_for
from sla.tasks import (
    process_sla_escalations_task,
    recompute_project_sla_task,
    relay_sla_events_task,
    scan_sla_task,
)
from sla.tests.conftest import HOUR, MIN, kinds, move_at, reply_at, restart_at, state_of
from tickets.models import AuditLog

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def scan(now: datetime, **kwargs: Any) -> Any:
    kwargs.setdefault("use_lock", False)
    kwargs.setdefault("dispatch", False)
    return run_scan(now=now, **kwargs)


@pytest.mark.django_db
def test_a_pass_warns_then_breaches_then_queues_level_one(ticket_for):
    ticket = restart_at(ticket_for("critical"), T0).ticket
    assert scan(T0 + 23 * MIN).summary()["scanned"] == 0
    first = scan(T0 + 25 * MIN)
    assert (first.scanned, first.warned, first.breached, first.escalations) == (1, 1, 0, 0)
    assert state_of(ticket).next_check_at == T0 + 30 * MIN
    second = scan(T0 + 30 * MIN)
    assert (second.warned, second.breached, second.escalations) == (0, 1, 1)
    state = state_of(ticket)
    assert state.fr_breached_at == T0 + 30 * MIN
    assert state.fr_warned_at == T0 + 25 * MIN
    assert state.ever_breached is True
    assert state.fr_next_esc_at is None  # the processor schedules level 2
    assert state.next_check_at == T0 + 192 * MIN  # the resolution warning
    breach = SlaEvent.objects.get(ticket_id=ticket.pk, kind="breached")
    assert (breach.metric, breach.at, breach.delivered_at) == (
        "first_response",
        T0 + 30 * MIN,
        None,
    )
    assert breach.reason == "first response target of 30 business minutes passed"
    assert breach.data == {"due_at": "2026-03-02T08:30:00Z"}
    level = SlaEscalation.objects.get()
    assert (level.metric, level.level, level.role, level.due_at) == (
        "first_response",
        1,
        "agent",
        T0 + 30 * MIN,
    )


@pytest.mark.django_db
def test_a_late_scan_records_both_the_warning_and_the_breach_at_their_instants(ticket_for):
    ticket = restart_at(ticket_for("critical"), T0).ticket
    result = scan(T0 + 5 * HOUR)
    assert (result.warned, result.breached, result.escalations) == (2, 2, 2)
    at = dict(
        SlaEvent.objects.filter(ticket_id=ticket.pk, kind="breached").values_list("metric", "at")
    )
    assert at == {"first_response": T0 + 30 * MIN, "resolution": T0 + 4 * HOUR}
    assert state_of(ticket).next_check_at is None


@pytest.mark.django_db
def test_paused_met_and_archived_tickets_are_not_scanned(ticket_for, desk):
    from tickets.services.tickets import archive_ticket

    paused = restart_at(ticket_for("critical"), T0).ticket
    move_at(paused, "awaiting_customer", T0 + 10 * MIN)
    met = restart_at(ticket_for("critical"), T0).ticket
    reply_at(met, T0 + 10 * MIN)
    move_at(met, "resolved", T0 + 20 * MIN)
    archived = restart_at(ticket_for("critical"), T0).ticket
    archive_ticket(actor=desk["agent"], ticket_id=archived.pk)  # settles its overdue targets
    before = SlaEvent.objects.count()
    result = scan(T0 + 9 * HOUR)
    assert result.scanned == 0
    assert SlaEvent.objects.count() == before
    assert (
        SlaEvent.objects.filter(kind__in=["warned", "breached"])
        .exclude(ticket_id=archived.pk)
        .count()
        == 0
    )


@pytest.mark.django_db
def test_scanning_twice_at_the_same_instant_adds_nothing(ticket_for):
    for _ in range(3):
        restart_at(ticket_for("critical"), T0)
    assert scan(T0 + 5 * HOUR, slot=1).breached == 6
    again = scan(T0 + 5 * HOUR, slot=2)
    assert (again.scanned, again.warned, again.breached, again.escalations) == (0, 0, 0, 0)
    # Even a row forced back into the due set marks nothing twice: the unique keys hold.
    TicketSla.objects.update(
        next_check_at=T0,
        fr_warned_at=None,
        fr_breached_at=None,
        res_warned_at=None,
        res_breached_at=None,
        fr_next_esc_at=T0 + 30 * MIN,
        res_next_esc_at=T0 + 4 * HOUR,
    )
    forced = scan(T0 + 5 * HOUR, slot=3)
    assert (forced.scanned, forced.warned, forced.breached, forced.escalations) == (3, 0, 0, 0)
    assert SlaEvent.objects.filter(kind="breached").count() == 6
    assert SlaEscalation.objects.count() == 6


@pytest.mark.django_db
def test_a_slot_runs_once(ticket_for):
    restart_at(ticket_for("critical"), T0)
    assert scan(T0 + HOUR, slot=7).outcome == "done"
    assert scan(T0 + HOUR, slot=7).outcome == "duplicate_slot"
    assert SlaScanRun.objects.get(slot=7).breached == 1
    assert slot_for(datetime(2026, 1, 1, tzinfo=UTC)) == 1767225600 // 10


@pytest.mark.django_db
def test_a_held_lock_turns_the_scan_away_and_stays_its_owners(ticket_for):
    restart_at(ticket_for("critical"), T0)
    with redis_lock(LOCK_NAME, timeout=30) as acquired:
        assert acquired
        token = get_redis().get(f"lock:{LOCK_NAME}")
        result = run_scan(now=T0 + HOUR, dispatch=False)
        assert result.outcome == "locked"
        assert get_redis().get(f"lock:{LOCK_NAME}") == token
    assert get_redis().get(f"lock:{LOCK_NAME}") is None
    assert SlaEvent.objects.filter(kind="breached").count() == 0
    assert SlaScanRun.objects.count() == 0
    assert run_scan(now=T0 + HOUR, dispatch=False).outcome == "done"
    assert get_redis().get(f"lock:{LOCK_NAME}") is None


@pytest.mark.django_db
def test_the_scan_reads_due_rows_through_the_partial_index():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + SCAN_SQL, {"now": T0, "batch": 1000, "recorded": T0})
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "sla_state_next_check_idx" in plan


def _concurrently(n: int, fn: Any) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = fn(i)
        except Exception as exc:  # surfaced by the assertions below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def _seed_due(ticket_for: Any, n: int) -> None:
    for _ in range(n):
        restart_at(ticket_for("critical"), T0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("use_lock", [True, False], ids=["lock", "slot-key-only"])
def test_fifty_concurrent_scans_of_one_slot_do_the_work_once(ticket_for, use_lock):
    _seed_due(ticket_for, 12)
    results = _concurrently(
        50,
        lambda i: run_scan(now=T0 + 5 * HOUR, slot=42, use_lock=use_lock, dispatch=False).outcome,
    )
    assert results.count("done") == 1, results
    assert set(results) <= {"done", "locked", "duplicate_slot"}
    if not use_lock:
        assert results.count("duplicate_slot") == 49
    assert SlaScanRun.objects.count() == 1
    assert SlaEvent.objects.filter(kind="warned").count() == 24
    assert SlaEvent.objects.filter(kind="breached").count() == 24
    assert SlaEscalation.objects.count() == 24


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_scans_of_different_slots_without_the_lock_still_mark_once(ticket_for):
    _seed_due(ticket_for, 12)
    results = _concurrently(
        50, lambda i: run_scan(now=T0 + 5 * HOUR, slot=100 + i, use_lock=False, dispatch=False)
    )
    assert all(not isinstance(r, Exception) for r in results), results
    assert sum(r.breached for r in results) == 24
    assert sum(r.escalations for r in results) == 24
    assert SlaEvent.objects.filter(kind="breached").count() == 24
    assert SlaEscalation.objects.count() == 24


def _snapshot() -> dict[str, Any]:
    return {
        "states": sorted(
            tuple(sorted((k, str(v)) for k, v in row.items() if k != "updated_at"))
            for row in TicketSla.objects.values()
        ),
        "events": sorted(
            SlaEvent.objects.values_list("ticket_id", "kind", "metric", "cycle", "level")
        ),
        "delivered": SlaEvent.objects.filter(delivered_at__isnull=False).count(),
        "escalations": sorted(
            SlaEscalation.objects.values_list("ticket_id", "metric", "level", "outcome")
        ),
        "board": BoardEvent.objects.count(),
        "audit": AuditLog.objects.count(),
        "notifications": Notification.objects.count(),
    }


@pytest.mark.django_db
def test_every_sla_task_run_twice_leaves_the_state_of_once(ticket_for, desk):
    for _ in range(3):
        restart_at(ticket_for("critical"), T0)
    slot = slot_for(datetime.now(UTC))
    first = scan_sla_task(slot=slot)
    assert first["breached"] == 6
    once = _snapshot()
    assert scan_sla_task(slot=slot)["outcome"] == "duplicate_slot"
    assert scan_sla_task(slot=slot + 1)["breached"] == 0
    assert _snapshot() == once

    event_ids = list(
        SlaEvent.objects.filter(kind__in=["warned", "breached"]).values_list("pk", flat=True)
    )
    assert relay_sla_events_task(event_ids) == 12
    once = _snapshot()
    assert relay_sla_events_task(event_ids) == 0
    assert _snapshot() == once

    escalation_ids = list(SlaEscalation.objects.values_list("pk", flat=True))
    assert process_sla_escalations_task(escalation_ids) == {"escalated": 6, "skipped": 0}
    once = _snapshot()
    assert process_sla_escalations_task(escalation_ids) == {"escalated": 0, "skipped": 0}
    assert _snapshot() == once

    recompute_project_sla_task(desk["project"].pk)
    once = _snapshot()
    assert recompute_project_sla_task(desk["project"].pk) == {"checked": 3, "changed": 0}
    assert _snapshot() == once
    assert kinds(TicketSla.objects.first().ticket)[0] == ("started", "")  # type: ignore[union-attr]
