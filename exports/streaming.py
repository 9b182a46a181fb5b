"""Streaming rows out of PostgreSQL with COPY, on a connection of the export's own.

A run uses a dedicated connection for three reasons: the count and the COPY share one
REPEATABLE READ snapshot (so `rows_total` is exact) while progress commits on Django's
connection; the session holds an advisory lock on the job, which PostgreSQL releases the moment
the worker process dies (that is how a retry knows its predecessor is gone); and closing it
cancels a half-read COPY without touching Django's connection state.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import psycopg
from django.db import connection

from exports.selectors import CopyPlan

# Advisory-lock namespace of export jobs ("EXPT"); the second key is the job id.
LOCK_NAMESPACE = 0x45585054
# Rows are handed on in batches of at most this many bytes (memory stays flat) ...
BATCH_BYTES = 1024 * 1024
# ... or this many rows (so progress can be reported at least every batch).
MAX_BATCH_ROWS = 2000


def job_lock_key(job_id: int) -> int:
    """The advisory lock's second key for a job (an int4)."""
    return job_id & 0x7FFFFFFF


def open_export_connection() -> psycopg.Connection[Any]:
    """A new autocommit connection configured like Django's (client-side binding, UTC)."""
    conn: psycopg.Connection[Any] = connection.get_new_connection(
        connection.get_connection_params()
    )
    conn.autocommit = True
    conn.execute("SET TIME ZONE 'UTC'")
    # No parallel workers: with them the planner sorts a parallel heap scan (a full sort of
    # every row, spilled to temp files) instead of reading ticket_project_created_idx in order
    # like a raw COPY does, and the workers' CPU comes on top of this session's (measured at
    # 1M rows: ~0.5 s more PostgreSQL CPU, ~200 MB of temp files). A background job should
    # take one core, not three.
    conn.execute("SET max_parallel_workers_per_gather = 0")
    conn.execute("SET application_name = 'helpline-export'")
    return conn


def acquire_job_lock(conn: psycopg.Connection[Any], job_id: int, *, wait_seconds: float) -> bool:
    """Take the job's session advisory lock, waiting up to `wait_seconds`; False if still held."""
    conn.execute(f"SET lock_timeout = '{int(wait_seconds * 1000)}ms'")
    try:
        conn.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_NAMESPACE, job_lock_key(job_id)])
    except psycopg.errors.LockNotAvailable:
        return False
    finally:
        conn.execute("SET lock_timeout = 0")
    return True


def locked_job_ids(job_ids: Iterable[int]) -> set[int]:
    """The jobs among `job_ids` whose lock some live session holds (a run is in progress)."""
    keys = {job_lock_key(job_id): job_id for job_id in job_ids}
    if not keys:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT objid::bigint FROM pg_locks
            WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = %s
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND objid::bigint = ANY(%s)
            """,
            [LOCK_NAMESPACE, list(keys)],
        )
        return {keys[row[0]] for row in cursor.fetchall()}


# How COPY ends each CSV row: the CR-only sentinel cell (see selectors.copy_plan) and LF.
# Inside a quoted cell every quote is doubled, so ',"\r"\n' can only be an opening quote right
# after a delimiter, a cell of exactly CR, the closing quote and the row's end: the sentinel.
ROW_END = b',"\r"\n'


def _csv_batch(rows: bytearray) -> bytes:
    # One C-level replace per batch; slicing each row (a psycopg memoryview) cost ~5 us a row.
    return bytes(rows).replace(ROW_END, b"\r\n")


def _text_batch(rows: bytearray) -> bytes:
    data = bytes(rows)
    # COPY's text format escapes backslash, \b \f \n \r \t \v, and nothing else that
    # escape_decode would treat specially (a backslash in the data always arrives doubled).
    if b"\\" in data:
        data = codecs.escape_decode(data)[0]
    return data


def stream_rows(
    conn: psycopg.Connection[Any],
    plan: CopyPlan,
    *,
    fmt: str,
    on_total: Callable[[int], None],
    on_rows: Callable[[int], None],
) -> Iterator[bytes]:
    """Count, then COPY the rows, in one read-only snapshot; yield encoded batches.

    `on_total(n)` is called once before the first batch, `on_rows(done)` after each batch;
    batches are cut at 1% of the rows at most, so progress can move in 1% steps.
    """
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        row = conn.execute(plan.count_sql, plan.count_params).fetchone()
        total = int(row[0]) if row else 0
        on_total(total)
        batch_rows = min(MAX_BATCH_ROWS, max(1, -(-total // 100)))
        yield from copy_batches(conn, plan, fmt=fmt, on_rows=on_rows, batch_rows=batch_rows)


def copy_batches(
    conn: psycopg.Connection[Any],
    plan: CopyPlan,
    *,
    fmt: str,
    on_rows: Callable[[int], None] | None = None,
    batch_rows: int = MAX_BATCH_ROWS,
) -> Iterator[bytes]:
    """Run the plan's COPY on `conn` and yield the rows as file bytes, batch by batch."""
    encode = _csv_batch if fmt == "csv" else _text_batch
    done = 0
    with conn.cursor() as cursor, cursor.copy(plan.copy_sql, plan.copy_params) as copy:
        # Each row is appended to one buffer at once: keeping the rows' memoryviews in a list
        # (each holds a libpq buffer) and joining them cost ~1 us a row, a third of the
        # worker's CPU. copy.read() is psycopg's iterator without the generator frame.
        read = copy.read
        batch = bytearray()
        rows = 0
        while data := read():
            batch += data
            rows += 1
            if rows >= batch_rows or len(batch) >= BATCH_BYTES:
                done += rows
                chunk = encode(batch)
                batch.clear()
                rows = 0
                yield chunk
                if on_rows is not None:
                    on_rows(done)
        if rows:
            done += rows
            yield encode(batch)
    if on_rows is not None:
        on_rows(done)
