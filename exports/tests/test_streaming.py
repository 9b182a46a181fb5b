"""Reading an export's rows on several sessions: the same bytes as one session, in one snapshot."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import time
from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any, cast

import psycopg
import pytest
from django.db import connection

from exports.columns import COLUMNS, DEFAULT_FIELDS
from exports.selectors import CopyPlan, copy_plan, export_tickets
from exports.services import request_export, run_export
from exports.streaming import open_export_connection, split_rows, stream_rows
from exports.tests.bulk import bulk_tickets
from exports.tests.conftest import export_files
from tickets.filters import ORDERINGS, parse_ticket_filters
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def plan_for(desk: dict[str, Any], fmt: str = "csv", **raw: Any) -> CopyPlan:
    filters = parse_ticket_filters(raw)
    tickets = export_tickets(
        user=desk["agent"], project=desk["project"], filters=filters, as_of=datetime.now(UTC)
    )
    fields = tuple(COLUMNS) if fmt == "jsonl" else DEFAULT_FIELDS
    return copy_plan(tickets, project=desk["project"], fmt=fmt, fields=fields, filters=filters)


def export_sessions(expected: int) -> int:
    """Export sessions open on the test database, once they are `expected` (or after 3 s).

    A closed session's backend leaves pg_stat_activity a moment after the client lets go.
    """
    deadline = time.monotonic() + 3
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # one snapshot per transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = 'helpline-export' AND datname = current_database()"
            )
            count = int(cursor.fetchone()[0])
        if count == expected or time.monotonic() > deadline:
            return count
        time.sleep(0.02)


def read_all(plan: CopyPlan, *, sessions: int, fmt: str = "csv", **kwargs: Any) -> dict[str, Any]:
    seen: dict[str, Any] = {"total": None, "progress": []}
    conn = open_export_connection()
    try:
        data = b"".join(
            stream_rows(
                conn,
                plan,
                fmt=fmt,
                on_total=lambda total: seen.__setitem__("total", total),
                on_rows=seen["progress"].append,
                sessions=sessions,
                **kwargs,
            )
        )
    finally:
        conn.close()
    return {"data": data, **seen}


@pytest.mark.parametrize("sessions", [2, 3])
@pytest.mark.parametrize(
    "ordering",
    [sign + name for name in ORDERINGS for sign in ("", "-")],
)
def test_ranges_on_several_sessions_give_the_one_session_bytes(
    desk: dict[str, Any], ordering: str, sessions: int
) -> None:
    # updated_at is one instant for every ticket, priority has four values, and no ticket has an
    # SLA: most orderings are ties broken by id, and the ranges must still meet exactly.
    bulk_tickets(desk["project"], 301, requester=desk["customer"], assignee=desk["agent"])
    plan = plan_for(desk, ordering=ordering)
    one = read_all(plan, sessions=1)
    several = read_all(plan, sessions=sessions)
    assert several["data"] == one["data"]
    assert one["data"].count(b"\r\n") >= 301
    assert several["total"] == 301
    assert several["progress"][-1] == 301
    assert several["progress"] == sorted(several["progress"])
    assert export_sessions(0) == 0


def test_jsonl_ranges_give_the_one_session_bytes(desk: dict[str, Any]) -> None:
    bulk_tickets(desk["project"], 120, requester=desk["customer"])
    plan = plan_for(desk, fmt="jsonl", priority="high,low")
    one = read_all(plan, sessions=1, fmt="jsonl")
    several = read_all(plan, sessions=2, fmt="jsonl")
    assert several["data"] == one["data"]
    assert one["data"].count(b"\n") == 60


def test_split_rows_covers_every_row_once() -> None:
    assert split_rows(10, 3) == [(0, 4), (4, 3), (7, 3)]
    assert split_rows(2, 5) == [(0, 1), (1, 1)]
    # The first range, streamed straight to the store, takes a little more than the others.
    assert split_rows(1_000_000, 2) == [(0, 523_810), (523_810, 476_190)]
    for total in range(1, 40):
        for sessions in range(1, 6):
            ranges = split_rows(total, sessions)
            assert sum(count for _, count in ranges) == total
            assert all(
                start == sum(c for _, c in ranges[:i]) for i, (start, _) in enumerate(ranges)
            )
            assert all(count > 0 for _, count in ranges)


def test_small_exports_stay_on_one_session(desk: dict[str, Any], monkeypatch: Any) -> None:
    import exports.streaming

    bulk_tickets(desk["project"], 30, requester=desk["customer"])
    plan = plan_for(desk)
    parallel_runs = []
    original = exports.streaming._parallel_batches

    def counting(*args: Any, **kwargs: Any) -> Any:
        parallel_runs.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(exports.streaming, "_parallel_batches", counting)
    one = read_all(plan, sessions=1)["data"]
    assert read_all(plan, sessions=2, parallel_min_rows=31)["data"] == one
    assert parallel_runs == []
    assert read_all(plan, sessions=2, parallel_min_rows=30)["data"] == one
    assert parallel_runs == [1]
    assert export_sessions(0) == 0


def test_cuts_found_at_a_wrong_estimate_are_found_again(
    desk: dict[str, Any], monkeypatch: Any
) -> None:
    bulk_tickets(desk["project"], 400, requester=desk["customer"])
    plan = plan_for(desk)
    one = read_all(plan, sessions=1)["data"]
    for estimate in (1_000_000, 2, 401, 150):
        # Past the end, below the parallel minimum, one past the count, far below the middle.
        monkeypatch.setattr("exports.streaming._estimated_rows", lambda *_, e=estimate: e)
        got = read_all(plan, sessions=3, parallel_min_rows=10)
        assert got["data"] == one
        assert got["total"] == 400
        assert export_sessions(0) == 0


def test_every_range_reads_the_counted_snapshot(desk: dict[str, Any], monkeypatch: Any) -> None:
    """A change committed after the count is in no range: the sessions share one snapshot."""
    from exports.streaming import _RangeReader

    changed = threading.Event()
    original_run = _RangeReader.run

    def run_after_the_change(self: _RangeReader) -> None:
        changed.wait(10)  # the second range's COPY starts only once the change is committed
        original_run(self)

    monkeypatch.setattr(_RangeReader, "run", run_after_the_change)
    bulk_tickets(desk["project"], 200, requester=desk["customer"])
    oldest = Ticket.objects.filter(project=desk["project"]).order_by("created_at").first()
    assert oldest is not None  # the last row of the file: in the second range
    plan = plan_for(desk)
    before = read_all(plan, sessions=1)["data"]
    conn = open_export_connection()
    chunks = []
    try:
        stream = stream_rows(
            conn,
            plan,
            fmt="csv",
            on_total=lambda total: None,
            on_rows=lambda done: None,
            sessions=2,
        )
        chunks.append(next(stream))
        # Committed while the export runs, before the second range has been played back.
        Ticket.objects.filter(pk=oldest.pk).update(title="changed meanwhile")
        Ticket.objects.filter(project=desk["project"]).exclude(pk=oldest.pk).delete()
        changed.set()
        chunks.extend(stream)
    finally:
        conn.close()
    assert b"".join(chunks) == before
    assert b"changed meanwhile" not in before
    monkeypatch.undo()
    after = read_all(plan, sessions=2, parallel_min_rows=1)["data"]
    assert b"changed meanwhile" in after and after.count(b"\r\n") == 1  # the one left


def test_a_failing_range_fails_the_stream_and_closes_its_sessions(
    desk: dict[str, Any],
) -> None:
    bulk_tickets(desk["project"], 100, requester=desk["customer"])
    plan = plan_for(desk)
    assert plan.split is not None
    good = plan.split.copy_sql

    def broken(after: Any, through: Any) -> tuple[str, tuple[Any, ...]]:
        sql, params = good(after, through)
        if after is None:
            return sql, params
        return sql.replace("SELECT", "SELECT 1/0 AS boom,", 1), params

    split = dataclasses.replace(plan.split, copy_sql=broken)
    with pytest.raises(psycopg.errors.DivisionByZero):
        read_all(dataclasses.replace(plan, split=split), sessions=2)
    assert export_sessions(0) == 0


def test_stopping_mid_stream_cancels_the_other_sessions(desk: dict[str, Any]) -> None:
    bulk_tickets(desk["project"], 3000, requester=desk["customer"])
    plan = plan_for(desk)
    conn = open_export_connection()
    try:
        stream = stream_rows(
            conn,
            plan,
            fmt="csv",
            on_total=lambda total: None,
            on_rows=lambda done: None,
            sessions=3,
        )
        next(stream)
        assert export_sessions(3) == 3
        cast(
            Generator[bytes], stream
        ).close()  # what an error in the consumer (upload failed, job lost) does
        assert export_sessions(1) == 1
        assert not [t for t in threading.enumerate() if t.name == "export-range"]
    finally:
        conn.close()


def test_a_parallel_run_writes_the_one_session_file(
    desk: dict[str, Any], export_root: Any, settings: Any
) -> None:
    bulk_tickets(desk["project"], 500, requester=desk["customer"], assignee=desk["agent"])
    files = {}
    for sessions in (1, 2):
        settings.EXPORT_PARALLEL_SESSIONS = sessions
        settings.EXPORT_PARALLEL_MIN_ROWS = 1
        job = request_export(actor=desk["agent"], project_key="DESK", format="csv", bom=True)
        assert run_export(export_id=job.pk) == "succeeded"
        job.refresh_from_db()
        assert (job.rows_done, job.rows_total) == (500, 500)
        data = (export_root / job.file_key).read_bytes()
        assert job.checksum_sha256 == hashlib.sha256(data).hexdigest()
        files[sessions] = data
    assert files[1] == files[2]
    assert len(export_files(export_root)) == 2
