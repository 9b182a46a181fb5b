"""Django's PostgreSQL backend with two additions for the hot paths (ADR 0006).

- **Write-behind statements.** `config.rawsql.later()` queues a statement instead of running it;
  the queue goes to the server in one flight (psycopg pipeline mode: every statement, one Sync,
  one round trip) together with the next statement the connection runs, or with the COMMIT.
  Whatever else runs on the connection (an ORM query, a savepoint) sends the queue first, so
  statements always execute in the order they were issued and a read always sees the writes
  before it. A ROLLBACK drops the queue. The price: a deferred statement's error surfaces where
  the queue is sent (the next statement or the commit), still inside the same transaction.
- **Health check without a round trip.** Django's `CONN_HEALTH_CHECKS` runs `SELECT 1` at the
  start of every request. A server that ended the session (restart, `pg_terminate_backend`,
  idle timeout) has sent its last message and closed the socket, so an idle connection whose
  socket has anything to read is not reused; checking that is a zero-timeout poll.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
import structlog
from django.db.backends.postgresql import base
from django.db.backends.utils import debug_transaction
from psycopg.abc import PQGen
from psycopg.pq import ExecStatus, TransactionStatus

logger = structlog.get_logger(__name__)


@dataclass(eq=False)  # compared by identity: two identical statements are two statements
class Deferred:
    """A queued statement; `rows` holds its result once the queue has been sent."""

    sql: str
    params: Sequence[Any] | dict[str, Any]
    prepare: bool
    then: Callable[[list[tuple[Any, ...]]], None] | None = None
    rows: list[tuple[Any, ...]] | None = field(default=None, init=False)
    rowcount: int = field(default=-1, init=False)

    def receive(self, cursor: Any) -> None:
        """Take the statement's row count and rows from the cursor it ran on."""
        self.rowcount = int(cursor.rowcount)
        # Whether the statement returned rows, from the result's status: `cursor.description`
        # would build a Column object per column for nothing (~0.5 ms a move).
        result = cursor.pgresult
        returned_rows = result is not None and result.status == ExecStatus.TUPLES_OK
        self.rows = [tuple(r) for r in cursor.fetchall()] if returned_rows else []

    def run_then(self) -> None:
        """Hand the rows to `then` (once they are in)."""
        if self.then is not None:
            self.then(self.rows or [])


class _Connection(psycopg.Connection[Any]):
    """psycopg's connection, with a transaction's BEGIN riding in the flight that needs it.

    In pipeline mode psycopg (3.3) follows the BEGIN it sends before a transaction's first
    statement with a Sync and waits for it (`_start_query`): a round trip of its own in front of
    every transaction whose first statements go out as one flight (`send_deferred`). Without the
    Sync the BEGIN is simply the flight's first statement; a later statement of the flight that
    fails leaves the server in an aborted transaction, exactly as separate round trips would, and
    Django rolls it back as usual. Outside pipeline mode nothing changes (psycopg waits for the
    BEGIN's result there anyway). tests: config/tests/test_write_behind.py (round trips).
    """

    def _start_query(self) -> PQGen[None]:
        if self._pipeline is None:
            yield from super()._start_query()
            return
        if self._autocommit or self.pgconn.transaction_status != TransactionStatus.IDLE:
            return
        yield from self._exec_command(self._get_tx_start_command())


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deferred: list[Deferred] = []
        # While on, config.rawsql.later() queues instead of running (config.rawsql.write_behind).
        self.write_behind = False
        self.execute_wrappers.append(self._send_deferred_first)

    def get_new_connection(self, conn_params: dict[str, Any]) -> psycopg.Connection[Any]:
        connection = super().get_new_connection(conn_params)
        connection.__class__ = _Connection  # same object and state, one method changed
        return connection

    def _send_deferred_first(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if self.deferred:
            self.validate_no_broken_transaction()
            self.send_deferred()
        return execute(sql, params, many, context)

    def send_deferred(
        self,
        last: tuple[str, Sequence[Any] | dict[str, Any], bool] | None = None,
        *,
        commit: bool = False,
    ) -> psycopg.Cursor[Any] | None:
        """Send the queue, then `last` (sql, params, prepare) and/or COMMIT, in one round trip.

        Returns the cursor of `last` (its rows already fetched), for the caller to read and close.
        A failure before the COMMIT marks the transaction for rollback (as Django does for any
        error inside `atomic`): the queued statements belong to it, whoever sent them, so an
        error caught around an unrelated statement (a savepoint, say) cannot let it commit.
        """
        queue, self.deferred = self.deferred, []
        conn = self.connection
        assert conn is not None
        started = time.monotonic()
        sent: list[tuple[psycopg.Cursor[Any], Deferred]] = []
        last_cursor: psycopg.Cursor[Any] | None = None
        try:
            with self.wrap_database_errors, conn.pipeline():
                for item in queue:
                    cursor = _cursor_for(conn, item.prepare)
                    sent.append((cursor, item))
                    cursor.execute(item.sql, item.params, **_flags(item.prepare))
                if last is not None:
                    last_cursor = _cursor_for(conn, last[2])
                    last_cursor.execute(last[0], last[1], **_flags(last[2]))
                if commit:
                    with conn.cursor() as ending:
                        ending.execute("COMMIT", prepare=False)
        except BaseException:
            if last_cursor is not None:
                last_cursor.close()
            for cursor, _ in sent:
                cursor.close()
            if self.in_atomic_block:
                self.needs_rollback = True
            raise
        finally:
            if self.queries_logged:
                elapsed = f"{time.monotonic() - started:.3f}"
                statements = [(item.sql, item.params) for item in queue]
                if last is not None:
                    statements.append(last[:2])
                for sql, params in statements:
                    self.queries_log.append(
                        {"sql": self.ops.compose_sql(sql, params), "time": elapsed}
                    )
        # The pipeline's Sync has come back: every result is in its cursor.
        try:
            self._deliver(sent)
        except Exception:
            if not commit:
                if self.in_atomic_block:
                    self.needs_rollback = True
                raise
            # Committed: the change stands, so the commit must not look failed (its hooks run).
            logger.exception("write_behind_delivery_failed_after_commit")
        return last_cursor

    def _deliver(self, sent: list[tuple[psycopg.Cursor[Any], Deferred]]) -> None:
        """Hand each sent statement its rows, then run its `then`."""
        try:
            with self.wrap_database_errors:
                for cursor, item in sent:
                    item.receive(cursor)
        finally:
            for cursor, _ in sent:
                cursor.close()
        for _, item in sent:
            item.run_then()

    def _commit(self) -> None:
        if self.deferred and self.connection is not None:
            with debug_transaction(self, "COMMIT"):
                self.send_deferred(commit=True)
            return
        super()._commit()  # type: ignore[misc]  # not in django-stubs

    def _rollback(self) -> None:
        self.deferred = []
        super()._rollback()  # type: ignore[misc]  # not in django-stubs

    def _savepoint_rollback(self, sid: str) -> None:
        # Every savepoint statement sends the queue first, so what is queued now was issued
        # after the savepoint this rolls back to (or a later one): it is undone, never sent.
        self.deferred = []
        super()._savepoint_rollback(sid)  # type: ignore[misc]  # not in django-stubs

    def connect(self) -> None:
        self.deferred = []  # nothing queued on a connection outlives it
        super().connect()

    def _close(self) -> None:
        self.deferred = []
        super()._close()  # type: ignore[misc]  # not in django-stubs

    def is_usable(self) -> bool:
        conn = self.connection
        if conn is None or conn.closed or conn.broken:
            return False
        if conn.info.transaction_status != TransactionStatus.IDLE:
            return super().is_usable()
        # Idle, so the server has nothing to say unless it ended the session.
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        return not poller.poll(0)


def _cursor_for(conn: psycopg.Connection[Any], prepare: bool) -> psycopg.Cursor[Any]:
    # Prepared statements need server-side binding; otherwise the connection's own cursor class
    # (Django's client-side binding cursor), as Django would run the statement.
    return psycopg.Cursor(conn) if prepare else conn.cursor()


def _flags(prepare: bool) -> dict[str, Any]:
    # Hot statements are prepared per connection with binary results (config/rawsql.py).
    return {"prepare": True, "binary": True} if prepare else {}
