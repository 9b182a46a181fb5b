"""SLA reads: the `sla` object, the state filter (SQL agrees with Python), ordering, stats."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla.models import TicketSla
from sla.selectors import (
    NO_DUE,
    SLA_STATES,
    annotate_sla_due,
    filter_sla_state,
    order_by_sla_due,
    sla_object,
    sla_stats,
    state_of,
    with_sla,
)
from sla.services.scan import run_scan
from sla.tests.conftest import HOUR, MIN, move_at, reply_at, restart_at
from tickets.models import Ticket
from tickets.services.tickets import archive_ticket

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
NOW = T0 + 25 * MIN


@pytest.fixture
def zoo(ticket_for, desk):
    """One ticket per state at NOW (T0 + 25 min)."""
    on_track = restart_at(ticket_for("low"), T0).ticket
    near = restart_at(ticket_for("critical"), T0).ticket  # fr warns at 24 min
    breached = restart_at(ticket_for("critical"), T0 - HOUR).ticket
    paused = restart_at(ticket_for("critical"), T0).ticket
    move_at(paused, "awaiting_customer", T0 + 5 * MIN)
    met = restart_at(ticket_for("critical"), T0).ticket
    reply_at(met, T0 + 5 * MIN)
    move_at(met, "resolved", T0 + 10 * MIN)
    archived = ticket_for("critical")
    archive_ticket(actor=desk["agent"], ticket_id=archived.pk)
    no_policy = restart_at(ticket_for("high"), T0).ticket
    TicketSla.objects.filter(ticket_id=no_policy.pk).update(
        policy=None, next_check_at=None, next_due_at=None
    )
    missing = ticket_for("high")
    TicketSla.objects.filter(ticket_id=missing.pk).delete()
    return {
        "on_track": [on_track],
        "near_breach": [near],
        "breached": [breached],
        "paused": [paused],
        "met": [met],
        "no_sla": [archived, no_policy, missing],
    }


def test_every_state_and_the_sql_filter_agrees_with_python(zoo):
    tickets = list(with_sla(Ticket.objects.all()))
    by_python = {t.pk: state_of(t, getattr(t, "sla_state", None), now=NOW) for t in tickets}
    for state, expected in zoo.items():
        assert {pk for pk, s in by_python.items() if s == state} == {t.pk for t in expected}, state
        by_sql = filter_sla_state(Ticket.objects.all(), [state], now=NOW)
        assert set(by_sql.values_list("pk", flat=True)) == {t.pk for t in expected}, state
    assert filter_sla_state(Ticket.objects.all(), list(SLA_STATES), now=NOW).count() == 8
    assert filter_sla_state(Ticket.objects.all(), ["nonsense"], now=NOW).count() == 0
    both = filter_sla_state(Ticket.objects.all(), ["paused", "met"], now=NOW)
    assert set(both.values_list("pk", flat=True)) == {zoo["paused"][0].pk, zoo["met"][0].pk}


def test_a_recorded_breach_keeps_the_state_breached_after_the_metric_is_met(ticket_for):
    ticket = restart_at(ticket_for("critical"), T0).ticket
    reply_at(ticket, T0 + 40 * MIN)  # late
    ticket = with_sla(Ticket.objects.filter(pk=ticket.pk)).get()
    assert sla_object(ticket, now=T0 + 41 * MIN)["state"] == "breached"
    # Reopened, the new resolution cycle is what counts; the late reply stays in `breached`.
    move_at(ticket, "resolved", T0 + HOUR)
    move_at(ticket, "open", T0 + 2 * HOUR)
    ticket = with_sla(Ticket.objects.filter(pk=ticket.pk)).get()
    obj = sla_object(ticket, now=T0 + 2 * HOUR)
    assert (obj["state"], obj["breached"]) == ("on_track", True)


def test_the_sla_object(zoo, desk):
    paused = with_sla(Ticket.objects.filter(pk=zoo["paused"][0].pk)).get()
    policy = desk["project"].sla_policies.get(priority="critical")
    assert sla_object(paused, now=NOW) == {
        "policy": policy.pk,
        "state": "paused",
        "first_response_due_at": "2026-03-02T08:30:00Z",
        "resolution_due_at": "2026-03-02T12:00:00Z",
        "paused": True,
        "escalation_level": 0,
        "breached": False,
    }
    missing = with_sla(Ticket.objects.filter(pk=zoo["no_sla"][2].pk)).get()
    assert sla_object(missing, now=NOW) == {
        "policy": None,
        "state": "no_sla",
        "first_response_due_at": None,
        "resolution_due_at": None,
        "paused": False,
        "escalation_level": 0,
        "breached": False,
    }


def test_a_list_reads_every_sla_object_in_one_query(zoo):
    with CaptureQueriesContext(connection) as queries:
        objects = [sla_object(t, now=NOW) for t in with_sla(Ticket.objects.all())]
    assert len(objects) == 8
    assert len(queries) == 1


def test_ordering_by_the_running_due_instant(zoo):
    ids = list(
        order_by_sla_due(Ticket.objects.all(), descending=False).values_list("pk", flat=True)
    )
    first = [zoo["breached"][0].pk, zoo["near_breach"][0].pk, zoo["on_track"][0].pk]
    assert ids[:3] == first
    assert set(ids[3:]) == {t.pk for s in ("paused", "met", "no_sla") for t in zoo[s]}
    assert ids[3:] == sorted(ids[3:])  # no running due: last, by id
    desc = list(
        order_by_sla_due(Ticket.objects.all(), descending=True).values_list("pk", flat=True)
    )
    assert desc[:3] == first[::-1]


def test_the_cursor_friendly_due_annotation_is_never_null(zoo):
    annotated: Any = annotate_sla_due(Ticket.objects.all())  # the annotation is dynamic
    rows = list(annotated.order_by("sla_due_sort", "id").values_list("pk", "sla_due_sort"))
    assert [pk for pk, _ in rows[:3]] == [
        zoo["breached"][0].pk,
        zoo["near_breach"][0].pk,
        zoo["on_track"][0].pk,
    ]
    assert rows[0][1] == T0 - 30 * MIN
    assert {due for _, due in rows[3:]} == {NO_DUE}


def test_stats_by_aggregation(zoo):
    run_scan(now=NOW, use_lock=False, dispatch=False)  # records the breach
    with CaptureQueriesContext(connection) as queries:
        stats = sla_stats(Ticket.objects.all(), now=NOW)
    assert len(queries) == 1
    assert stats == {
        "on_track": 1,
        "near_breach": 1,
        "breached": 1,
        "paused": 1,
        # First response: met on time (1) vs breached (1); resolution: met (1) vs breached (0).
        "first_response_met_pct": 50.0,
        "resolution_met_pct": 100.0,
    }
    assert sla_stats(Ticket.objects.none(), now=NOW)["first_response_met_pct"] is None
