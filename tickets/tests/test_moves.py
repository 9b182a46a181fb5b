"""The move service: one road for every status change, its events and its refusals."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import BoardEvent
from tests_support.factories import make_ticket
from tickets.models import AuditLog, BoardColumn, ColumnStatus, Ticket
from tickets.services.bulk import bulk_update
from tickets.services.moves import move_ticket
from tickets.services.ranks import rebalance_project
from tickets.services.tickets import update_ticket

pytestmark = pytest.mark.django_db


def column_id(project, status_key: str) -> int:
    return ColumnStatus.objects.get(project=project, status__key=status_key).column_id


def last_event(project) -> BoardEvent:
    return BoardEvent.objects.filter(project=project).latest("seq")


def test_a_move_event_names_the_actor_and_echoes_the_client_mutation_id(desk, as_user):
    desk["agent"].full_name = "Agnes Agent"
    desk["agent"].save(update_fields=["full_name"])
    ticket = make_ticket(desk["project"], desk["agent"])
    response = as_user(desk["agent"]).patch(
        f"/api/v1/tickets/{ticket.pk}/move/",
        {"status": "in_progress", "client_mutation_id": "tab-1:7"},
        format="json",
    )
    assert response.status_code == 200
    event = last_event(desk["project"])
    assert (event.type, event.actor, event.client_mutation_id) == (
        "ticket.moved",
        {"username": "agent", "full_name": "Agnes Agent"},
        "tab-1:7",
    )
    replayed = as_user(desk["agent"]).get(f"/api/v1/projects/DESK/events/?after={event.seq - 1}")
    (wire,) = replayed.json()["events"]
    assert (wire["actor"], wire["client_mutation_id"]) == (
        {"username": "agent", "full_name": "Agnes Agent"},
        "tab-1:7",
    )


def test_without_a_client_mutation_id_the_event_carries_null(desk, as_user):
    ticket = make_ticket(desk["project"], desk["agent"])
    as_user(desk["lead"]).patch(
        f"/api/v1/tickets/{ticket.pk}/move/", {"status": "in_progress"}, format="json"
    )
    event = last_event(desk["project"])
    assert (event.actor, event.client_mutation_id) == ({"username": "lead", "full_name": ""}, None)


def test_a_client_mutation_id_longer_than_64_is_a_400(desk, as_user):
    ticket = make_ticket(desk["project"], desk["agent"])
    seq = last_event(desk["project"]).seq
    response = as_user(desk["agent"]).patch(
        f"/api/v1/tickets/{ticket.pk}/move/",
        {"status": "in_progress", "client_mutation_id": "x" * 65},
        format="json",
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "validation_error")
    assert list(response.json()["error"]["details"]["fields"]) == ["client_mutation_id"]
    assert last_event(desk["project"]).seq == seq
    # Positive control: 64 characters are accepted.
    ok = as_user(desk["agent"]).patch(
        f"/api/v1/tickets/{ticket.pk}/move/",
        {"status": "in_progress", "client_mutation_id": "x" * 64},
        format="json",
    )
    assert (ok.status_code, last_event(desk["project"]).client_mutation_id) == (200, "x" * 64)


def test_system_events_have_no_actor(desk):
    make_ticket(desk["project"], desk["agent"])
    rebalance_project(desk["project"].pk)
    event = last_event(desk["project"])
    assert (event.type, event.actor, event.client_mutation_id) == ("board.reranked", None, None)


def test_a_status_change_by_patch_is_a_move_with_the_same_audit_and_event(desk, as_user):
    ticket = make_ticket(desk["project"], desk["agent"])
    rank = Ticket.objects.get(pk=ticket.pk).rank
    response = as_user(desk["agent"]).patch(
        f"/api/v1/tickets/{ticket.pk}/",
        {"status": "todo", "client_mutation_id": "m-1"},
        format="json",
    )
    assert response.status_code == 200
    audit = AuditLog.objects.filter(ticket_id=ticket.pk).latest("id")
    assert (audit.action, audit.payload) == (
        "ticket.moved",
        {"old": {"status": "new", "rank": rank}, "new": {"status": "todo", "rank": rank}},
    )
    event = last_event(desk["project"])
    assert (event.type, event.data["status"], event.client_mutation_id) == (
        "ticket.moved",
        "todo",
        "m-1",
    )
    # new -> todo stays in "To Do": the ticket keeps its place.
    assert Ticket.objects.get(pk=ticket.pk).rank == rank


def test_a_status_change_by_bulk_is_a_move(desk):
    a = make_ticket(desk["project"], desk["agent"], title="a")
    b = make_ticket(desk["project"], desk["agent"], title="b")
    results = bulk_update(actor=desk["lead"], ids=[a.pk, b.pk], action="set_status", value="done")
    assert results == [
        {"id": a.pk, "ok": True, "error": None},
        {"id": b.pk, "ok": True, "error": None},
    ]
    actions = list(
        AuditLog.objects.filter(ticket_id__in=[a.pk, b.pk])
        .exclude(action="ticket.created")
        .order_by("id")
        .values_list("ticket_id", "action")
    )
    assert actions == [(a.pk, "ticket.moved"), (b.pk, "ticket.moved")]
    types = list(
        BoardEvent.objects.filter(project=desk["project"], ticket_id__in=[a.pk, b.pk])
        .exclude(type="ticket.created")
        .order_by("seq")
        .values_list("ticket_id", "type", "actor")
    )
    actor = {"username": "lead", "full_name": ""}
    assert types == [(a.pk, "ticket.moved", actor), (b.pk, "ticket.moved", actor)]


def test_patch_with_status_and_fields_moves_and_updates_in_one_transaction(desk):
    ticket = make_ticket(desk["project"], desk["agent"])
    update_ticket(
        actor=desk["agent"], ticket_id=ticket.pk, changes={"status": "resolved", "title": "T2"}
    )
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert (fresh.status.key, fresh.title) == ("resolved", "T2")
    actions = list(
        AuditLog.objects.filter(ticket_id=ticket.pk).order_by("id").values_list("action", flat=True)
    )
    assert actions == ["ticket.created", "ticket.moved", "ticket.updated"]


def test_a_move_writes_exactly_one_ticket_row(desk):
    a, b, c = (make_ticket(desk["project"], desk["agent"], title=t) for t in "abc")
    with CaptureQueriesContext(connection) as seen:
        move_ticket(actor=desk["agent"], ticket_id=a.pk, status_key="in_progress")
        move_ticket(actor=desk["agent"], ticket_id=c.pk, status_key="in_progress", after_id=a.pk)
    updates = [
        q["sql"] for q in seen.captured_queries if q["sql"].startswith('UPDATE "tickets_ticket"')
    ]
    assert len(updates) == 2
    assert [t.pk for t in Ticket.objects.filter(status__key="in_progress").order_by("rank")] == [
        c.pk,
        a.pk,
    ]
    assert Ticket.objects.get(pk=b.pk).status.key == "new"


def test_a_stale_move_409_carries_the_current_position(desk, as_user):
    a, b, c, d = (make_ticket(desk["project"], desk["agent"], title=t) for t in "abcd")
    # b and d are not adjacent (c sits between them).
    response = as_user(desk["agent"]).patch(
        f"/api/v1/tickets/{a.pk}/move/", {"before_id": b.pk, "after_id": d.pk}, format="json"
    )
    assert (response.status_code, response.json()["error"]["code"]) == (409, "stale_position")
    assert response.json()["error"]["details"] == {
        "before_id": b.pk,
        "after_id": d.pk,
        "current": {
            "status": "new",
            "column": column_id(desk["project"], "new"),
            "before": None,
            "after": b.pk,
        },
    }
    # c's neighbours, from a refused move of c itself.
    response = as_user(desk["agent"]).patch(
        f"/api/v1/tickets/{c.pk}/move/", {"before_id": a.pk, "after_id": d.pk}, format="json"
    )
    assert response.json()["error"]["details"]["current"] == {
        "status": "new",
        "column": column_id(desk["project"], "new"),
        "before": b.pk,
        "after": d.pk,
    }


def test_a_wip_refusal_409_carries_the_current_position(desk, as_user):
    review = BoardColumn.objects.get(project=desk["project"], name="Review")
    review.max_limit, review.enforce_wip = 1, True
    review.save(update_fields=["max_limit", "enforce_wip"])
    a, b = (make_ticket(desk["project"], desk["agent"], title=t) for t in "ab")
    move_ticket(actor=desk["agent"], ticket_id=a.pk, status_key="in_review")
    response = as_user(desk["agent"]).patch(
        f"/api/v1/tickets/{b.pk}/move/", {"status": "in_review"}, format="json"
    )
    assert (response.status_code, response.json()["error"]["code"]) == (409, "wip_limit_exceeded")
    assert response.json()["error"]["details"] == {
        "column": review.pk,
        "count": 1,
        "max_limit": 1,
        "current": {
            "status": "new",
            "column": column_id(desk["project"], "new"),
            "before": None,
            "after": None,
        },
    }
