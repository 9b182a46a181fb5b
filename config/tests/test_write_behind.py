"""Write-behind statements (config/db/base.py): queued, sent in order with the next statement or
the COMMIT, dropped by a ROLLBACK; and the health check that needs no round trip."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, cast

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.db.transaction import TransactionManagementError

from config.db.base import DatabaseWrapper
from config.rawsql import fetch_one, later, write_behind
from tests_support.wire import begins, round_trips, wire_trace


def backend() -> DatabaseWrapper:
    return cast(DatabaseWrapper, connection)  # the proxy stands for config.db's backend


@pytest.fixture
def scratch(transactional_db: None) -> Iterator[None]:
    """A session-local table on the default connection (real commits: transactional_db)."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE wb (id int PRIMARY KEY, v text NOT NULL)")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE wb")


def rows() -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, v FROM wb ORDER BY id")
        return [tuple(r) for r in cursor.fetchall()]


INSERT = "INSERT INTO wb (id, v) VALUES (%s, %s) RETURNING id"


def test_queued_statements_ride_with_the_commit_and_their_rows_arrive_before_the_hooks(scratch):
    seen: list[Any] = []
    with transaction.atomic(), write_behind():
        first = later(INSERT, [1, "a"], then=lambda r: seen.append(("then", r)))
        later(INSERT, [2, "b"])
        assert len(backend().deferred) == 2  # nothing sent yet
        transaction.on_commit(lambda: seen.append(("hook", first.rows)))
    assert backend().deferred == []
    assert seen == [("then", [(1,)]), ("hook", [(1,)])]
    assert rows() == [(1, "a"), (2, "b")]


def test_the_next_statement_sends_the_queue_first_so_reads_see_the_writes(scratch):
    with transaction.atomic(), write_behind():
        later(INSERT, [1, "a"])
        assert fetch_one("SELECT count(*) FROM wb", []) == (1,)  # hand-written read
        later("UPDATE wb SET v = %s WHERE id = %s", ["b", 1])
        assert rows() == [(1, "b")]  # an ORM/Django cursor read
        assert backend().deferred == []


def test_reading_a_queued_result_sends_the_queue(scratch):
    with transaction.atomic(), write_behind():
        pending = later(INSERT, [7, "x"])
        assert pending.one() == (7,)
        assert backend().deferred == []


def test_a_rollback_drops_the_queue(scratch):
    with pytest.raises(RuntimeError), transaction.atomic(), write_behind():
        later(INSERT, [1, "a"])
        raise RuntimeError("changed my mind")
    assert backend().deferred == []
    assert rows() == []


def test_a_failing_queued_statement_fails_the_commit_and_nothing_is_written(scratch):
    later(INSERT, [1, "a"])  # outside write_behind: runs at once, autocommit
    with pytest.raises(IntegrityError), transaction.atomic(), write_behind():
        later(INSERT, [2, "b"])
        later(INSERT, [1, "duplicate"])
        transaction.on_commit(lambda: pytest.fail("no commit hook after a failed commit"))
    assert backend().deferred == []
    assert rows() == [(1, "a")]  # neither queued insert landed
    with transaction.atomic(), write_behind():  # the connection is usable afterwards
        later(INSERT, [3, "c"])
    assert rows() == [(1, "a"), (3, "c")]


def test_outside_write_behind_or_a_transaction_later_runs_at_once(scratch):
    with transaction.atomic():
        assert later(INSERT, [1, "a"]).rows == [(1,)]
        assert backend().deferred == []
    with write_behind():  # autocommit: nothing to ride with
        assert later(INSERT, [2, "b"]).rows == [(2,)]
        assert backend().deferred == []
    assert rows() == [(1, "a"), (2, "b")]


def test_a_savepoint_keeps_the_writes_queued_before_it(scratch):
    with transaction.atomic(), write_behind():
        later(INSERT, [1, "kept"])
        with pytest.raises(RuntimeError), transaction.atomic():
            later(INSERT, [2, "undone"])
            raise RuntimeError
    assert rows() == [(1, "kept")]


@pytest.mark.django_db(transaction=True)
def test_the_health_check_notices_a_session_the_server_ended_without_a_round_trip():
    other = connections.create_connection("default")
    assert isinstance(other, DatabaseWrapper)
    try:
        other.ensure_connection()
        assert other.is_usable()
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        assert other.is_usable()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 5
        while other.is_usable() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not other.is_usable()
        other.health_check_done = False  # type: ignore[attr-defined]  # as a new request does
        other.close_if_health_check_failed()
        assert other.connection is None  # closed, so the next query reconnects
    finally:
        other.close()


def test_an_error_of_a_queued_statement_caught_around_a_savepoint_still_fails_the_transaction(
    scratch,
):
    hooks: list[str] = []
    with transaction.atomic(), write_behind():
        later(INSERT, [1, "a"])
        later(INSERT, [1, "duplicate"])
        transaction.on_commit(lambda: hooks.append("ran"))
        with pytest.raises(IntegrityError), transaction.atomic():  # the SAVEPOINT sends the queue
            pass
        assert connection.needs_rollback
        with pytest.raises(TransactionManagementError):
            later(INSERT, [2, "b"])  # nothing more is queued into a broken transaction
    assert hooks == [] and rows() == []


def test_a_savepoint_rollback_drops_what_was_queued_inside_it_unsent(scratch):
    with transaction.atomic(), write_behind():
        later(INSERT, [1, "kept"])
        with pytest.raises(ValueError), transaction.atomic():
            later(INSERT, [1, "would collide, never sent"])
            raise ValueError
        later(INSERT, [2, "after"])
    assert rows() == [(1, "kept"), (2, "after")]


def test_a_callback_failing_after_the_commit_does_not_make_the_commit_look_failed(scratch):
    hooks: list[str] = []

    def broken(rows: list[tuple[Any, ...]]) -> None:
        raise IndexError("bug in a callback")

    with transaction.atomic(), write_behind():
        later(INSERT, [1, "a"], then=broken)
        transaction.on_commit(lambda: hooks.append("ran"))
    assert hooks == ["ran"] and rows() == [(1, "a")]
    with transaction.atomic():
        transaction.on_commit(lambda: hooks.append("second"))
    assert hooks == ["ran", "second"]  # no hook of the first transaction left over


def test_nothing_is_queued_once_the_connection_closed_inside_the_transaction(transactional_db):
    with connection.cursor() as cursor:  # the temp table dies with the session: a real one
        cursor.execute("CREATE TABLE wb_closed (id int PRIMARY KEY)")
    try:
        with pytest.raises(Exception), transaction.atomic(), write_behind():  # noqa: B017
            connection.close()
            later("INSERT INTO wb_closed VALUES (9)", [])
        assert backend().deferred == []
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM wb_closed")
            assert cursor.fetchone()[0] == 0
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE wb_closed")


def test_a_transactions_begin_rides_in_its_first_flight(scratch):
    """BEGIN, two reads and a queued write: one round trip, then the COMMIT; no BEGIN alone."""

    def work() -> None:
        with transaction.atomic(), write_behind():
            later(INSERT, [1, "a"])
            count = later("SELECT count(*) FROM wb", [])
            assert count.one() == (1,)  # sends BEGIN + both statements
            later("UPDATE wb SET v = %s WHERE id = %s", ["b", 1])

    trace = wire_trace(work)
    assert (round_trips(trace), begins(trace)) == (2, 1)
    assert rows() == [(1, "b")]


def test_a_failure_in_a_later_flight_undoes_the_first_flights_writes(scratch):
    """The first flight's write is inside the transaction its BEGIN opened, not autocommitted."""
    with pytest.raises(IntegrityError), transaction.atomic(), write_behind():
        later(INSERT, [1, "a"])
        later("SELECT 1", []).one()  # flight 1: BEGIN, the insert, the read
        later(INSERT, [1, "dup"])  # flight 2, with the COMMIT: fails
    assert rows() == []


def test_a_failure_in_the_first_flight_rolls_the_whole_transaction_back(scratch):
    with pytest.raises(IntegrityError), transaction.atomic(), write_behind():
        later(INSERT, [1, "a"])
        later(INSERT, [1, "dup"])
        later("SELECT 1", []).one()
    assert rows() == []
    assert connection.connection.info.transaction_status.name == "IDLE"
    with transaction.atomic(), write_behind():  # the connection is fine afterwards
        later(INSERT, [2, "b"])
    assert rows() == [(2, "b")]
