"""The per-ticket clock: start, pause/resume, meet, reopen, re-target, archive (sla.services.clocks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import BoardEvent
from sla.models import SlaEscalation, SlaEvent
from sla.services import create_calendar, update_policy
from sla.tests.conftest import (
    HOUR,
    MIN,
    created,
    kinds,
    move_at,
    reply_at,
    restart_at,
    set_priority_at,
    state_of,
)
from tickets.models import AuditLog
from tickets.services.conversation import add_message
from tickets.services.moves import move_ticket
from tickets.services.tickets import archive_ticket, update_ticket

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday


def test_a_new_ticket_starts_both_clocks_with_its_priority_targets(ticket_for, desk):
    ticket = ticket_for("critical")
    state = state_of(ticket)
    start = created(ticket)
    assert state.policy is not None and state.policy.priority == "critical"
    assert state.fr_due_at == (start + 30 * MIN).replace(microsecond=0)
    # Near breach once less than 20% of 30 minutes is left: after 24 minutes.
    assert state.fr_warn_at == (start + 24 * MIN).replace(microsecond=0)
    assert state.res_due_at == (start + 4 * HOUR).replace(microsecond=0)
    assert state.res_warn_at == (start + 192 * MIN).replace(microsecond=0)
    assert state.fr_next_esc_at == state.fr_due_at  # level 1 fires at the breach
    assert state.next_check_at == state.fr_warn_at
    assert state.next_due_at == state.fr_due_at
    assert kinds(ticket) == [("started", "")]
    event = SlaEvent.objects.get(ticket_id=ticket.pk)
    assert event.reason == "ticket created with priority critical"
    assert event.policy_version == 1


@pytest.mark.parametrize(
    ("priority", "first", "resolution"),
    [("low", 24 * 60, 72 * 60), ("medium", 8 * 60, 48 * 60), ("high", 120, 24 * 60)],
)
def test_default_targets_per_priority(ticket_for, priority, first, resolution):
    state = restart_at(ticket_for(priority), T0)
    assert state.fr_due_at == T0 + timedelta(minutes=first)
    assert state.res_due_at == T0 + timedelta(minutes=resolution)


def test_a_business_calendar_counts_only_open_hours_across_a_weekend_and_holiday(ticket_for, desk):
    calendar = create_calendar(
        actor=None,
        name="Berlin office",
        timezone="Europe/Berlin",
        windows=[
            *({"weekday": d, "start": "09:00", "end": "12:00"} for d in range(5)),
            *({"weekday": d, "start": "13:00", "end": "17:00"} for d in range(5)),
        ],
        holidays=["2026-03-09"],
    )
    policy = desk["project"].sla_policies.get(priority="high")
    update_policy(actor=None, policy=policy, calendar=calendar)
    ticket = ticket_for("high")
    # Friday 2026-03-06 16:30 Berlin (15:30 UTC): 30 min on Friday, Monday is a holiday,
    # Tuesday 09:00-10:30 gives the other 90 minutes of the 2 h target.
    state = restart_at(ticket, datetime(2026, 3, 6, 15, 30, tzinfo=UTC))
    assert state.fr_due_at == datetime(2026, 3, 10, 9, 30, tzinfo=UTC)  # Tue 10:30 Berlin
    # 24 business hours: Fri 0.5 + Tue 7 + Wed 7 + Thu 7 = 21.5, then 2.5 on Friday morning.
    assert state.res_due_at == datetime(2026, 3, 13, 10, 30, tzinfo=UTC)  # Fri 11:30 Berlin


def test_pause_and_resume_add_the_paused_business_time(ticket_for):
    ticket = restart_at(ticket_for("critical"), T0).ticket
    move_at(ticket, "awaiting_customer", T0 + 10 * MIN)
    paused = state_of(ticket)
    assert paused.paused_at == T0 + 10 * MIN
    assert paused.next_check_at is None and paused.next_due_at is None
    move_at(ticket, "in_progress", T0 + 70 * MIN)
    state = state_of(ticket)
    assert state.paused_at is None
    assert state.fr_paused_seconds == 3600
    assert state.fr_due_at == T0 + 90 * MIN
    assert state.fr_warn_at == T0 + 84 * MIN
    assert state.res_due_at == T0 + 5 * HOUR
    assert state.next_check_at == T0 + 84 * MIN
    assert kinds(ticket) == [("started", ""), ("paused", ""), ("resumed", "")]
    resumed = SlaEvent.objects.get(ticket_id=ticket.pk, kind="resumed")
    assert resumed.data["paused_seconds"] == 3600
    assert resumed.reason == "status in_progress; 3600 business seconds paused added"


def test_moving_between_two_pausing_statuses_keeps_one_pause(ticket_for):
    ticket = restart_at(ticket_for("critical"), T0).ticket
    move_at(ticket, "awaiting_customer", T0 + 5 * MIN)
    move_at(ticket, "awaiting_third_party", T0 + 6 * MIN)
    assert state_of(ticket).paused_at == T0 + 5 * MIN
    assert kinds(ticket) == [("started", ""), ("paused", "")]


def test_a_pause_after_the_due_instant_first_records_the_breach(ticket_for):
    ticket = restart_at(ticket_for("critical"), T0).ticket
    move_at(ticket, "awaiting_customer", T0 + 40 * MIN)  # no scan ran in between
    state = state_of(ticket)
    assert state.fr_breached_at == T0 + 30 * MIN
    assert state.ever_breached is True
    assert kinds(ticket) == [
        ("started", ""),
        ("warned", "first_response"),
        ("breached", "first_response"),
        ("paused", ""),
    ]
    # Delivered in the same transaction: board events, and an audit row for the breach.
    assert SlaEvent.objects.filter(ticket_id=ticket.pk, delivered_at__isnull=True).count() == 0
    types = list(BoardEvent.objects.filter(ticket_id=ticket.pk).values_list("type", flat=True))
    assert types[-2:] == ["sla.warning", "sla.breached"]
    assert AuditLog.objects.filter(ticket_id=ticket.pk, action="ticket.sla_breached").count() == 1
    # Level 1 of the chain fell due with the breach: queued, not yet processed.
    assert list(SlaEscalation.objects.values_list("metric", "level", "processed_at")) == [
        ("first_response", 1, None)
    ]


def test_first_response_on_time_is_met_and_cancels_the_chain(ticket_for):
    ticket = restart_at(ticket_for("critical"), T0).ticket
    reply_at(ticket, T0 + 20 * MIN)
    state = state_of(ticket)
    assert state.fr_met_at == T0 + 20 * MIN
    assert state.fr_next_esc_at is None
    assert state.next_check_at == state.res_warn_at
    met = SlaEvent.objects.get(ticket_id=ticket.pk, kind="met")
    assert (met.metric, met.data["on_time"]) == ("first_response", True)


def test_a_late_first_response_records_the_breach_then_met_late(ticket_for):
    ticket = restart_at(ticket_for("critical"), T0).ticket
    reply_at(ticket, T0 + 45 * MIN)
    state = state_of(ticket)
    assert (state.fr_breached_at, state.fr_met_at) == (T0 + 30 * MIN, T0 + 45 * MIN)
    assert kinds(ticket)[-3:] == [
        ("warned", "first_response"),
        ("breached", "first_response"),
        ("met", "first_response"),
    ]
    assert SlaEvent.objects.get(ticket_id=ticket.pk, kind="met").reason == (
        "first response met late: first public reply"
    )
    # Met before anyone processed level 1: it is cancelled, never carried out.
    assert list(SlaEscalation.objects.values_list("outcome", flat=True)) == ["cancelled"]


def test_resolving_meets_the_targets_and_reopening_restarts_the_resolution_clock(ticket_for):
    ticket = restart_at(ticket_for("critical"), T0).ticket
    reply_at(ticket, T0 + 10 * MIN)
    move_at(ticket, "resolved", T0 + HOUR)
    state = state_of(ticket)
    assert state.res_met_at == T0 + HOUR
    assert state.next_check_at is None and state.next_due_at is None
    move_at(ticket, "open", T0 + 2 * HOUR)
    state = state_of(ticket)
    assert state.cycle == 2
    assert (state.res_started_at, state.res_met_at) == (T0 + 2 * HOUR, None)
    assert state.res_due_at == T0 + 6 * HOUR
    assert state.fr_met_at == T0 + 10 * MIN  # the first response stays met
    assert kinds(ticket)[-2:] == [("met", "resolution"), ("restarted", "resolution")]
    assert SlaEvent.objects.get(ticket_id=ticket.pk, kind="restarted").cycle == 2


def test_resolving_without_a_reply_stops_the_first_response_clock_too(ticket_for):
    ticket = restart_at(ticket_for("critical"), T0).ticket
    move_at(ticket, "done", T0 + 5 * MIN)
    state = state_of(ticket)
    assert state.fr_met_at == state.res_met_at == T0 + 5 * MIN
    assert state.next_check_at is None


def test_a_priority_change_retargets_from_the_original_start(ticket_for):
    ticket = restart_at(ticket_for("critical"), T0).ticket
    set_priority_at(ticket, "low", T0 + 10 * MIN)
    state = state_of(ticket)
    assert state.policy is not None and state.policy.priority == "low"
    assert state.fr_due_at == T0 + 24 * HOUR
    assert state.res_due_at == T0 + 72 * HOUR
    event = SlaEvent.objects.get(ticket_id=ticket.pk, kind="retargeted")
    assert event.reason == "priority changed from critical to low"
    assert event.data["before"]["first_response"] == "2026-03-02T08:30:00Z"
    assert event.data["after"]["first_response"] == "2026-03-03T08:00:00Z"


def test_raising_the_priority_past_its_target_breaches_at_once(ticket_for):
    ticket = restart_at(ticket_for("low"), T0).ticket
    set_priority_at(ticket, "critical", T0 + 45 * MIN)
    state = state_of(ticket)
    assert state.fr_breached_at == T0 + 30 * MIN
    assert [k for k, _ in kinds(ticket)] == ["started", "warned", "breached", "retargeted"]


def test_archiving_stops_the_clocks_and_cancels_queued_levels(ticket_for, desk):
    ticket = restart_at(ticket_for("critical"), T0).ticket
    move_at(ticket, "awaiting_customer", T0 + 31 * MIN)  # records breach, queues level 1
    archive_ticket(actor=desk["agent"], ticket_id=ticket.pk)
    state = state_of(ticket)
    assert state.stopped_at is not None and state.paused_at is None
    assert state.next_check_at is None and state.next_due_at is None
    assert list(SlaEscalation.objects.values_list("outcome", flat=True)) == ["cancelled"]
    assert kinds(ticket)[-1] == ("stopped", "")


def test_the_ticket_services_drive_the_hooks(ticket_for, desk):
    ticket = ticket_for("high")
    update_ticket(actor=desk["agent"], ticket_id=ticket.pk, changes={"priority": "critical"})
    assert state_of(ticket).policy_id == desk["project"].sla_policies.get(priority="critical").pk
    move_ticket(actor=desk["agent"], ticket_id=ticket.pk, status_key="awaiting_customer")
    assert state_of(ticket).paused_at is not None
    move_ticket(actor=desk["agent"], ticket_id=ticket.pk, status_key="in_progress")
    assert state_of(ticket).paused_at is None
    add_message(actor=desk["agent"], ticket_id=ticket.pk, body="internal", internal=True)
    assert state_of(ticket).fr_met_at is None  # an internal note is no response
    add_message(actor=desk["agent"], ticket_id=ticket.pk, body="On it.")
    assert state_of(ticket).fr_met_at is not None
    assert [k for k, _ in kinds(ticket)] == [
        "started",
        "retargeted",
        "paused",
        "resumed",
        "met",
    ]


@pytest.mark.parametrize("target", ["awaiting_customer", "resolved", "in_progress"])
def test_a_move_still_writes_exactly_one_ticket_row(ticket_for, desk, target):
    ticket = ticket_for("critical")
    with CaptureQueriesContext(connection) as queries:
        move_ticket(actor=desk["agent"], ticket_id=ticket.pk, status_key=target)
    updates = [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().startswith(('UPDATE "tickets_ticket"', "UPDATE tickets_ticket "))
    ]
    assert len(updates) == 1
