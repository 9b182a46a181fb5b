"""What a create, a move and a status change by PATCH write: their audit row, board event and
SLA rows, one ticket row per move, and a response equal to a fresh read.

How many statements each write sends is a figure, not a behaviour: `bench/bench_writes.py`
counts them (issue 15: round-trip counts live in bench/, not in the behaviour suite).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import BoardEvent
from sla.models import SlaEvent, TicketSla
from tests_support.factories import make_ticket
from tickets.models import AuditLog, Ticket

pytestmark = pytest.mark.django_db


def statements(call: Any) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as seen:
        response = call()
    return response, [q["sql"] for q in seen.captured_queries]


def test_a_create_records_everything_and_answers_as_a_read_would(desk, as_user):
    make_ticket(desk["project"], desk["agent"])  # the project's first ticket is not the case
    client = as_user(desk["agent"])
    response, _ = statements(
        lambda: client.post(
            "/api/v1/tickets/", {"project": "DESK", "title": "Toner"}, format="json"
        )
    )
    assert response.status_code == 201, response.content
    body = response.json()
    ticket = Ticket.objects.get(pk=body["id"])
    assert AuditLog.objects.filter(ticket_id=ticket.pk, action="ticket.created").count() == 1
    event = BoardEvent.objects.filter(ticket_id=ticket.pk).get()
    assert (event.type, event.data["key"], event.data["status"]) == (
        "ticket.created",
        body["key"],
        "new",
    )
    state = TicketSla.objects.get(ticket_id=ticket.pk)
    assert list(SlaEvent.objects.filter(ticket_id=ticket.pk).values_list("kind", flat=True)) == [
        "started"
    ]
    # The response is what a read of the ticket answers (SLA included), without that read.
    assert body == as_user(desk["agent"]).get(f"/api/v1/tickets/{ticket.pk}/").json()
    assert body["sla"]["policy"] == state.policy_id is not None
    # The search vector is written with the row.
    assert Ticket.objects.filter(pk=ticket.pk, search_vector="toner").exists()


def test_a_move_writes_one_ticket_row_and_records_everything(desk, as_user):
    ticket = make_ticket(desk["project"], desk["agent"])
    client = as_user(desk["agent"])
    response, sent = statements(
        lambda: client.patch(
            f"/api/v1/tickets/{ticket.pk}/move/", {"status": "in_progress"}, format="json"
        )
    )
    assert response.status_code == 200, response.content
    assert sum(s.startswith('UPDATE "tickets_ticket"') for s in sent) == 1
    assert AuditLog.objects.filter(ticket_id=ticket.pk, action="ticket.moved").count() == 1
    assert BoardEvent.objects.filter(ticket_id=ticket.pk).latest("seq").type == "ticket.moved"
    assert response.json() == client.get(f"/api/v1/tickets/{ticket.pk}/").json()


def test_a_status_change_by_patch_is_a_move(desk, as_user):
    ticket = make_ticket(desk["project"], desk["agent"])
    client = as_user(desk["agent"])
    response, _ = statements(
        lambda: client.patch(
            f"/api/v1/tickets/{ticket.pk}/", {"status": "in_progress"}, format="json"
        )
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "in_progress"
    assert AuditLog.objects.filter(ticket_id=ticket.pk, action="ticket.moved").count() == 1
    assert BoardEvent.objects.filter(ticket_id=ticket.pk).latest("seq").type == "ticket.moved"


def test_a_move_answers_the_sla_as_the_move_left_it(desk, as_user):
    """A status that pauses the SLA shows paused in the move's own response (the locked SLA row
    is the ticket's `sla_state`, not the one read before the move)."""
    ticket = make_ticket(desk["project"], desk["agent"])
    client = as_user(desk["agent"])
    response = client.patch(
        f"/api/v1/tickets/{ticket.pk}/move/", {"status": "awaiting_customer"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["sla"]["paused"] is True
    assert response.json() == client.get(f"/api/v1/tickets/{ticket.pk}/").json()
    assert SlaEvent.objects.filter(ticket_id=ticket.pk).latest("id").kind == "paused"


def test_an_invalid_patch_of_a_ticket_one_cannot_see_is_still_404(desk, as_user):
    ticket = make_ticket(desk["project"], desk["agent"])
    response = as_user(desk["outsider"]).patch(
        f"/api/v1/tickets/{ticket.pk}/", {"priority": "not-a-priority"}, format="json"
    )
    assert response.status_code == 404
    response = as_user(desk["agent"]).patch(
        f"/api/v1/tickets/{ticket.pk}/", {"priority": "not-a-priority"}, format="json"
    )
    assert response.status_code == 400
