"""Escalation chains: levels in business time, reassignment, acknowledgement, manual escalation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from notifications.models import BoardEvent
from sla.models import SlaEscalation, SlaEvent
from sla.services import process_escalations, update_policy
from sla.services.escalations import members_with_exact_role
from sla.services.scan import run_scan
from sla.tests.conftest import HOUR, MIN, kinds, reply_at, restart_at, state_of
from tests_support.factories import make_ticket, make_user
from tickets.models import AuditLog, Ticket, Watcher
from tickets.services.tickets import acknowledge_ticket, escalate_ticket

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def tick(now: datetime) -> dict[str, Any]:
    """One scan at `now`, then process what it queued, as the tasks would."""
    result = run_scan(now=now, use_lock=False, dispatch=False)
    processed = process_escalations(escalation_ids=result.escalation_ids, now=now)
    return {"queued": result.escalations, **processed}


def test_the_default_chain_climbs_agent_lead_manager_in_business_time(ticket_for, desk):
    ticket = restart_at(ticket_for("critical"), T0).ticket
    reply_at(ticket, T0 + 5 * MIN)  # only the resolution target is left: due at T0 + 4 h
    assert tick(T0 + 4 * HOUR) == {"queued": 1, "escalated": 1, "skipped": 0}
    assert state_of(ticket).res_next_esc_at == T0 + 4 * HOUR + 15 * MIN
    assert tick(T0 + 4 * HOUR + 14 * MIN)["queued"] == 0
    assert tick(T0 + 4 * HOUR + 15 * MIN) == {"queued": 1, "escalated": 1, "skipped": 0}
    assert tick(T0 + 4 * HOUR + 30 * MIN) == {"queued": 1, "escalated": 1, "skipped": 0}
    assert tick(T0 + 9 * HOUR)["queued"] == 0  # the chain has three levels
    rows = list(
        SlaEscalation.objects.order_by("level").values_list("metric", "level", "role", "notified")
    )
    assert rows == [
        ("resolution", 1, "agent", [desk["agent"].pk]),
        ("resolution", 2, "lead", [desk["lead"].pk]),
        ("resolution", 3, "manager", [desk["manager"].pk]),
    ]
    ticket.refresh_from_db()
    assert ticket.escalation_level == 3
    assert state_of(ticket).res_esc_level == 3
    assert state_of(ticket).next_check_at is None
    audit = AuditLog.objects.filter(ticket_id=ticket.pk, action="ticket.escalated")
    assert [a.payload["new"]["level"] for a in audit] == [1, 2, 3]
    events = BoardEvent.objects.filter(ticket_id=ticket.pk, type="sla.escalated").order_by("seq")
    assert [(e.data["level"], e.data["role"]) for e in events] == [
        (1, "agent"),
        (2, "lead"),
        (3, "manager"),
    ]
    escalated = SlaEvent.objects.filter(ticket_id=ticket.pk, kind="escalated").order_by("level")
    assert [e.reason for e in escalated] == [
        "level 1 (agent) for the resolution target",
        "level 2 (lead) for the resolution target",
        "level 3 (manager) for the resolution target",
    ]


def test_a_reassigning_level_picks_the_least_loaded_member_of_the_role(desk):
    project = desk["project"]
    busy = make_user("busy", project=project, role="agent")
    idle = make_user("idle", project=project, role="agent")
    for _ in range(2):
        make_ticket(project, desk["lead"], assignee=busy)
    make_ticket(project, desk["lead"], assignee=desk["agent"])
    policy = project.sla_policies.get(priority="critical")
    update_policy(
        actor=None,
        policy=policy,
        escalation_chain=[{"after_minutes": 0, "role": "agent", "reassign": True}],
    )
    ticket = make_ticket(project, desk["lead"], priority="critical", assignee=busy)
    restart_at(ticket, T0)
    tick(T0 + 31 * MIN)
    ticket.refresh_from_db()
    assert ticket.assignee == idle
    assert Watcher.objects.filter(ticket=ticket, user=idle).exists()
    level = SlaEscalation.objects.get(ticket_id=ticket.pk)
    assert level.reassigned_to == idle
    assert sorted(level.notified) == sorted([desk["agent"].pk, busy.pk, idle.pk])
    audit = AuditLog.objects.get(ticket_id=ticket.pk, action="ticket.escalated")
    assert (audit.payload["old"]["assignee"], audit.payload["new"]["assignee"]) == ("busy", "idle")


def test_members_with_exact_role_ignore_higher_roles_and_inactive_users(desk):
    make_user("gone", project=desk["project"], role="lead", is_active=False)
    assert members_with_exact_role(desk["project"], "lead") == [desk["lead"]]


def test_acknowledging_stops_the_chain_at_its_level(ticket_for, desk):
    ticket = restart_at(ticket_for("critical"), T0).ticket
    reply_at(ticket, T0 + 5 * MIN)
    tick(T0 + 4 * HOUR)
    acknowledge_ticket(actor=desk["agent"], ticket_id=ticket.pk)
    state = state_of(ticket)
    assert state.res_next_esc_at is None and state.acknowledged_at is not None
    assert tick(T0 + 9 * HOUR)["queued"] == 0
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1
    assert kinds(ticket)[-1] == ("acknowledged", "")
    assert BoardEvent.objects.filter(ticket_id=ticket.pk).latest("seq").type == "sla.acknowledged"


def test_acknowledging_cancels_a_queued_level(ticket_for, desk):
    ticket = restart_at(ticket_for("critical"), T0).ticket
    run_scan(now=T0 + 31 * MIN, use_lock=False, dispatch=False)
    acknowledge_ticket(actor=desk["agent"], ticket_id=ticket.pk)
    queued = SlaEscalation.objects.get()
    assert queued.outcome == "cancelled"
    assert process_escalations(escalation_ids=[queued.pk]) == {"escalated": 0, "skipped": 0}


def test_manual_escalation_jumps_one_level_and_takes_over_a_queued_one(ticket_for, desk):
    ticket = restart_at(ticket_for("critical"), T0).ticket
    run_scan(now=T0 + 31 * MIN, use_lock=False, dispatch=False)  # level 1 queued, unprocessed
    escalate_ticket(actor=desk["lead"], ticket_id=ticket.pk, reason="VIP customer")
    row = SlaEscalation.objects.get()
    assert (row.level, row.manual, row.actor, row.reason, row.outcome) == (
        1,
        True,
        desk["lead"],
        "VIP customer",
        "escalated",
    )
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1
    # The queued task finds it done: level 1 happens once.
    assert process_escalations(escalation_ids=[row.pk]) == {"escalated": 0, "skipped": 0}
    assert AuditLog.objects.filter(ticket_id=ticket.pk, action="ticket.escalated").count() == 1
    # The chain goes on from the manual step: level 2 a step (15 business minutes) after it.
    assert state_of(ticket).fr_next_esc_at is not None
    escalate_ticket(actor=desk["lead"], ticket_id=ticket.pk, reason="still nothing")
    ticket.refresh_from_db()
    assert ticket.escalation_level == 2
    assert SlaEscalation.objects.get(level=2).role == "lead"


def test_manual_escalation_before_any_breach_and_past_the_chain(ticket_for, desk):
    ticket = ticket_for("critical")
    for _ in range(4):
        escalate_ticket(actor=desk["lead"], ticket_id=ticket.pk, reason="by hand")
    rows = list(SlaEscalation.objects.order_by("level").values_list("metric", "level", "role"))
    assert rows == [
        ("resolution", 1, "agent"),
        ("resolution", 2, "lead"),
        ("resolution", 3, "manager"),
        ("resolution", 4, "admin"),
    ]
    assert Ticket.objects.get(pk=ticket.pk).escalation_level == 4
    # Not breached: no automatic level is scheduled by a manual one.
    assert state_of(ticket).res_next_esc_at == state_of(ticket).res_due_at


def test_escalations_of_an_archived_ticket_are_skipped(ticket_for, desk):
    ticket = restart_at(ticket_for("critical"), T0).ticket
    result = run_scan(now=T0 + 31 * MIN, use_lock=False, dispatch=False)
    Ticket.objects.filter(pk=ticket.pk).update(is_archived=True)
    assert process_escalations(escalation_ids=result.escalation_ids) == {
        "escalated": 0,
        "skipped": 1,
    }
    assert SlaEscalation.objects.get().outcome == "skipped"
