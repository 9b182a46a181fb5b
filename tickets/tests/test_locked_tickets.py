"""`locked_tickets` (the SLA reapply, escalation and outbox batches, classification) never loses a
ticket whose status changed while it waited for the row lock (real PostgreSQL, two sessions). The
control shows the joined form it replaced dropping that ticket in the same scenario."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections, transaction

from tests_support.factories import make_ticket
from tickets.models import Status, Ticket
from tickets.selectors import locked_tickets
from tickets.tests.test_move_concurrent import lock_waiters

pytestmark = pytest.mark.django_db(transaction=True)


def read_while_status_changes(ticket: Ticket, read: Callable[[], list[Ticket]]) -> list[Any]:
    """Run `read` in another session while this one holds the ticket's row and changes its
    status to in_progress; what `read` returned once the change committed: (id, status key)s."""
    outcome: dict[str, Any] = {}

    def second_session() -> None:
        try:
            with transaction.atomic():
                outcome["rows"] = [(t.pk, t.status.key) for t in read()]
        except Exception as exc:  # the failure this test exists to catch
            outcome["error"] = repr(exc)
        finally:
            connections.close_all()

    with transaction.atomic():
        Ticket.objects.select_for_update().get(pk=ticket.pk)
        Ticket.objects.filter(pk=ticket.pk).update(status=Status.objects.get(key="in_progress"))
        waiter = threading.Thread(target=second_session)
        waiter.start()
        deadline = time.monotonic() + 30
        while lock_waiters() == 0:  # until the other session waits on that row's lock
            assert time.monotonic() < deadline, "the other session never waited on the lock"
            time.sleep(0.02)
    waiter.join(30)
    assert "error" not in outcome, outcome
    return list(outcome["rows"])


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
