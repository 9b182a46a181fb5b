"""Streaming rows out of PostgreSQL with COPY, on a connection of the export's own.

A run uses a dedicated connection for three reasons: the count and the COPY share one
REPEATABLE READ snapshot (so `rows_total` is exact) while progress commits on Django's
connection; the session holds an advisory lock on the job, which PostgreSQL releases the moment
the worker process dies (that is how a retry knows its predecessor is gone); and closing it
cancels a half-read COPY without touching Django's connection state.
"""

from __future__ import annotations

import codecs
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from typing import Any

import psycopg
import psycopg.errors
import psycopg.sql
from django.db import connection
from psycopg import pq
from psycopg.abc import Buffer
from psycopg.generators import fetch_many

from exports.selectors import Boundary, CopyPlan, RangeSplit
from exports.spool import RangeSpool

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
    row = conn.execute("SELECT pg_export_snapshot()").fetchone()
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


def _close_all(conns: list[psycopg.Connection[Any]]) -> None:
    for other in conns:
        with suppress(Exception):
            other.close()


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


def copy_batches(
    conn: psycopg.Connection[Any],
    plan: CopyPlan,
    *,
    fmt: str,
    on_rows: Callable[[int], None] | None = None,
    batch_rows: int = MAX_BATCH_ROWS,
) -> Iterator[bytes]:
    """Run the plan's COPY on `conn` and yield the rows as file bytes, batch by batch."""
    done = 0
    for chunk, rows in _copy_sql_batches(
        conn, plan.copy_sql, plan.copy_params, fmt=fmt, batch_rows=batch_rows
    ):
        done += rows
        yield chunk
        if on_rows is not None:
            on_rows(done)
    if on_rows is not None:
        on_rows(done)


def _copy_sql_batches(
    conn: psycopg.Connection[Any],
    sql: str,
    params: tuple[Any, ...],
    *,
    fmt: str,
    batch_rows: int,
) -> Iterator[tuple[bytes, int]]:
    """Run one COPY and yield (file bytes, rows) batch by batch."""
    encode = _csv_batch if fmt == "csv" else _text_batch
    for batch, rows in read_copy(conn, sql, params, batch_rows=batch_rows):
        yield encode(batch), rows


def read_copy(
    conn: psycopg.Connection[Any],
    sql: str,
    params: tuple[Any, ...] = (),
    *,
    batch_rows: int = MAX_BATCH_ROWS,
    batch_bytes: int = BATCH_BYTES,
) -> Iterator[tuple[bytearray, int]]:
    """Run one `COPY ... TO STDOUT` and yield its rows in (buffer, rows) batches.

    The buffer is reused: use it before asking for the next batch. Rows already in libpq's
    buffer are taken with `PQgetCopyData` directly, and psycopg's `copy.read()` (which waits
    for the socket) only when that buffer is empty: per row, psycopg's generator machinery
    cost ~0.5 us, a fifth of the worker's CPU (measured at 1M rows: 0.85-0.97 s against
    0.37-0.60 s). The benchmark's raw COPY floor reads through this same loop.
    """
    with conn.cursor() as cursor, cursor.copy(sql, params) as copy:
        pgconn = conn.pgconn
        get = pgconn.get_copy_data
        read = copy.read
        batch = bytearray()
        rows = 0
        while True:
            data: Buffer
            size, data = get(1)
            if size == 0:
                # Nothing buffered: psycopg waits for the socket and reads the next row (or
                # the end of the COPY, and its result, raising the server's error if any).
                data = read()
                if not data:
                    break
            elif size < 0:
                # The COPY ended within the buffer: collect its result the way psycopg does.
                results = conn.wait(fetch_many(pgconn))
                for result in results:
                    if result.status != pq.ExecStatus.COMMAND_OK:
                        raise psycopg.errors.error_from_result(result, encoding=conn.info.encoding)
                break
            # Each row is appended to one buffer at once: keeping the rows' memoryviews in a
            # list (each holds a libpq buffer) and joining them cost ~1 us a row.
            batch += data
            rows += 1
            if rows >= batch_rows or len(batch) >= batch_bytes:
                yield batch, rows
                batch.clear()
                rows = 0
        if rows:
            yield batch, rows


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
