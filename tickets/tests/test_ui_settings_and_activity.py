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
