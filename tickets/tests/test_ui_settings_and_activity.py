"""What the ticket page's Activity tab and the project settings page use, confirmed exactly:
the audit trail in cursor pages, and a column's rename / WIP / collapse / status mapping."""

from __future__ import annotations

import pytest

from tests_support.factories import make_ticket
from tickets.services.conversation import add_message
from tickets.services.tickets import update_ticket

pytestmark = pytest.mark.django_db


def test_the_audit_trail_pages_oldest_first(desk, as_user):
    agent = desk["agent"]
    ticket = make_ticket(desk["project"], desk["customer"])
    update_ticket(actor=agent, ticket_id=ticket.pk, changes={"priority": "high"})
    add_message(actor=agent, ticket_id=ticket.pk, body="note", internal=True)
    update_ticket(actor=agent, ticket_id=ticket.pk, changes={"title": "Renamed"})
    api = as_user(agent)
    first = api.get(f"/api/v1/tickets/{ticket.pk}/audit/?page_size=2").json()
    assert [r["action"] for r in first["results"]] == ["ticket.created", "ticket.updated"]
    assert first["results"][1]["payload"] == {
        "old": {"priority": "medium"},
        "new": {"priority": "high"},
    }
    assert first["results"][1]["actor"] == "agent"
    assert first["previous"] is None and first["next"] is not None
    second = api.get(first["next"]).json()
    assert [r["action"] for r in second["results"]] == ["message.internal_added", "ticket.updated"]
    assert second["next"] is None
    assert set(second["results"][0]) == {
        "id",
        "action",
        "actor",
        "payload",
        "ip_address",
        "created_at",
    }


def test_column_settings_rename_map_wip_and_collapse(desk, as_user):
    admin = as_user(desk["admin"])
    columns = admin.get("/api/v1/projects/DESK/columns/").json()
    review = next(c for c in columns if c["name"] == "Review")
    changed = admin.patch(
        f"/api/v1/projects/DESK/columns/{review['id']}/",
        {
            "name": "QA",
            "status_keys": ["in_review", "blocked"],
            "max_limit": 0,
            "enforce_wip": True,
            "is_collapsed": True,
        },
        format="json",
    )
    assert changed.status_code == 400  # blocked is In Progress's
    changed = admin.patch(
        f"/api/v1/projects/DESK/columns/{review['id']}/",
        {"name": "QA", "max_limit": 0, "enforce_wip": True, "is_collapsed": True},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert (body["name"], body["max_limit"], body["enforce_wip"], body["is_collapsed"]) == (
        "QA",
        0,
        True,
        True,
    )
    assert [s["key"] for s in body["statuses"]] == ["in_review"]
    ticket = make_ticket(desk["project"], desk["agent"])
    refused = as_user(desk["agent"]).patch(
        f"/api/v1/tickets/{ticket.pk}/move/", {"status": "in_review"}, format="json"
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "wip_limit_exceeded")
    assert refused.json()["error"]["message"] == "QA already holds 0 of at most 0 tickets."
    lead = as_user(desk["lead"]).patch(
        f"/api/v1/projects/DESK/columns/{review['id']}/", {"name": "X"}, format="json"
    )
    assert lead.status_code == 403


def test_a_column_holding_tickets_is_not_deleted(desk, as_user):
    admin = as_user(desk["admin"])
    todo = admin.get("/api/v1/projects/DESK/columns/").json()[0]
    first = make_ticket(desk["project"], desk["agent"])
    second = make_ticket(desk["project"], desk["agent"], title="VPN drops")
    refused = admin.delete(f"/api/v1/projects/DESK/columns/{todo['id']}/")
    assert refused.status_code == 409
    assert refused.json()["error"] | {"request_id": None} == {
        "code": "conflict",
        "message": "To Do still holds 2 tickets; move them to another column before deleting it.",
        "details": {"ticket_count": 2},
        "request_id": None,
    }
    archive_ticket = admin.delete(f"/api/v1/tickets/{first.pk}/")
    assert archive_ticket.status_code == 204
    one = admin.delete(f"/api/v1/projects/DESK/columns/{todo['id']}/")
    assert (one.status_code, one.json()["error"]["message"]) == (
        409,
        "To Do still holds 1 ticket; move them to another column before deleting it.",
    )
    assert admin.delete(f"/api/v1/tickets/{second.pk}/").status_code == 204
    assert admin.delete(f"/api/v1/projects/DESK/columns/{todo['id']}/").status_code == 204
    names = [c["name"] for c in admin.get("/api/v1/projects/DESK/columns/").json()]
    assert names == ["In Progress", "Waiting", "Review", "Done"]


def test_settings_refusals_name_their_field(desk, as_user):
    admin = as_user(desk["admin"])
    review = admin.get("/api/v1/projects/DESK/columns/").json()[3]
    admin.patch(f"/api/v1/projects/DESK/columns/{review['id']}/", {"min_limit": 3}, format="json")
    # Only max_limit is sent: the service compares it with the stored minimum.
    limits = admin.patch(
        f"/api/v1/projects/DESK/columns/{review['id']}/", {"max_limit": 2}, format="json"
    )
    assert (limits.status_code, limits.json()["error"]["details"]) == (
        400,
        {"fields": {"min_limit": ["The WIP minimum cannot exceed the maximum."]}},
    )
    clash = admin.patch(
        f"/api/v1/projects/DESK/columns/{review['id']}/",
        {"status_keys": ["in_review", "blocked"]},
        format="json",
    )
    message = "A status maps to at most one column of a project: blocked (in In Progress)."
    assert clash.json()["error"]["message"] == message
    assert clash.json()["error"]["details"] == {
        "status_keys": ["blocked (in In Progress)"],
        "fields": {"status_keys": [message]},
    }
    unknown = admin.post(
        "/api/v1/projects/DESK/members/", {"username": "nobody", "role": "agent"}, format="json"
    )
    assert (unknown.status_code, unknown.json()["error"]["details"]) == (
        400,
        {"fields": {"username": ["No user 'nobody'."]}},
    )
    again = admin.post(
        "/api/v1/projects/DESK/members/", {"username": "lead", "role": "agent"}, format="json"
    )
    assert (again.status_code, again.json()["error"]["details"]) == (
        409,
        {"fields": {"username": ["lead is already a member of DESK."]}},
    )
