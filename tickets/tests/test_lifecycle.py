"""The support-desk lifecycle over HTTP: create, edit, workflow, conversation, watchers, audit."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import ProgrammingError, connection, transaction

from tests_support.factories import make_ticket
from tickets.models import AuditLog, ColumnStatus, Ticket, Watcher

pytestmark = pytest.mark.django_db


def create(api: Any, **body: Any) -> Any:
    return api.post(
        "/api/v1/tickets/", {"project": "DESK", "title": "Broken", **body}, format="json"
    )


def test_create_returns_the_contract_shape(desk, as_user):
    response = create(
        as_user(desk["agent"]),
        description="It broke",
        priority="high",
        category="technical",
        tags=["vip", "vip", "eu"],
        assignee="agent",
        requester="customer",
        linked_type="order",
        linked_id="A-17",
        metadata={"source": "phone"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= {
        "id",
        "key",
        "project",
        "number",
        "title",
        "description",
        "status",
        "status_name",
        "status_category",
        "status_color",
        "rank",
        "priority",
        "category",
        "tags",
        "assignee",
        "requester",
        "created_by",
        "linked_type",
        "linked_id",
        "is_sensitive",
        "is_archived",
        "resolution_summary",
        "metadata",
        "sla",
        "classification",
        "created_at",
        "updated_at",
        "first_response_at",
        "resolved_at",
        "closed_at",
    }
    assert (body["key"], body["number"], body["status"], body["status_category"]) == (
        "DESK-1",
        1,
        "new",
        "todo",
    )
    assert (body["priority"], body["category"], body["tags"]) == (
        "high",
        "technical",
        ["vip", "eu"],
    )
    assert (body["assignee"], body["requester"], body["created_by"]) == (
        "agent",
        "customer",
        "agent",
    )
    assert body["rank"].startswith("0|")
    assert set(body["sla"]) == {
        "policy",
        "state",
        "first_response_due_at",
        "resolution_due_at",
        "paused",
        "escalation_level",
        "breached",
    }
    watchers = set(
        Watcher.objects.filter(ticket_id=body["id"]).values_list("user__username", flat=True)
    )
    assert watchers == {"agent", "customer"}


def test_defaults_and_validation(desk, as_user):
    api = as_user(desk["agent"])
    body = create(api).json()
    assert (body["priority"], body["category"], body["requester"]) == ("medium", "general", "agent")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"priority": "urgent"}, "priority"),
        ({"category": "nope"}, "category"),
        ({"assignee": "ghost"}, "assignee"),
        ({"title": ""}, "title"),
        ({"tags": "notalist"}, "tags"),
        ({"metadata": [1, 2]}, "metadata"),
    ]
    for bad, field in cases:
        response = create(api, **bad)
        assert response.status_code == 400, (bad, response.content)
        assert response.json()["error"]["code"] == "validation_error"
        assert list(response.json()["error"]["details"]["fields"]) == [field]
    assignee_customer = create(api, assignee="customer")
    assert assignee_customer.status_code == 400
    assert Ticket.objects.count() == 1  # nothing half-written by the refusals


def test_customer_raises_for_themselves_only(desk, as_user):
    api = as_user(desk["customer"])
    assert create(api).json()["requester"] == "customer"
    assert create(api, requester="customer2").status_code == 403
    assert create(api, assignee="agent").status_code == 403
    assert (
        as_user(desk["outsider"])
        .post("/api/v1/tickets/", {"project": "DESK", "title": "x"}, format="json")
        .status_code
        == 404
    )


def test_workflow_lifecycle_times_and_reopen(desk, as_user):
    api = as_user(desk["agent"])
    ticket = create(api).json()
    url = f"/api/v1/tickets/{ticket['id']}/"
    resolved = api.patch(
        url, {"status": "resolved", "resolution_summary": "Rebooted"}, format="json"
    ).json()
    assert resolved["resolved_at"] is not None and resolved["closed_at"] is None
    closed = api.patch(url, {"status": "closed"}, format="json").json()
    assert closed["closed_at"] is not None
    refused = api.patch(url, {"status": "in_progress"}, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "invalid_transition")
    closed_column = ColumnStatus.objects.get(project=desk["project"], status__key="closed")
    assert refused.json()["error"]["details"] == {
        "from": "closed",
        "to": "in_progress",
        "allowed": ["open"],
        "current": {
            "status": "closed",
            "column": closed_column.column_id,
            "before": None,
            "after": None,
        },
    }
    reopened = api.patch(url, {"status": "open"}, format="json").json()
    assert (reopened["resolved_at"], reopened["closed_at"]) == (None, None)
    assert Ticket.objects.get(pk=ticket["id"]).reopened_count == 1
    assert reopened["status_category"] == "todo"


def test_first_response_is_the_first_public_staff_reply(desk, as_user):
    ticket = make_ticket(desk["project"], desk["customer"])
    url = f"/api/v1/tickets/{ticket.pk}/messages/"
    as_user(desk["customer"]).post(url, {"body": "Any news?"}, format="json")
    as_user(desk["agent"]).post(url, {"body": "internal only", "internal": True}, format="json")
    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    reply = as_user(desk["agent"]).post(url, {"body": "Looking now"}, format="json")
    assert reply.status_code == 201
    ticket.refresh_from_db()
    first = ticket.first_response_at
    assert first is not None
    as_user(desk["lead"]).post(url, {"body": "second"}, format="json")
    ticket.refresh_from_db()
    assert ticket.first_response_at == first


def test_internal_notes_never_reach_customers(desk, as_user):
    ticket = make_ticket(desk["project"], desk["customer"], title="Login broken")
    staff = as_user(desk["agent"])
    staff.post(f"/api/v1/tickets/{ticket.pk}/messages/", {"body": "public zebra"}, format="json")
    staff.post(
        f"/api/v1/tickets/{ticket.pk}/messages/",
        {"body": "secret giraffe", "internal": True},
        format="json",
    )
    customer = as_user(desk["customer"])
    listed = customer.get(f"/api/v1/tickets/{ticket.pk}/messages/").json()["results"]
    assert [m["body"] for m in listed] == ["public zebra"]
    assert [
        m["body"] for m in staff.get(f"/api/v1/tickets/{ticket.pk}/messages/").json()["results"]
    ] == [
        "public zebra",
        "secret giraffe",
    ]
    # search: the note's words are not indexed at all, for anyone
    assert customer.get("/api/v1/tickets/?q=giraffe").json()["results"] == []
    assert staff.get("/api/v1/tickets/?q=giraffe").json()["results"] == []
    assert [t["id"] for t in customer.get("/api/v1/tickets/?q=zebra").json()["results"]] == [
        ticket.pk
    ]
    # customers cannot write internal notes
    denied = customer.post(
        f"/api/v1/tickets/{ticket.pk}/messages/", {"body": "x", "internal": True}, format="json"
    )
    assert denied.status_code == 403
    # board events carry no note
    from notifications.models import BoardEvent

    types = list(BoardEvent.objects.filter(ticket_id=ticket.pk).values_list("type", flat=True))
    assert types == ["ticket.created", "ticket.commented"]
    assert "giraffe" not in str(list(BoardEvent.objects.values_list("data", flat=True)))


def test_watch_unwatch_and_list(desk, as_user):
    ticket = make_ticket(desk["project"], desk["customer"])
    lead = as_user(desk["lead"])
    watched = lead.post(
        f"/api/v1/tickets/{ticket.pk}/watch/", {"notify_email": False}, format="json"
    )
    assert watched.json() | {"created_at": None} == {
        "username": "lead",
        "notify_in_app": True,
        "notify_email": False,
        "created_at": None,
    }
    names = [
        w["username"] for w in lead.get(f"/api/v1/tickets/{ticket.pk}/watchers/").json()["results"]
    ]
    assert names == ["customer", "lead"]
    assert lead.delete(f"/api/v1/tickets/{ticket.pk}/watch/").status_code == 204
    assert lead.delete(f"/api/v1/tickets/{ticket.pk}/watch/").status_code == 204  # idempotent
    assert (
        as_user(desk["customer"]).get(f"/api/v1/tickets/{ticket.pk}/watchers/").status_code == 403
    )


def test_every_change_is_audited_with_actor_ip_and_old_new(desk, as_user):
    api = as_user(desk["lead"])
    ticket = create(api).json()
    tid = ticket["id"]
    api.patch(
        f"/api/v1/tickets/{tid}/",
        {"priority": "critical", "title": "Very broken"},
        format="json",
        REMOTE_ADDR="10.1.2.3",
    )
    api.post(
        f"/api/v1/tickets/{tid}/assign/", {"assignee": "agent", "reason": "expert"}, format="json"
    )
    api.patch(f"/api/v1/tickets/{tid}/move/", {"status": "in_progress"}, format="json")
    api.post(f"/api/v1/tickets/{tid}/escalate/", {"reason": "customer is angry"}, format="json")
    api.delete(f"/api/v1/tickets/{tid}/")
    rows = api.get(f"/api/v1/tickets/{tid}/audit/").json()["results"]
    assert [r["action"] for r in rows] == [
        "ticket.created",
        "ticket.updated",
        "ticket.assigned",
        "ticket.moved",
        "ticket.escalated",
        "ticket.archived",
    ]
    updated = rows[1]
    assert updated["actor"] == "lead"
    assert updated["ip_address"] == "10.1.2.3"
    assert updated["payload"] == {
        "old": {"priority": "medium", "title": "Broken"},
        "new": {"priority": "critical", "title": "Very broken"},
    }
    assert rows[2]["payload"] == {
        "old": {"assignee": None},
        "new": {"assignee": "agent", "reason": "expert"},
    }


def test_audit_table_is_append_only_in_the_database(desk):
    make_ticket(desk["project"], desk["agent"])
    row = AuditLog.objects.first()
    assert row is not None
    for statement in ("UPDATE tickets_auditlog SET action = 'x'", "DELETE FROM tickets_auditlog"):
        with (
            pytest.raises(ProgrammingError, match="pgtrigger: Cannot"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert AuditLog.objects.get(pk=row.pk).action == row.action


def test_archive_leaves_board_and_default_list(desk, as_user):
    api = as_user(desk["agent"])
    keep, gone = (
        make_ticket(desk["project"], desk["agent"]),
        make_ticket(desk["project"], desk["agent"]),
    )
    assert api.delete(f"/api/v1/tickets/{gone.pk}/").status_code == 204
    board = api.get("/api/v1/projects/DESK/board/").json()
    assert [t["id"] for t in board["columns"][0]["tickets"]] == [keep.pk]
    assert [t["id"] for t in api.get("/api/v1/tickets/").json()["results"]] == [keep.pk]
    assert [t["id"] for t in api.get("/api/v1/tickets/?archived=true").json()["results"]] == [
        gone.pk
    ]
    assert (
        as_user(desk["customer"]).delete(f"/api/v1/tickets/{keep.pk}/").status_code == 404
    )  # not theirs


def test_assign_and_escalate_roles(desk, as_user):
    ticket = make_ticket(desk["project"], desk["customer"])
    agent, lead = as_user(desk["agent"]), as_user(desk["lead"])
    assert (
        agent.post(
            f"/api/v1/tickets/{ticket.pk}/assign/", {"assignee": "lead"}, format="json"
        ).status_code
        == 403
    )
    took = agent.post(f"/api/v1/tickets/{ticket.pk}/assign/", {"assignee": "agent"}, format="json")
    assert took.json()["assignee"] == "agent"
    assert (
        agent.post(
            f"/api/v1/tickets/{ticket.pk}/escalate/", {"reason": "x"}, format="json"
        ).status_code
        == 403
    )
    escalated = lead.post(f"/api/v1/tickets/{ticket.pk}/escalate/", {"reason": "x"}, format="json")
    assert escalated.json()["sla"]["escalation_level"] == 1
    assert (
        lead.post(
            f"/api/v1/tickets/{ticket.pk}/assign/", {"assignee": "customer"}, format="json"
        ).status_code
        == 400
    )


def test_bulk_reports_each_item(desk, as_user):
    a, b = make_ticket(desk["project"], desk["agent"]), make_ticket(desk["project"], desk["agent"])
    lead = as_user(desk["lead"])
    response = lead.post(
        "/api/v1/tickets/bulk/",
        {"ids": [a.pk, 999999, "x", b.pk], "action": "set_priority", "value": "high"},
        format="json",
    )
    assert response.status_code == 200
    assert [
        (r["id"], r["ok"], r["error"] and r["error"]["code"]) for r in response.json()["results"]
    ] == [
        (a.pk, True, None),
        (999999, False, "not_found"),
        ("x", False, "validation_error"),
        (b.pk, True, None),
    ]
    assert set(Ticket.objects.values_list("priority", flat=True)) == {"high"}
    bad = lead.post(
        "/api/v1/tickets/bulk/",
        {"ids": [a.pk], "action": "set_priority", "value": "urgent"},
        format="json",
    )
    assert bad.json()["results"][0]["error"]["code"] == "validation_error"
    closed = lead.post(
        "/api/v1/tickets/bulk/",
        {"ids": [a.pk, b.pk], "action": "set_status", "value": "closed"},
        format="json",
    )
    assert [r["ok"] for r in closed.json()["results"]] == [True, True]
    reopen = lead.post(
        "/api/v1/tickets/bulk/",
        {"ids": [a.pk], "action": "set_status", "value": "in_progress"},
        format="json",
    )
    assert reopen.json()["results"][0]["error"]["code"] == "invalid_transition"
    agent_bulk = as_user(desk["agent"]).post(
        "/api/v1/tickets/bulk/", {"ids": [a.pk], "action": "archive"}, format="json"
    )
    assert agent_bulk.json()["results"][0]["error"]["code"] == "permission_denied"
    assert (
        lead.post(
            "/api/v1/tickets/bulk/", {"ids": [], "action": "archive"}, format="json"
        ).status_code
        == 400
    )
