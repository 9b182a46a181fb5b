"""The ticket page's actions that had no endpoint of their own: resolve with a summary, reopen,
the caller's own watch state, and the create form's triage decisions (Apply / Dismiss)."""

from __future__ import annotations

from typing import Any

import pytest

from tests_support.factories import make_ticket
from tests_support.live import celery_worker, wait_for
from tickets.models import AuditLog, ClassificationFeedback, Ticket

pytestmark = pytest.mark.django_db


def url(ticket: Any, action: str) -> str:
    return f"/api/v1/tickets/{ticket.pk}/{action}/"


# --- resolve ------------------------------------------------------------------------------------


def test_resolve_sets_a_done_status_and_the_summary_in_one_audited_change(desk, as_user):
    ticket = make_ticket(desk["project"], desk["customer"])
    response = as_user(desk["agent"]).post(
        url(ticket, "resolve"), {"summary": "  Replaced the fuser.  "}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["status_category"], body["resolution_summary"]) == (
        "resolved",
        "done",
        "Replaced the fuser.",
    )
    assert body["resolved_at"] is not None
    # Since the services split a status change is a move (its own audit row), in the same call.
    row = AuditLog.objects.filter(ticket_id=ticket.pk, action="ticket.updated").get()
    assert row.payload == {
        "old": {"resolution_summary": ""},
        "new": {"resolution_summary": "Replaced the fuser."},
    }
    moved = AuditLog.objects.filter(ticket_id=ticket.pk, action="ticket.moved").get()
    assert (moved.payload["old"]["status"], moved.payload["new"]["status"]) == ("new", "resolved")


def test_resolve_to_another_done_status(desk, as_user):
    ticket = make_ticket(desk["project"], desk["customer"])
    body = (
        as_user(desk["agent"])
        .post(url(ticket, "resolve"), {"summary": "Dup", "status": "closed"}, format="json")
        .json()
    )
    assert (body["status"], body["closed_at"] is not None) == ("closed", True)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"summary": "   "}, "summary"),
        ({}, "summary"),
        ({"summary": "x", "status": "in_progress"}, "status"),
        ({"summary": "x", "status": "nope"}, "status"),
    ],
)
def test_resolve_needs_a_summary_and_a_done_status(desk, as_user, payload, field):
    ticket = make_ticket(desk["project"], desk["customer"])
    response = as_user(desk["agent"]).post(url(ticket, "resolve"), payload, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["details"]["fields"]) == [field]
    assert Ticket.objects.get(pk=ticket.pk).status.key == "new"


def test_resolving_a_resolved_ticket_is_a_conflict(desk, as_user):
    ticket = make_ticket(desk["project"], desk["customer"])
    api = as_user(desk["agent"])
    assert api.post(url(ticket, "resolve"), {"summary": "a"}, format="json").status_code == 200
    again = api.post(url(ticket, "resolve"), {"summary": "b"}, format="json")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "conflict")
    assert Ticket.objects.get(pk=ticket.pk).resolution_summary == "a"


def test_who_may_resolve(desk, as_user):
    ticket = make_ticket(desk["project"], desk["customer"])
    refused = as_user(desk["customer"]).post(
        url(ticket, "resolve"), {"summary": "x"}, format="json"
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")
    hidden = as_user(desk["outsider"]).post(url(ticket, "resolve"), {"summary": "x"}, format="json")
    assert hidden.status_code == 404
    assert Ticket.objects.get(pk=ticket.pk).status.key == "new"


# --- reopen -------------------------------------------------------------------------------------


def test_reopen_a_closed_ticket_with_a_reason(desk, as_user):
    ticket = make_ticket(desk["project"], desk["customer"])
    api = as_user(desk["agent"])
    api.post(url(ticket, "resolve"), {"summary": "x", "status": "closed"}, format="json")
    response = api.post(url(ticket, "reopen"), {"reason": "Still broken"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["resolved_at"], body["closed_at"], body["reopened_count"]) == (
        "open",
        None,
        None,
        1,
    )
    row = AuditLog.objects.filter(ticket_id=ticket.pk, action="ticket.reopened").get()
    assert row.payload == {
        "old": {"status": "closed"},
        "new": {"status": "open", "reason": "Still broken"},
    }
    assert row.actor_id == desk["agent"].pk


def test_reopen_refusals(desk, as_user):
    ticket = make_ticket(desk["project"], desk["customer"])
    api = as_user(desk["agent"])
    not_done = api.post(url(ticket, "reopen"), {}, format="json")
    assert (not_done.status_code, not_done.json()["error"]["code"]) == (409, "conflict")
    api.post(url(ticket, "resolve"), {"summary": "x", "status": "closed"}, format="json")
    to_done = api.post(url(ticket, "reopen"), {"status": "resolved"}, format="json")
    assert to_done.status_code == 400
    assert list(to_done.json()["error"]["details"]["fields"]) == ["status"]
    # The workflow still rules: closed may only go to open.
    workflow = api.post(url(ticket, "reopen"), {"status": "in_progress"}, format="json")
    assert (workflow.status_code, workflow.json()["error"]["code"]) == (409, "invalid_transition")
    customer = as_user(desk["customer"]).post(url(ticket, "reopen"), {}, format="json")
    assert customer.status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).status.key == "closed"
    assert not AuditLog.objects.filter(ticket_id=ticket.pk, action="ticket.reopened").exists()
    # Positive control: the same agent's plain reopen goes through.
    assert api.post(url(ticket, "reopen"), {}, format="json").status_code == 200


# --- the caller's own watch state ---------------------------------------------------------------


def test_my_watch_state_and_changing_channels(desk, as_user):
    ticket = make_ticket(desk["project"], desk["agent"], requester=desk["customer"])
    customer = as_user(desk["customer"])
    assert customer.get(url(ticket, "watch")).json() == {
        "watching": True,
        "notify_in_app": True,
        "notify_email": True,
    }
    changed = customer.post(url(ticket, "watch"), {"notify_email": False}, format="json")
    assert changed.status_code == 200
    assert customer.get(url(ticket, "watch")).json() == {
        "watching": True,
        "notify_in_app": True,
        "notify_email": False,
    }
    assert customer.delete(url(ticket, "watch")).status_code == 204
    assert customer.get(url(ticket, "watch")).json() == {
        "watching": False,
        "notify_in_app": False,
        "notify_email": False,
    }
    other = make_ticket(desk["project"], desk["customer2"])
    assert customer.get(url(other, "watch")).status_code == 404


# --- triage decisions on create -----------------------------------------------------------------

SUGGESTION = {
    "suggested_category": "billing",
    "suggested_priority": "high",
    "confidence": 0.83,
    "source": "local",
    "model_version": "tfidf-svm-1",
}


def create(api: Any, **body: Any) -> Any:
    return api.post(
        "/api/v1/tickets/",
        {"project": "DESK", "title": "Charged twice", "description": "refund", **body},
        format="json",
    )


def test_applied_and_dismissed_suggestions_are_recorded_as_feedback(desk, as_user):
    response = create(
        as_user(desk["agent"]),
        category="billing",
        triage={**SUGGESTION, "decisions": {"category": "applied", "priority": "dismissed"}},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    # Dismissed and not chosen: the project's default, set explicitly so that the background
    # classifier does not apply what the agent dismissed.
    assert (body["category"], body["priority"]) == ("billing", "medium")
    rows = ClassificationFeedback.objects.filter(ticket_id=body["id"]).order_by("field")
    assert [
        (r.field, r.suggested, r.final, r.source, r.model_version, r.actor_id, r.accepted)
        for r in rows
    ] == [
        ("category", "billing", "billing", "local", "tfidf-svm-1", desk["agent"].pk, True),
        ("priority", "high", "medium", "local", "tfidf-svm-1", desk["agent"].pk, False),
    ]
    audit = AuditLog.objects.get(ticket_id=body["id"], action="ticket.triage")
    assert audit.payload == {
        "old": {},
        "new": {
            "suggested_category": "billing",
            "suggested_priority": "high",
            "confidence": 0.83,
            "source": "local",
            "model_version": "tfidf-svm-1",
            "decisions": {"category": "applied", "priority": "dismissed"},
        },
    }


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_the_background_classifier_leaves_decided_fields_alone(desk, as_user):
    """The create's own classification task, run by a real worker, marks decided fields explicit
    (never applied)."""
    api = as_user(desk["agent"])
    with celery_worker(1, None):
        plain = create(api).json()
        decided = create(api, triage={**SUGGESTION, "decisions": {"priority": "dismissed"}}).json()
        ids = [plain["id"], decided["id"]]
        wait_for(
            lambda: Ticket.objects.filter(pk__in=ids, classification__isnull=False).count() == 2,
            60,
            "both tickets classified by the worker",
        )
    # Positive control: undecided fields are the classifier's to apply.
    assert (Ticket.objects.get(pk=plain["id"]).classification or {})["explicit"] == []
    classification = Ticket.objects.get(pk=decided["id"]).classification or {}
    assert classification["explicit"] == ["priority"]
    assert "priority" not in classification["applied"]


def test_an_applied_value_must_match_the_suggestion(desk, as_user):
    response = create(
        as_user(desk["agent"]),
        category="technical",
        triage={**SUGGESTION, "decisions": {"category": "applied"}},
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["fields"] == {
        "category": ["You applied the suggestion 'billing' but sent 'technical'."]
    }
    assert Ticket.objects.count() == 0


def test_an_applied_field_left_out_takes_the_suggestion(desk, as_user):
    body = create(
        as_user(desk["agent"]), triage={**SUGGESTION, "decisions": {"priority": "applied"}}
    ).json()
    assert body["priority"] == "high"
    assert ClassificationFeedback.objects.get(ticket_id=body["id"]).final == "high"


@pytest.mark.parametrize(
    ("triage", "field"),
    [
        ({**SUGGESTION, "suggested_category": "weather"}, "suggested_category"),
        ({**SUGGESTION, "suggested_priority": "urgent"}, "suggested_priority"),
        ({**SUGGESTION, "source": "oracle"}, "source"),
        ({**SUGGESTION, "decisions": {"category": "maybe"}}, "decisions"),
        ({**SUGGESTION, "decisions": {"tags": "applied"}}, "decisions"),
    ],
)
def test_bad_triage_is_400(desk, as_user, triage, field):
    response = create(as_user(desk["agent"]), triage=triage)
    assert response.status_code == 400, response.content
    assert field in str(response.json()["error"]["details"])
    assert Ticket.objects.count() == 0


def test_a_customers_decisions_are_audited_but_are_not_labels(desk, as_user):
    body = create(
        as_user(desk["customer"]),
        triage={**SUGGESTION, "decisions": {"category": "applied", "priority": "dismissed"}},
    ).json()
    assert (body["category"], body["priority"]) == ("billing", "medium")
    assert ClassificationFeedback.objects.filter(ticket_id=body["id"]).count() == 0
    assert AuditLog.objects.filter(ticket_id=body["id"], action="ticket.triage").count() == 1


# --- the ticket page's key ----------------------------------------------------------------------


def test_a_ticket_by_its_key(desk, as_user):
    ticket = make_ticket(desk["project"], desk["customer"])
    mine = as_user(desk["customer"]).get(f"/api/v1/tickets/by-key/DESK-{ticket.number}/")
    assert mine.status_code == 200, mine.content
    assert mine.json() == as_user(desk["customer"]).get(f"/api/v1/tickets/{ticket.pk}/").json()
    for who, key in [
        ("customer2", f"DESK-{ticket.number}"),
        ("outsider", f"DESK-{ticket.number}"),
        ("agent", f"desk-{ticket.number}"),
        ("agent", "DESK-999"),
        ("agent", "DESK-0"),
        ("agent", "DESK-99999999999"),
        ("agent", "DESK-9999999999"),
        ("agent", "DESK"),
    ]:
        response = as_user(desk[who]).get(f"/api/v1/tickets/by-key/{key}/")
        assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found"), key
