"""Configuring the desk: global statuses (site admins), board columns and members (project admins)."""

from __future__ import annotations

import pytest

from tests_support.factories import make_ticket, make_user
from tickets.models import AuditLog, BoardColumn, Membership

pytestmark = pytest.mark.django_db


def test_statuses_list_and_site_admin_writes(as_user, site_admin, desk):
    listed = as_user(desk["agent"]).get("/api/v1/statuses/").json()
    assert [s["key"] for s in listed] == [
        "new",
        "open",
        "todo",
        "in_progress",
        "in_review",
        "blocked",
        "awaiting_customer",
        "awaiting_third_party",
        "resolved",
        "done",
        "closed",
    ]
    waiting = next(s for s in listed if s["key"] == "awaiting_customer")
    assert (
        waiting["category"],
        waiting["pauses_sla"],
        waiting["color"],
        waiting["category_color"],
    ) == (
        "in_progress",
        True,
        "#0052CC",
        "#0052CC",
    )
    admin = as_user(site_admin)
    created = admin.post(
        "/api/v1/statuses/",
        {"key": "on_hold", "name": "On hold", "category": "in_progress", "color": "#FFAB00"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["color"] == "#FFAB00"
    assert (
        admin.post(
            "/api/v1/statuses/", {"key": "on_hold", "name": "x", "category": "todo"}, format="json"
        ).status_code
        == 409
    )
    assert (
        admin.post(
            "/api/v1/statuses/", {"key": "x", "name": "x", "category": "later"}, format="json"
        ).status_code
        == 400
    )
    assert (
        admin.post(
            "/api/v1/statuses/",
            {"key": "y", "name": "y", "category": "todo", "color": "red"},
            format="json",
        ).status_code
        == 400
    )
    assert (
        admin.patch("/api/v1/statuses/on_hold/", {"pauses_sla": True}, format="json").json()[
            "pauses_sla"
        ]
        is True
    )
    make_ticket(desk["project"], desk["agent"])
    in_use = admin.delete("/api/v1/statuses/new/")
    assert (in_use.status_code, in_use.json()["error"]["code"]) == (409, "conflict")
    assert admin.delete("/api/v1/statuses/todo/").status_code == 204
    assert admin.delete("/api/v1/statuses/todo/").status_code == 404


def test_default_status_cannot_be_deleted(as_user, site_admin, db):
    response = as_user(site_admin).delete("/api/v1/statuses/new/")
    assert (response.status_code, response.json()["error"]["message"]) == (
        409,
        "The default status cannot be deleted.",
    )


def test_columns_crud_reorder_and_one_column_per_status(as_user, desk):
    admin = as_user(desk["admin"])
    columns = admin.get("/api/v1/projects/DESK/columns/").json()
    clash = admin.post(
        "/api/v1/projects/DESK/columns/", {"name": "Triage", "status_keys": ["new"]}, format="json"
    )
    assert clash.status_code == 400
    assert "new (in To Do)" in clash.json()["error"]["message"]
    todo = columns[0]
    admin.patch(
        f"/api/v1/projects/DESK/columns/{todo['id']}/",
        {"status_keys": ["open", "todo"]},
        format="json",
    )
    triage = admin.post(
        "/api/v1/projects/DESK/columns/",
        {"name": "Triage", "status_keys": ["new"], "min_limit": 1},
        format="json",
    )
    assert triage.status_code == 201, triage.content
    body = triage.json()
    assert ([s["key"] for s in body["statuses"]], body["order"], body["is_under_limit"]) == (
        ["new"],
        5,
        True,
    )
    bad_limits = admin.post(
        "/api/v1/projects/DESK/columns/",
        {"name": "X", "min_limit": 5, "max_limit": 2},
        format="json",
    )
    assert bad_limits.status_code == 400
    order = [body["id"]] + [c["id"] for c in columns]
    reordered = admin.post(
        "/api/v1/projects/DESK/columns/reorder/", {"order": order}, format="json"
    ).json()
    assert [c["name"] for c in reordered] == [
        "Triage",
        "To Do",
        "In Progress",
        "Waiting",
        "Review",
        "Done",
    ]
    incomplete = admin.post(
        "/api/v1/projects/DESK/columns/reorder/", {"order": order[:2]}, format="json"
    )
    assert incomplete.status_code == 400
    assert admin.delete(f"/api/v1/projects/DESK/columns/{body['id']}/").status_code == 204
    names = [c["name"] for c in admin.get("/api/v1/projects/DESK/columns/").json()]
    assert names == ["To Do", "In Progress", "Waiting", "Review", "Done"]
    actions = list(
        AuditLog.objects.filter(action__startswith="column").values_list("action", flat=True)
    )
    assert actions == ["column.updated", "column.created", "columns.reordered", "column.deleted"]


def test_members_add_change_remove(as_user, desk):
    admin = as_user(desk["admin"])
    make_user("newbie")
    added = admin.post(
        "/api/v1/projects/DESK/members/", {"username": "newbie", "role": "lead"}, format="json"
    )
    assert added.status_code == 201
    assert added.json()["role"] == "lead"
    again = admin.post(
        "/api/v1/projects/DESK/members/", {"username": "newbie", "role": "lead"}, format="json"
    )
    assert again.status_code == 409
    assert (
        admin.post(
            "/api/v1/projects/DESK/members/", {"username": "ghost", "role": "lead"}, format="json"
        ).status_code
        == 400
    )
    assert (
        admin.post(
            "/api/v1/projects/DESK/members/", {"username": "newbie", "role": "boss"}, format="json"
        ).status_code
        == 400
    )
    changed = admin.patch(
        "/api/v1/projects/DESK/members/newbie/", {"role": "manager"}, format="json"
    )
    assert changed.json()["role"] == "manager"
    assert admin.delete("/api/v1/projects/DESK/members/newbie/").status_code == 204
    assert not Membership.objects.filter(user__username="newbie").exists()
    assert admin.delete("/api/v1/projects/DESK/members/newbie/").status_code == 404


def test_project_update_and_workflow_validation(as_user, desk):
    admin = as_user(desk["admin"])
    ok = admin.patch(
        "/api/v1/projects/DESK/",
        {"categories": ["billing", "hardware"], "workflow": {"closed": ["open", "new"]}},
        format="json",
    )
    assert ok.status_code == 200
    assert ok.json()["categories"] == ["billing", "hardware"]
    bad = admin.patch(
        "/api/v1/projects/DESK/", {"workflow": {"closed": ["nowhere"]}}, format="json"
    )
    assert bad.status_code == 400
    assert "nowhere" in bad.json()["error"]["message"]
    projects = as_user(desk["customer"]).get("/api/v1/projects/").json()["results"]
    assert [p["key"] for p in projects] == ["DESK"]
    assert as_user(desk["outsider"]).get("/api/v1/projects/").json()["results"] == []


def test_the_last_admin_can_be_neither_demoted_nor_removed(as_user, desk):
    admin = as_user(desk["admin"])
    refused = admin.patch("/api/v1/projects/DESK/members/admin/", {"role": "lead"}, format="json")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "conflict"
    assert error["message"] == "DESK needs at least one admin: make someone else an admin first."
    assert admin.delete("/api/v1/projects/DESK/members/admin/").status_code == 409
    assert Membership.objects.get(user=desk["admin"], project=desk["project"]).role == "admin"
    assert not AuditLog.objects.filter(action__startswith="member.").exists()
    # With a second admin both work (the control: only the last admin is kept).
    promoted = admin.patch(
        "/api/v1/projects/DESK/members/manager/", {"role": "admin"}, format="json"
    )
    assert promoted.status_code == 200
    demoted = admin.patch("/api/v1/projects/DESK/members/admin/", {"role": "lead"}, format="json")
    assert demoted.status_code == 200
    assert (
        as_user(desk["manager"]).delete("/api/v1/projects/DESK/members/admin/").status_code == 204
    )
    assert list(
        Membership.objects.filter(project=desk["project"], role="admin").values_list(
            "user__username", flat=True
        )
    ) == ["manager"]


def test_a_status_that_holds_tickets_cannot_be_taken_off_its_column(as_user, desk):
    admin = as_user(desk["admin"])
    make_ticket(desk["project"], desk["agent"], title="Stays on the board")  # status "new"
    todo = next(
        c for c in admin.get("/api/v1/projects/DESK/columns/").json() if c["name"] == "To Do"
    )
    before = sorted(s["key"] for s in todo["statuses"])
    assert "new" in before
    url = f"/api/v1/projects/DESK/columns/{todo['id']}/"
    refused = admin.patch(url, {"status_keys": ["open", "todo"], "name": "Todo"}, format="json")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "conflict"
    assert error["message"] == (
        "New still holds 1 ticket; move it to another column before taking New off To Do."
    )
    assert error["details"] == {"ticket_count": 1, "statuses": {"new": 1}}
    column = BoardColumn.objects.get(pk=todo["id"])
    assert (column.name, sorted(column.statuses.values_list("key", flat=True))) == (
        "To Do",
        before,
    )
    assert not AuditLog.objects.filter(action="column.updated").exists()
    # The control: an empty status leaves the column freely.
    allowed = admin.patch(url, {"status_keys": ["new", "todo"]}, format="json")
    assert allowed.status_code == 200
    assert sorted(s["key"] for s in allowed.json()["statuses"]) == ["new", "todo"]
