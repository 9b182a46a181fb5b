"""The watchdog (stuck and orphaned jobs) and retention (expired files)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from exports.models import ExportJob, ExportStatus
from exports.services import expire_exports, recover_stalled_exports, request_export
from exports.storage import export_key
from exports.streaming import LOCK_NAMESPACE, open_export_connection
from exports.tests.conftest import export_files

pytestmark = pytest.mark.django_db


def queued_export_ids() -> list[int]:
    import base64

    from django.conf import settings

    from config.redis import get_redis

    ids = []
    for raw in get_redis().lrange(settings.CELERY_TASK_DEFAULT_QUEUE, 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == "exports.tasks.run_export_task":
            ids.append(json.loads(base64.b64decode(message["body"]))[0][0])
    return ids


@pytest.fixture
def job(desk: dict[str, Any], export_root: Path, django_capture_on_commit_callbacks: Any) -> Any:
    with django_capture_on_commit_callbacks(execute=False):
        return request_export(actor=desk["agent"], project_key="DESK", format="csv")


def as_running(job: ExportJob, *, attempts: int = 1, minutes_ago: float = 0) -> ExportJob:
    moment = timezone.now() - timedelta(minutes=minutes_ago)
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.RUNNING,
        attempts=attempts,
        started_at=moment,
        heartbeat_at=moment,
        storage="filesystem",
    )
    return ExportJob.objects.get(pk=job.pk)


@pytest.fixture
def live_runner(job: ExportJob) -> Iterator[None]:
    """Another session holding the job's lock, as a run in progress does."""
    holder = open_export_connection()
    holder.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_NAMESPACE, job.pk])
    yield
    holder.close()


def test_a_job_nobody_picked_up_is_failed_with_a_clear_error(job: ExportJob) -> None:
    now = timezone.now()
    assert recover_stalled_exports(now=now + timedelta(minutes=14)) == {"failed": 0, "requeued": 0}
    assert ExportJob.objects.get(pk=job.pk).status == ExportStatus.PENDING
    assert recover_stalled_exports(now=now + timedelta(minutes=16)) == {"failed": 1, "requeued": 0}
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert job.error == (
        "No worker started this export within 15 minutes (are the Celery workers running?); "
        "request it again."
    )
    assert job.finished_at is not None


def test_a_running_job_whose_worker_died_is_requeued(
    job: ExportJob, django_capture_on_commit_callbacks: Any
) -> None:
    as_running(job, minutes_ago=2)
    with django_capture_on_commit_callbacks(execute=True):
        counts = recover_stalled_exports()
    assert counts == {"failed": 0, "requeued": 1}
    job.refresh_from_db()
    assert (job.status, job.attempts) == (ExportStatus.PENDING, 1)
    assert job.error == "The worker running attempt 1 stopped; retrying."
    assert queued_export_ids() == [job.pk]


def test_a_dead_worker_gets_a_grace_period_for_celerys_own_redelivery(job: ExportJob) -> None:
    as_running(job, minutes_ago=0.5)
    assert recover_stalled_exports() == {"failed": 0, "requeued": 0}
    assert ExportJob.objects.get(pk=job.pk).status == ExportStatus.RUNNING


def test_a_live_run_is_left_alone_until_it_overruns(job: ExportJob, live_runner: None) -> None:
    as_running(job, minutes_ago=30)
    assert recover_stalled_exports() == {"failed": 0, "requeued": 0}
    assert ExportJob.objects.get(pk=job.pk).status == ExportStatus.RUNNING
    assert recover_stalled_exports(now=timezone.now() + timedelta(minutes=11)) == {
        "failed": 1,
        "requeued": 0,
    }
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert job.error == (
        "The export did not finish within 40 minutes and was stopped; "
        "narrow the filters or choose fewer fields."
    )


def test_the_last_dead_attempt_fails_the_job_and_removes_its_leftovers(
    job: ExportJob, export_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    job = as_running(job, attempts=3, minutes_ago=5)
    partial = export_root / f"{export_key(job.pk, job.filename)}.partial-3"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"half a file")
    with django_capture_on_commit_callbacks(execute=True):
        assert recover_stalled_exports() == {"failed": 1, "requeued": 0}
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert job.error == (
        "The worker running this export stopped 3 times before it finished "
        "(killed or out of memory); giving up. Try fewer rows or fields."
    )
    assert export_files(export_root) == []
    assert queued_export_ids() == []


def test_retention_deletes_expired_files_and_marks_their_jobs(
    desk: dict[str, Any], export_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    jobs = []
    now = timezone.now()
    for hours in (-1, 1):
        with django_capture_on_commit_callbacks(execute=False):
            job = request_export(actor=desk["agent"], project_key="DESK", format="csv")
        key = export_key(job.pk, job.filename)
        (export_root / key).parent.mkdir(parents=True)
        (export_root / key).write_bytes(b"id\r\n")
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.SUCCEEDED,
            storage="filesystem",
            file_key=key,
            file_size=4,
            checksum_sha256="0" * 64,
            expires_at=now + timedelta(hours=hours),
        )
        jobs.append(ExportJob.objects.get(pk=job.pk))
    expired, kept = jobs
    assert expire_exports(now=now) == 1
    assert ExportJob.objects.get(pk=expired.pk).status == ExportStatus.EXPIRED
    assert ExportJob.objects.get(pk=kept.pk).status == ExportStatus.SUCCEEDED
    assert export_files(export_root) == [kept.file_key]
    assert expire_exports(now=now) == 0
