"""Exports through real Celery workers: killed mid-way and redelivered, and live progress on /ws/me/.

Recovery after a worker dies rests on three things, each exercised here:
- `acks_late` + `reject_on_worker_lost`: a pool process killed mid-task makes the worker requeue
  the message at once; a whole worker killed leaves it unacknowledged in Redis, which restores it
  after the visibility timeout (shortened to 2 s in these workers);
- the job's advisory lock lives in the dead worker's database session, so PostgreSQL frees it
  the moment the process is gone and the redelivered run can take the job over;
- the new attempt removes the dead one's partial file / incomplete multipart upload before it
  writes the same key again: the job ends with exactly one file.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from rest_framework.authtoken.models import Token

from exports.models import ExportJob, ExportStatus
from exports.services import request_export
from exports.storage import export_key
from exports.tests.bulk import bulk_tickets
from exports.tests.conftest import S3Server, bucket_keys, export_files, incomplete_uploads
from tests_support.live import asgi_server, celery_worker, wait_for

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

# Unacknowledged messages of a dead worker come back after this many seconds.
VISIBILITY = "2"


def job_state(job_id: int) -> ExportJob:
    return ExportJob.objects.get(pk=job_id)


def test_a_worker_killed_mid_export_is_redelivered_and_leaves_one_file(
    desk: dict[str, Any], export_root: Path
) -> None:
    bulk_tickets(desk["project"], 20_000, description_bytes=2000)
    env = {"MEDIA_ROOT": str(export_root), "CELERY_VISIBILITY_TIMEOUT": VISIBILITY}
    with celery_worker(concurrency=1, **env) as first:
        job = request_export(actor=desk["agent"], project_key="DESK", format="csv")
        key = export_key(job.pk, job.filename)
        partial = export_root / f"{key}.partial-1"
        wait_for(
            lambda: partial.exists() and partial.stat().st_size > 0, 30, "a partial file", 0.005
        )
        # The whole worker (main process and pool) dies: nobody acknowledges the message.
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    killed = job_state(job.pk)
    assert (killed.status, killed.attempts) == (ExportStatus.RUNNING, 1)
    assert killed.rows_total == 20_000 and killed.rows_done < 20_000
    assert export_files(export_root) == [f"{key}.partial-1"]

    # Redis hands the unacknowledged message to the next worker once it is VISIBILITY old.
    time.sleep(float(VISIBILITY))
    with celery_worker(concurrency=1, **env):
        wait_for(
            lambda: job_state(job.pk).status not in (ExportStatus.PENDING, ExportStatus.RUNNING),
            60,
            "the redelivered run to finish",
            step=0.1,
        )
    done = job_state(job.pk)
    assert (done.status, done.attempts, done.rows_done) == (ExportStatus.SUCCEEDED, 2, 20_000)
    assert export_files(export_root) == [key]
    data = (export_root / key).read_bytes()
    assert hashlib.sha256(data).hexdigest() == done.checksum_sha256
    # Header and rows end in CRLF; a newline inside a description is a bare LF.
    assert data.count(b"\r\n") == 20_001
    assert data.startswith(b"id,key,number,project,title,")


def test_a_killed_pool_process_is_requeued_at_once_and_the_requester_sees_it_live(
    desk: dict[str, Any], s3: S3Server
) -> None:
    from websockets.sync.client import connect

    bulk_tickets(desk["project"], 12_000, description_bytes=2000)
    token = Token.objects.create(user=desk["agent"]).key
    env = {**s3.env(), "EXPORT_PART_SIZE": str(5 * 1024 * 1024)}
    progress: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    with (
        asgi_server(**env) as ws_url,
        celery_worker(concurrency=1, **env),
        connect(f"{ws_url}/ws/me/?token={token}") as socket,
    ):
        assert json.loads(socket.recv(timeout=5)) == {"type": "welcome", "user": "agent"}
        job = request_export(actor=desk["agent"], project_key="DESK", format="jsonl")
        # A multipart upload exists once the second part is on its way.
        wait_for(lambda: incomplete_uploads(s3), 30, "a multipart upload in progress", 0.02)
        running = job_state(job.pk)
        assert (running.status, running.attempts) == (ExportStatus.RUNNING, 1)
        pid = int(running.worker.rsplit(":", 1)[1])
        os.kill(pid, signal.SIGKILL)  # the pool process only, as the OOM killer would
        while not notifications:
            message = json.loads(socket.recv(timeout=60))
            (progress if message["type"] == "export.progress" else notifications).append(message)

    done = job_state(job.pk)
    assert (done.status, done.attempts, done.rows_total) == (ExportStatus.SUCCEEDED, 2, 12_000)
    assert bucket_keys(s3) == [done.file_key]
    assert incomplete_uploads(s3) == []
    body = s3.client.get_object(Bucket=s3.bucket, Key=done.file_key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == done.checksum_sha256
    lines = body.split(b"\n")
    assert len(lines) == 12_001 and lines[-1] == b""
    assert {json.loads(line)["key"] for line in lines[:-1]} == {
        f"DESK-{n}" for n in range(1, 12_001)
    }

    # Live progress: attempt 1 climbs, the retry starts over, and it ends in success.
    start = {"type": "export.progress", "id": job.pk, "rows_done": 0, "rows_total": None}
    restarts = [i for i, m in enumerate(progress) if m == {**start, "status": "running"}]
    assert restarts[0] == 0 and len(restarts) == 2
    first, second = progress[: restarts[1]], progress[restarts[1] :]
    for attempt in (first, second):
        done_rows = [m["rows_done"] for m in attempt]
        assert done_rows == sorted(done_rows)
        assert {m["rows_total"] for m in attempt[1:]} == {12_000}
    assert 0 < first[-1]["rows_done"] < 12_000
    assert second[1] == {**start, "rows_total": 12_000, "status": "running"}
    steps = [m["rows_done"] for m in second[2:-1]]
    # 1% marks (120 rows), the latest one every 50 ms at most: merged, never repeated.
    assert steps == sorted(set(steps)) and all(n % 120 == 0 for n in steps)
    assert second[-1] == {**start, "rows_done": 12_000, "rows_total": 12_000, "status": "succeeded"}
    assert [(m["type"], m["notification"]["kind"]) for m in notifications] == [
        ("notification", "export.succeeded")
    ]
