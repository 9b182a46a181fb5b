"""Running export jobs in-process: outcomes, idempotency, fencing, leftovers and retries."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from exports.models import ExportJob, ExportStatus
from exports.services import request_export, run_export
from exports.services.runner import fail_job
from exports.storage import export_key
from exports.streaming import LOCK_NAMESPACE, open_export_connection
from exports.tests.bulk import bulk_tickets
from exports.tests.conftest import export_files
from notifications.models import Notification
from tests_support.factories import make_ticket
from tickets.models import AuditLog, Membership, Message, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def read_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def queued_exports() -> list[dict[str, Any]]:
    """Export task messages waiting in the suite's broker queue (real Redis), newest first."""
    from django.conf import settings

    from config.redis import get_redis

    raw = get_redis().lrange(settings.CELERY_TASK_DEFAULT_QUEUE, 0, -1)
    messages = [json.loads(item) for item in raw]
    return [m for m in messages if m["headers"]["task"] == "exports.tasks.run_export_task"]


def test_a_run_streams_the_file_and_records_success(
    desk: dict[str, Any], export_root: Path
) -> None:
    bulk_tickets(desk["project"], 250, requester=desk["customer"])
    job = request_export(
        actor=desk["agent"], project_key="DESK", format="csv", fields=["id", "key", "title"]
    )
    assert job.status == ExportStatus.PENDING
    assert run_export(export_id=job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.status == ExportStatus.SUCCEEDED
    assert (job.rows_done, job.rows_total, job.attempts) == (250, 250, 1)
    assert job.storage == "filesystem"
    assert job.file_key == export_key(job.pk, job.filename)
    assert export_files(export_root) == [job.file_key]
    data = (export_root / job.file_key).read_bytes()
    assert job.file_size == len(data)
    assert job.checksum_sha256 == hashlib.sha256(data).hexdigest()
    rows = read_rows(export_root / job.file_key)
    assert rows[0] == ["id", "key", "title"]
    assert len(rows) == 251
    # Newest first, like the ticket list; the seeded formula titles arrive neutralised.
    assert rows[1][1] == "DESK-250"
    assert rows[-1][1] == "DESK-1"
    assert [r[2] for r in rows if r[1] == "DESK-97"] == [
        '\'=HYPERLINK("http://evil.example", "click 97")'
    ]
    assert job.expires_at is not None and job.finished_at is not None
    assert round((job.expires_at - job.finished_at).total_seconds()) == 72 * 3600
    audit = AuditLog.objects.get(action="export.requested")
    assert (audit.actor_id, audit.project_id) == (desk["agent"].pk, desk["project"].pk)
    assert audit.payload["new"]["export_id"] == job.pk
    note = Notification.objects.get(user=desk["agent"])
    assert note.kind == "export.succeeded"
    assert note.data["export_id"] == job.pk and note.data["rows"] == 250


def test_a_second_run_after_success_is_a_no_op(desk: dict[str, Any], export_root: Path) -> None:
    make_ticket(desk["project"], desk["agent"], title="one")
    job = request_export(actor=desk["agent"], project_key="DESK", format="jsonl")
    assert run_export(export_id=job.pk) == "succeeded"
    before = (export_root / ExportJob.objects.get(pk=job.pk).file_key).read_bytes()
    assert run_export(export_id=job.pk) == "skipped"
    after = ExportJob.objects.get(pk=job.pk)
    assert after.attempts == 1
    assert (export_root / after.file_key).read_bytes() == before
    assert len(export_files(export_root)) == 1
    assert Notification.objects.filter(kind="export.succeeded").count() == 1


def test_a_customers_export_holds_only_their_tickets(
    desk: dict[str, Any], export_root: Path
) -> None:
    mine = make_ticket(desk["project"], desk["customer"], title="my printer")
    make_ticket(desk["project"], desk["customer2"], title="their printer")
    make_ticket(desk["project"], desk["agent"], title="internal work")
    Message.objects.create(ticket=mine, author=desk["agent"], body="agents only", internal=True)
    job = request_export(
        actor=desk["customer"],
        project_key="DESK",
        format="jsonl",
        fields=["id", "title", "public_messages"],
    )
    assert run_export(export_id=job.pk) == "succeeded"
    job.refresh_from_db()
    lines = (export_root / job.file_key).read_bytes().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"id": mine.pk, "title": "my printer", "public_messages": []}
    ]
    assert job.rows_total == 1


def test_archived_all_survives_storage_and_exports_archived_tickets(
    desk: dict[str, Any], export_root: Path
) -> None:
    live = make_ticket(desk["project"], desk["agent"], title="live")
    archived = make_ticket(desk["project"], desk["agent"], title="archived")
    Ticket.objects.filter(pk=archived.pk).update(is_archived=True)
    job = request_export(
        actor=desk["agent"],
        project_key="DESK",
        format="jsonl",
        fields=["id"],
        filters={"archived": "all", "ordering": "created_at"},
    )
    assert job.filters == {"archived": "all", "ordering": "created_at"}
    assert run_export(export_id=job.pk) == "succeeded"
    job.refresh_from_db()
    lines = (export_root / job.file_key).read_bytes().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [live.pk, archived.pk]


def test_a_filter_that_matches_nothing_succeeds_with_just_the_header(
    desk: dict[str, Any], export_root: Path
) -> None:
    make_ticket(desk["project"], desk["agent"], title="medium", priority="medium")
    job = request_export(
        actor=desk["agent"],
        project_key="DESK",
        format="csv",
        fields=["id", "title"],
        filters={"priority": "critical"},
        bom=True,
    )
    assert run_export(export_id=job.pk) == "succeeded"
    job.refresh_from_db()
    assert (job.rows_total, job.rows_done) == (0, 0)
    assert (export_root / job.file_key).read_bytes() == b"\xef\xbb\xbfid,title\r\n"


def test_a_requester_removed_from_the_project_gets_a_failure_not_a_file(
    desk: dict[str, Any], export_root: Path
) -> None:
    job = request_export(actor=desk["agent"], project_key="DESK", format="csv")
    Membership.objects.filter(user=desk["agent"]).delete()
    assert run_export(export_id=job.pk) == "skipped"
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert job.error == "You are no longer a member of DESK, so the export was not run."
    assert export_files(export_root) == []
    assert Notification.objects.get(user=desk["agent"]).kind == "export.failed"


def test_a_retry_after_a_dead_attempt_leaves_exactly_one_file(
    desk: dict[str, Any], export_root: Path
) -> None:
    bulk_tickets(desk["project"], 30)
    job = request_export(actor=desk["agent"], project_key="DESK", format="csv")
    # What a worker killed mid-way leaves: the job running, attempt 1, and a partial file.
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, attempts=1)
    key = export_key(job.pk, ExportJob.objects.get(pk=job.pk).filename)
    partial = export_root / f"{key}.partial-1"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"id,key\r\n1,DESK-1\r\n")
    assert run_export(export_id=job.pk) == "succeeded"
    job.refresh_from_db()
    assert (job.status, job.attempts, job.rows_total) == (ExportStatus.SUCCEEDED, 2, 30)
    assert export_files(export_root) == [key]
    assert len(read_rows(export_root / key)) == 31


def test_a_job_whose_runs_keep_dying_is_failed_after_the_last_attempt(
    desk: dict[str, Any], export_root: Path
) -> None:
    job = request_export(actor=desk["agent"], project_key="DESK", format="csv")
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, attempts=3)
    assert run_export(export_id=job.pk) == "skipped"
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert "started 3 times" in job.error
    assert export_files(export_root) == []


def test_a_run_that_loses_the_job_mid_way_stops_and_leaves_no_file(
    desk: dict[str, Any], export_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bulk_tickets(desk["project"], 500)
    job = request_export(actor=desk["agent"], project_key="DESK", format="csv")
    pushes: list[dict[str, Any]] = []

    def watchdog_strikes(user_id: int, message: dict[str, Any]) -> None:
        pushes.append(message)
        if len(pushes) == 2:  # after rows_total, before the first rows arrive
            assert fail_job(job.pk, "Stopped by the watchdog.")

    monkeypatch.setattr("exports.services.runner.push_to_user", watchdog_strikes)
    monkeypatch.setattr("exports.services.reporting.push_to_user", watchdog_strikes)
    assert run_export(export_id=job.pk) == "lost"
    job.refresh_from_db()
    assert (job.status, job.error) == (ExportStatus.FAILED, "Stopped by the watchdog.")
    assert export_files(export_root) == []


def test_progress_is_pushed_every_percent_to_the_requester(
    desk: dict[str, Any], export_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exports.streaming import stream_rows

    bulk_tickets(desk["project"], 1000)
    job = request_export(actor=desk["agent"], project_key="DESK", format="jsonl")
    pushes: list[tuple[int, dict[str, Any]]] = []

    def slow_database(*args: Any, **kwargs: Any) -> Any:
        for chunk in stream_rows(*args, **kwargs):
            yield chunk
            time.sleep(0.01)  # 10 rows (1%) every 10 ms: a run long enough to watch

    monkeypatch.setattr("exports.services.runner.stream_rows", slow_database)
    monkeypatch.setattr(
        "exports.services.runner.push_to_user", lambda uid, msg: pushes.append((uid, msg))
    )
    monkeypatch.setattr(
        "exports.services.reporting.push_to_user", lambda uid, msg: pushes.append((uid, msg))
    )
    assert run_export(export_id=job.pk) == "succeeded"
    assert {uid for uid, _ in pushes} == {desk["agent"].pk}
    messages = [msg for _, msg in pushes]
    start = {"type": "export.progress", "id": job.pk, "rows_done": 0, "rows_total": None}
    assert messages[0] == {**start, "status": "running"}
    assert messages[1] == {**start, "rows_total": 1000, "status": "running"}
    assert messages[-1] == {**start, "rows_done": 1000, "rows_total": 1000, "status": "succeeded"}
    middle = messages[2:-1]
    assert all(m["status"] == "running" and m["rows_total"] == 1000 for m in middle)
    steps = [m["rows_done"] for m in middle]
    # Each 1% mark (10 rows) is offered; the writer takes the latest one every 50 ms, so over
    # this ~1 s run marks merge (about 20 writes) but never repeat or go back.
    assert steps == sorted(set(steps))
    assert all(n % 10 == 0 for n in steps) and steps[-1] == 1000
    assert 8 <= len(steps) <= 40


def test_another_live_run_makes_this_one_back_off(
    desk: dict[str, Any], export_root: Path, settings: Any
) -> None:
    settings.EXPORT_LOCK_WAIT_SECONDS = 0.2
    job = request_export(actor=desk["agent"], project_key="DESK", format="csv")
    holder = open_export_connection()
    try:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_NAMESPACE, job.pk])
        assert run_export(export_id=job.pk) == "busy"
        assert ExportJob.objects.get(pk=job.pk).status == ExportStatus.PENDING
    finally:
        holder.close()
    assert run_export(export_id=job.pk) == "succeeded"


def test_a_store_outage_requeues_the_job_with_a_delay(desk: dict[str, Any], settings: Any) -> None:
    from tests_support.live import free_port

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage"},
    }
    settings.AWS_STORAGE_BUCKET_NAME = "exports"
    settings.AWS_S3_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens
    settings.AWS_ACCESS_KEY_ID = settings.AWS_SECRET_ACCESS_KEY = "testing"
    settings.AWS_S3_CLIENT_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"})
    make_ticket(desk["project"], desk["agent"], title="one")
    job = request_export(actor=desk["agent"], project_key="DESK", format="csv")
    assert len(queued_exports()) == 1
    assert run_export(export_id=job.pk) == "requeued"
    job.refresh_from_db()
    assert (job.status, job.attempts) == (ExportStatus.PENDING, 1)
    assert job.error.startswith("Retrying after a temporary error (")
    messages = queued_exports()
    assert len(messages) == 2
    retry = messages[0]  # LPUSH: newest first
    assert retry["headers"]["eta"] is not None
    assert json.loads(base64.b64decode(retry["body"]))[0] == [job.pk]
