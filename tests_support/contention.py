"""Two real sessions contending for one ticket row: what another session's work sees when the row's
status changes while it waits for the lock (PostgreSQL rechecks a locked row against what it read)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.db import connection, connections, transaction
from psycopg.errors import DeadlockDetected

from tickets.models import Status, Ticket


def lock_waiters() -> int:
    """Sessions of this database waiting on a lock, other than ours."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # one snapshot per transaction
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


def while_status_changes(ticket: Ticket, work: Callable[[], Any], *, to: str) -> dict[str, Any]:
    """Run `work` in another session while this one holds the ticket's row and changes its status
    to `to`, committing once `work` waits on that row's lock. {"result": ...} or {"error": repr}."""
    outcome: dict[str, Any] = {}

    def other_session() -> None:
        try:
            outcome["result"] = work()
        except Exception as exc:  # what the callers' tests exist to catch
            outcome["error"] = repr(exc)
        finally:
            connections.close_all()

    with transaction.atomic():
        Ticket.objects.select_for_update().get(pk=ticket.pk)
        Ticket.objects.filter(pk=ticket.pk).update(status=Status.objects.get(key=to))
        waiter = threading.Thread(target=other_session)
        waiter.start()
        deadline = time.monotonic() + 30
        while lock_waiters() == 0:
            assert time.monotonic() < deadline, "the other session never waited on the lock"
            time.sleep(0.02)
    waiter.join(30)
    return outcome


F = TypeVar("F", bound=Callable[..., Any])


def _deadlocked(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DeadlockDetected):
            return True
        seen = seen.__cause__
    return False


def retrying_deadlocks(fn: F, attempts: int = 3) -> F:
    """`fn`, run again (up to `attempts` times in all) when PostgreSQL cancelled it as a deadlock's
    victim, however deeply the error is wrapped; any other error at once."""

    @wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(attempts):
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                if attempt == attempts - 1 or not _deadlocked(exc):
                    raise
        raise AssertionError("unreachable")

    return run  # type: ignore[return-value]
