"""`locked_tickets` (the SLA reapply, escalation and outbox batches, classification) never loses a
ticket whose status changed while it waited for the row lock (real PostgreSQL, two sessions). The
control shows the joined form it replaced dropping that ticket in the same scenario."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from tests_support.contention import while_status_changes
from tests_support.factories import make_ticket
from tickets.models import Ticket
from tickets.selectors import locked_tickets

pytestmark = pytest.mark.django_db(transaction=True)


def read_while_status_changes(ticket: Ticket, read: Callable[[], list[Ticket]]) -> list[Any]:
    """What `read` returned in another session (in a transaction, as the batches read) whose
    wait on the ticket's row ended with its status changed to in_progress: (id, status key)s."""

    def in_transaction() -> list[tuple[int, str]]:
        with transaction.atomic():
            return [(t.pk, t.status.key) for t in read()]

    outcome = while_status_changes(ticket, in_transaction, to="in_progress")
    assert "error" not in outcome, outcome
    return list(outcome["result"])


def test_a_ticket_whose_status_changed_under_the_lock_is_read_as_it_now_is(desk):
    ticket = make_ticket(desk["project"], desk["agent"], title="Contended")
    rows = read_while_status_changes(
        ticket, lambda: locked_tickets([ticket.pk], "project", "status")
    )
    assert rows == [(ticket.pk, "in_progress")]


def test_control_the_joined_lock_drops_that_ticket(desk):
    ticket = make_ticket(desk["project"], desk["agent"], title="Contended")
    rows = read_while_status_changes(
        ticket,
        lambda: list(
            Ticket.objects.select_for_update(of=("self",))
            .select_related("project", "status")
            .filter(pk=ticket.pk)
        ),
    )
    assert rows == []


def test_filters_apply_to_the_locked_rows_and_ids_come_back_in_order(desk):
    first = make_ticket(desk["project"], desk["agent"], title="First")
    second = make_ticket(desk["project"], desk["agent"], title="Second")
    archived = make_ticket(desk["project"], desk["agent"], title="Archived")
    Ticket.objects.filter(pk=archived.pk).update(is_archived=True)
    with transaction.atomic():
        found = locked_tickets([second.pk, archived.pk, first.pk], "status", is_archived=False)
        assert locked_tickets([], "status") == []
    assert [t.pk for t in found] == [first.pk, second.pk]
