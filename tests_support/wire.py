"""What goes over the wire to PostgreSQL, read from libpq's own trace of the connection."""

from __future__ import annotations

import tempfile
from collections.abc import Callable

from django.db import connection
from psycopg.pq import Trace


def round_trips(work: Callable[[], object]) -> int:
    """Round trips to PostgreSQL on the default connection while `work` runs: the ReadyForQuery
    messages in libpq's trace (one per Sync, i.e. per flight, however many statements it held)."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS)
        try:
            work()
        finally:
            pgconn.untrace()
        trace.seek(0)
        return sum("\tReadyForQuery\t" in line for line in trace)
