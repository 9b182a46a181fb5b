"""Streaming an export's rows out of PostgreSQL with COPY, on connections of the export's own.

`stream_rows` counts, then copies the rows in one read-only snapshot, on the job's session alone
or, for a large export, on several sessions sharing that snapshot. The parts:

- `connection`: the export's own connection and the job's advisory lock on it;
- `copy`: one COPY's read loop (`read_copy`) and its batches as file bytes (`copy_batches`);
- `parallel`: the ranges, their cut rows and their sessions (ADR 0007).

`stream_rows` looks `_estimated_rows` and `_parallel_batches` up in this module, so that tests
can replace them here (`monkeypatch.setattr("exports.streaming._estimated_rows", ...)`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import Any

import psycopg

from exports.selectors import CopyPlan
from exports.streaming.connection import (
    LOCK_NAMESPACE,
    _close_all,
    acquire_job_lock,
    locked_job_ids,
    open_export_connection,
)
from exports.streaming.copy import MAX_BATCH_ROWS, copy_batches, read_copy
from exports.streaming.parallel import (
    _CutPrefetch,
    _estimated_rows,
    _find_cuts,
    _join_snapshot,
    _parallel_batches,
    _RangeReader,
    split_rows,
)

# What the rest of the code base (services, the export_tickets command, bench/) and the tests
# import from here, as before the split into modules.
__all__ = [
    "LOCK_NAMESPACE",
    "_RangeReader",
    "acquire_job_lock",
    "copy_batches",
    "locked_job_ids",
    "open_export_connection",
    "read_copy",
    "split_rows",
    "stream_rows",
]


def stream_rows(
    conn: psycopg.Connection[Any],
    plan: CopyPlan,
    *,
    fmt: str,
    on_total: Callable[[int], None],
    on_rows: Callable[[int], None],
    sessions: int = 1,
    parallel_min_rows: int = 0,
) -> Iterator[bytes]:
    """Count, then COPY the rows, in one read-only snapshot; yield encoded batches.

    `on_total(n)` is called once before the first batch, `on_rows(done)` after each batch;
    batches are cut at 1% of the rows at most, so progress can move in 1% steps. With
    `sessions` > 1 and at least `parallel_min_rows` rows, the ordered rows are cut into that
    many contiguous ranges read at once on as many sessions sharing this snapshot (see
    `_parallel_batches`); the bytes are the same either way.
    """
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        split = plan.split if sessions > 1 else None
        if split is None:
            total = _count(conn, plan)
            on_total(total)
            yield from copy_batches(
                conn, plan, fmt=fmt, on_rows=on_rows, batch_rows=_batch_rows(total)
            )
            return
        min_rows = max(parallel_min_rows, 2)
        others: list[psycopg.Connection[Any]] = []
        prefetch: _CutPrefetch | None = None
        try:
            estimate = _estimated_rows(conn, plan)
            if estimate >= min_rows:
                # Likely parallel: the other sessions join now, and one of them looks for
                # the cut rows (at the estimate's positions) while this one counts.
                others = _join_snapshot(conn, sessions - 1)
                prefetch = _CutPrefetch(others[0], split, split_rows(estimate, sessions))
                prefetch.start()
            # The count may use as many processes as the ranges will (a parallel scan halves
            # its time at 1M rows); the COPYs use none (see open_export_connection).
            conn.execute(f"SET LOCAL max_parallel_workers_per_gather = {int(sessions) - 1}")
            total = _count(conn, plan)
            conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            cuts = prefetch.result(total) if prefetch is not None else None
            on_total(total)
            if total < min_rows:
                _close_all(others)
                others = []
                yield from copy_batches(
                    conn, plan, fmt=fmt, on_rows=on_rows, batch_rows=_batch_rows(total)
                )
                return
            if cuts is None:
                # The estimate was too far off (or too small to prepare): find them here.
                cuts = _find_cuts(conn, split, split_rows(total, sessions))
                if cuts is None:  # positions below the count, in the count's snapshot
                    raise RuntimeError(f"no cut rows within the {total} counted rows")
            if not others:
                others = _join_snapshot(conn, sessions - 1)
            sessions_taken, others = others, []
            yield from _parallel_batches(
                conn,
                split,
                sessions_taken,
                cuts,
                fmt=fmt,
                total=total,
                on_rows=on_rows,
                batch_rows=_batch_rows(total),
            )
        finally:
            if prefetch is not None and prefetch.is_alive():
                # Failed while the cuts were being looked for: stop that before closing.
                with suppress(Exception):
                    prefetch.conn.cancel_safe(timeout=5)
                prefetch.join(10)
            _close_all(others)


def _batch_rows(total: int) -> int:
    return min(MAX_BATCH_ROWS, max(1, -(-total // 100)))


def _count(conn: psycopg.Connection[Any], plan: CopyPlan) -> int:
    row = conn.execute(plan.count_sql, plan.count_params).fetchone()
    return int(row[0]) if row else 0
