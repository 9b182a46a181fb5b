"""A move that waits on a row lock while another move changes the same ticket's status moves the
ticket as it now is: never a 404 because the row changed under the lock (real PostgreSQL, two
sessions)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, connections, transaction

from tests_support.factories import make_ticket
from tickets.models import Status, Ticket
from tickets.services.moves import move_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # one snapshot per transaction
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


def test_a_move_waiting_on_a_concurrent_status_change_still_moves_the_ticket(desk):
    ticket = make_ticket(desk["project"], desk["agent"], title="Contended")
    outcome: dict[str, Any] = {}

    def second_move() -> None:
        try:
            moved = move_ticket(actor=desk["lead"], ticket_id=ticket.pk, status_key="in_review")
            outcome["status"] = moved.status.key
        except Exception as exc:  # the failure this test exists to catch
            outcome["error"] = repr(exc)
        finally:
            connections.close_all()

    with transaction.atomic():
        # This session is "the first move": it holds the row and changes the status...
        Ticket.objects.select_for_update().get(pk=ticket.pk)
        Ticket.objects.filter(pk=ticket.pk).update(status=Status.objects.get(key="in_progress"))
        waiter = threading.Thread(target=second_move)
        waiter.start()
        deadline = time.monotonic() + 30
        while lock_waiters() == 0:  # ...until the second move waits on that row's lock
            assert time.monotonic() < deadline, "the second move never waited on the lock"
            time.sleep(0.02)
    waiter.join(30)
    assert outcome == {"status": "in_review"}
    assert Ticket.objects.get(pk=ticket.pk).status.key == "in_review"
