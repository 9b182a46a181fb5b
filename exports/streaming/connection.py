"""The export's own PostgreSQL connection, and the job's advisory lock on it.

A run uses a dedicated connection for three reasons: the count and the COPY share one
REPEATABLE READ snapshot (so `rows_total` is exact) while progress commits on Django's
connection; the session holds an advisory lock on the job, which PostgreSQL releases the moment
the worker process dies (that is how a retry knows its predecessor is gone); and closing it
cancels a half-read COPY without touching Django's connection state.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from typing import Any

import psycopg
import psycopg.errors
from django.conf import settings
from django.db import connection, connections

from exports import sql

# Advisory-lock namespace of export jobs ("EXPT"); the second key is the job id.
LOCK_NAMESPACE = 0x45585054


def job_lock_key(job_id: int) -> int:
    """The advisory lock's second key for a job (an int4)."""
    return job_id & 0x7FFFFFFF


def open_export_connection() -> psycopg.Connection[Any]:
    """A new autocommit connection configured like Django's (client-side binding, UTC).

    To settings.EXPORT_DATABASE: the primary, or its direct address (EXPORT_DATABASE_URL) when
    the desk reaches PostgreSQL through PgBouncer in transaction mode (this session holds an
    advisory lock and shares snapshots for minutes)."""
    direct = connections[settings.EXPORT_DATABASE]
    conn: psycopg.Connection[Any] = direct.get_new_connection(direct.get_connection_params())
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
        conn.execute(sql.JOB_LOCK, [LOCK_NAMESPACE, job_lock_key(job_id)])
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
            sql.LOCKED_JOBS,
            [LOCK_NAMESPACE, list(keys)],
        )
        return {keys[row[0]] for row in cursor.fetchall()}


def _close_all(conns: list[psycopg.Connection[Any]]) -> None:
    for other in conns:
        with suppress(Exception):
            other.close()
