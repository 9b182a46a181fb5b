"""What goes over the wire to PostgreSQL, read from libpq's own trace of the connection."""

from __future__ import annotations

import tempfile
from collections.abc import Callable

from django.db import connection
from psycopg.pq import Trace


def wire_trace(work: Callable[[], object]) -> list[str]:
    """The protocol messages (libpq's trace lines) on the default connection while `work` runs."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS)
        try:
            work()
        finally:
            pgconn.untrace()
        # A reconnect inside `work` would go untraced and the counts would come up short.
        assert connection.connection.pgconn is pgconn, "the connection changed while tracing"
        trace.seek(0)
        return trace.read().splitlines()


def round_trips(lines: list[str]) -> int:
    """Round trips in a trace: ReadyForQuery messages (one per Sync, i.e. per flight, however
    many statements it held)."""
    return sum("\tReadyForQuery\t" in line for line in lines)


def begins(lines: list[str]) -> int:
    """BEGIN statements the client sent in a trace."""
    return sum(line.startswith("F\t") and '"BEGIN"' in line for line in lines)
