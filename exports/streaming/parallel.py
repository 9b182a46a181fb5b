"""Reading an export's rows on several sessions: contiguous ranges sharing one snapshot (ADR 0007).

The ordered rows are cut into contiguous ranges (`split_rows`); the cut rows are found by
position (`_find_cuts`, ahead of the count by `_CutPrefetch` at the planner's estimate); the
other sessions import the job's snapshot (`_join_snapshot`); and `_parallel_batches` streams
the first range on the job's session while each later one is read on a thread into a spool and
played back in order.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import Any

import psycopg
import psycopg.sql

from exports import sql as statements
from exports.selectors import Boundary, CopyPlan, RangeSplit
from exports.spool import RangeSpool
from exports.streaming.connection import _close_all, open_export_connection
from exports.streaming.copy import _copy_sql_batches

# The first range gets this much more than each later one: its session streams straight to the
# store, while a later range's reader shares the worker's CPU with it and is played back after
# it (measured at 1M rows on 2 sessions: with equal halves, the second range was 82-93% read
# when the first was out).
FIRST_RANGE_WEIGHT = 1.1


def split_rows(total: int, sessions: int) -> list[tuple[int, int]]:
    """(start, count) of `sessions` contiguous ranges covering `total` rows, in order."""
    sessions = max(1, min(sessions, total))
    weights = [FIRST_RANGE_WEIGHT] + [1.0] * (sessions - 1)
    ranges = []
    start = 0
    for index in range(sessions):
        if index == sessions - 1:
            count = total - start
        else:
            share = round(total * weights[index] / sum(weights))
            # Every range keeps at least one row, and leaves one for each range after it.
            count = max(1, min(share, total - start - (sessions - 1 - index)))
        ranges.append((start, count))
        start += count
    return ranges


def _estimated_rows(conn: psycopg.Connection[Any], plan: CopyPlan) -> int:
    """The planner's guess of the row count (EXPLAIN of the count: no rows read)."""
    row = conn.execute(f"EXPLAIN (FORMAT JSON) {plan.count_sql}", plan.count_params).fetchone()
    if row is None:
        return 0
    document = row[0]
    if isinstance(document, str):
        document = json.loads(document)
    best = 0
    nodes = [document[0]["Plan"]]
    while nodes:  # the count's input: the largest estimate below the aggregate
        node = nodes.pop()
        best = max(best, int(node.get("Plan Rows", 0)))
        nodes.extend(node.get("Plans", ()))
    return best


def _join_snapshot(conn: psycopg.Connection[Any], count: int) -> list[psycopg.Connection[Any]]:
    """`count` new sessions in transactions that import this one's snapshot."""
    row = conn.execute(statements.EXPORT_SNAPSHOT).fetchone()
    assert row is not None
    statement = psycopg.sql.SQL("SET TRANSACTION SNAPSHOT {}").format(psycopg.sql.Literal(row[0]))
    others: list[psycopg.Connection[Any]] = []
    try:
        for _ in range(count):
            other = open_export_connection()
            others.append(other)
            other.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            other.execute(statement)
    except BaseException:
        _close_all(others)
        raise
    return others


def _find_cuts(
    conn: psycopg.Connection[Any], split: RangeSplit, ranges: list[tuple[int, int]]
) -> list[Boundary | None] | None:
    """[None, last row of each range but the last, None]; None if a position is past the end.

    Each range ends at a row found by its position, so the ranges are compared against fixed
    (key, id) values: no LIMIT (whose plan formats above the sort: 10-20% more CPU a row) and no
    boundary subquery repeated in every range.
    """
    cuts: list[Boundary | None] = [None]
    for start, count in ranges[:-1]:
        sql, params = split.boundary_sql(start + count - 1)
        cut = conn.execute(sql, params).fetchone()
        if cut is None:
            return None
        cuts.append((cut[0], cut[1]))
    cuts.append(None)
    return cuts


class _CutPrefetch(threading.Thread):
    """Finds the cut rows at estimated positions on another session while the count runs."""

    # Estimated cuts are kept if each is within this share of a range of where exact ones
    # would be (the ranges stay balanced enough); otherwise they are found again, exactly.
    TOLERANCE = 0.2

    def __init__(
        self, conn: psycopg.Connection[Any], split: RangeSplit, ranges: list[tuple[int, int]]
    ) -> None:
        super().__init__(name="export-cuts", daemon=True)
        self.conn, self.split, self.ranges = conn, split, ranges
        self.cuts: list[Boundary | None] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.cuts = _find_cuts(self.conn, self.split, self.ranges)
        except BaseException as exc:  # raised by result(), on the export's thread
            self.error = exc

    def result(self, total: int) -> list[Boundary | None] | None:
        """The cuts, if close enough to the exact positions for `total` rows; else None."""
        self.join()
        if self.error is not None:
            raise self.error
        sessions = len(self.ranges)
        exact = split_rows(total, sessions)
        if self.cuts is None or len(exact) != sessions:
            return None
        slack = self.TOLERANCE * total / sessions
        for (start, count), (want_start, want_count) in zip(
            self.ranges[:-1], exact[:-1], strict=True
        ):
            if abs((start + count) - (want_start + want_count)) > slack:
                return None
        return self.cuts


# A later range keeps this much in memory while it waits for its turn; the rest goes to a
# temporary file (page cache, not the worker's RSS).
SPOOL_MEMORY_BYTES = 4 * 1024 * 1024


class _RangeReader(threading.Thread):
    """Reads one later range on its own session into a spool, until done or told to stop."""

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        sql: str,
        params: tuple[Any, ...],
        *,
        fmt: str,
        batch_rows: int,
        spool: RangeSpool,
    ) -> None:
        super().__init__(name="export-range", daemon=True)
        self.conn = conn
        self.sql = sql
        self.params = params
        self.fmt = fmt
        self.batch_rows = batch_rows
        self.spool = spool
        self.stopping = False

    def run(self) -> None:
        try:
            for chunk, rows in _copy_sql_batches(
                self.conn, self.sql, self.params, fmt=self.fmt, batch_rows=self.batch_rows
            ):
                if self.stopping:
                    break
                self.spool.put(chunk, rows)
        except BaseException as exc:  # handed to the consumer (the export's own thread)
            self.spool.finish(exc)
        else:
            self.spool.finish()

    def stop(self) -> None:
        """Cancel the range's COPY, wait for the thread, close its session (never raises)."""
        self.stopping = True
        if self.is_alive():
            with suppress(Exception):
                self.conn.cancel_safe(timeout=5)
            self.join(10)
        with suppress(Exception):
            self.conn.close()


def _parallel_batches(
    conn: psycopg.Connection[Any],
    split: RangeSplit,
    others: list[psycopg.Connection[Any]],
    cuts: list[Boundary | None],
    *,
    fmt: str,
    total: int,
    on_rows: Callable[[int], None],
    batch_rows: int,
) -> Iterator[bytes]:
    """The rows in contiguous ranges read at once on this and the `others` sessions, in order.

    The other sessions imported this transaction's snapshot (`pg_export_snapshot()`), so every
    range sees exactly the rows the count saw; the ordering is total (ties by id), so ranges
    cut at (key, id) values meet without a gap or an overlap. This session streams the first
    range; each later range is read meanwhile into a spool and played back in its turn. A
    range's failure is raised here; stopping (an error, the run lost) cancels the other
    sessions' COPYs. The other sessions are closed when this ends.
    """
    readers: list[_RangeReader] = []
    try:
        for index, other in enumerate(others, start=1):
            sql, params = split.copy_sql(cuts[index], cuts[index + 1])
            readers.append(
                _RangeReader(
                    other,
                    sql,
                    params,
                    fmt=fmt,
                    batch_rows=batch_rows,
                    spool=RangeSpool(memory_limit=SPOOL_MEMORY_BYTES),
                )
            )
        for reader in readers:
            reader.start()

        def rows_read() -> int:
            # Progress counts rows read from the database on every session.
            return first + sum(reader.spool.rows_in for reader in readers)

        sql, params = split.copy_sql(None, cuts[1])
        first = emitted = 0
        for chunk, rows in _copy_sql_batches(conn, sql, params, fmt=fmt, batch_rows=batch_rows):
            first += rows
            emitted += rows
            yield chunk
            for reader in readers:
                if reader.spool.error is not None:
                    raise reader.spool.error
            on_rows(rows_read())
        for reader in readers:
            for chunk, rows in reader.spool.batches():
                emitted += rows
                yield chunk
                on_rows(rows_read())
        if emitted != total:
            # The ranges are cut by row position in one snapshot, so this means a bug, never
            # data: fail the run rather than store a file with rows missing or repeated.
            raise RuntimeError(f"export ranges returned {emitted} rows, the count was {total}")
        on_rows(emitted)
    finally:
        for reader in readers:
            reader.stop()
            reader.spool.discard()
        _close_all(others)
