"""A move that waits on a row lock while another move changes the same ticket's status moves the
ticket as it now is: never a 404 because the row changed under the lock (real PostgreSQL, two
sessions)."""

from __future__ import annotations

import pytest

from tests_support.contention import while_status_changes
from tests_support.factories import make_ticket
from tickets.models import Ticket
from tickets.services.moves import move_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_move_waiting_on_a_concurrent_status_change_still_moves_the_ticket(desk):
    ticket = make_ticket(desk["project"], desk["agent"], title="Contended")

    def second_move() -> str:
        moved = move_ticket(actor=desk["lead"], ticket_id=ticket.pk, status_key="in_review")
        return moved.status.key

    assert while_status_changes(ticket, second_move, to="in_progress") == {"result": "in_review"}
    assert Ticket.objects.get(pk=ticket.pk).status.key == "in_review"
