"""Running an export: claim the job, stream its rows into the store, record the outcome.

Idempotent and safe to run twice at once. A run first takes the job's advisory lock on its own
database session: a second run waits briefly, then gives up ("busy"); a run whose predecessor
died gets the lock as soon as PostgreSQL notices the dead session. Under the lock, a job that is
no longer pending/running is left alone, so a redelivered task after success is a no-op. Every
write a run makes is fenced by its attempt number, so a run the watchdog gave up on cannot
overwrite a newer outcome.
"""

from __future__ import annotations

import os
import random
import socket
from datetime import timedelta
from functools import partial
from typing import Any

import botocore.exceptions
import psycopg
import structlog
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError as DjangoInterfaceError
from django.db import OperationalError as DjangoOperationalError
from django.db import transaction
from django.utils import timezone

from config.metrics.counters import record_export
from exports.conf import export_setting
from exports.models import ACTIVE_STATUSES, ExportJob, ExportStatus
from exports.selectors import copy_plan, export_tickets
from exports.services.reporting import ExportLost, ProgressReporter, progress_message
from exports.storage import BackgroundUpload, export_key, get_store
from exports.streaming import acquire_job_lock, open_export_connection, stream_rows
from exports.writers import ExportResult, make_writer, stream_encoded_export
from notifications.realtime import push_to_user
from tickets.filters import parse_ticket_filters
from tickets.permissions import role_in

logger = structlog.get_logger(__name__)

# Failures worth another attempt: the database or the object store was briefly unreachable.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    DjangoOperationalError,
    DjangoInterfaceError,
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectionClosedError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectTimeoutError,
)


def _push(job: ExportJob) -> None:
    message = progress_message(
        job.pk, rows_done=job.rows_done, rows_total=job.rows_total, status=job.status
    )
    transaction.on_commit(lambda: push_to_user(job.requester_id, message))


def _event_data(job: ExportJob) -> dict[str, Any]:
    return {
        "export_id": job.pk,
        "project_id": job.project_id,
        "project": job.project.key,
        "format": job.format,
        "status": job.status,
        "rows": job.rows_total,
    }


def _notify(job: ExportJob, kind: str, **extra: Any) -> None:
    """In-app notification for the requester, and the project's webhook event (no file link)."""
    from notifications.dispatch import notify_project_event, notify_user

    data = _event_data(job)
    notify_user(user=job.requester, kind=kind, data={**data, **extra})
    notify_project_event(kind=kind, project_id=job.project_id, data=data, actor=job.requester)


def fail_job(
    job_id: int, message: str, *, attempt: int | None = None, status: str | None = None
) -> bool:
    """Mark an active job failed with a message for its requester; False if it was not active.

    With `attempt`, only while the job still carries that attempt number (a run failing itself);
    with `status`, only while it is still in that state (the watchdog acting on what it saw).
    Leftovers of the failed attempt are removed after commit.
    """
    with transaction.atomic():
        job = _locked_active(job_id, attempt=attempt)
        if job is None or (status is not None and job.status != status):
            return False
        fail_locked(job, message)
    return True


def fail_locked(job: ExportJob, message: str) -> None:
    """Fail a job whose row the caller holds locked (inside its transaction)."""
    now = timezone.now()
    job.status = ExportStatus.FAILED
    job.error = message
    job.finished_at = now
    job.heartbeat_at = now
    job.save(update_fields=["status", "error", "finished_at", "heartbeat_at"])
    _notify(job, "export.failed", error=message)
    _push(job)
    key = export_key(job.pk, job.filename)
    store_name = job.storage or None
    transaction.on_commit(lambda: _discard_quietly(store_name, key))
    logger.warning("export_failed", export_id=job.pk, error=message)


def requeue_job(job_id: int, *, reason: str, attempt: int, countdown: float = 0) -> bool:
    """Put a running attempt back to pending and queue a new run after commit."""
    with transaction.atomic():
        job = _locked_active(job_id, attempt=attempt)
        if job is None or job.status != ExportStatus.RUNNING:
            return False
        requeue_locked(job, reason=reason, countdown=countdown)
    return True


def requeue_locked(job: ExportJob, *, reason: str, countdown: float = 0) -> None:
    """Requeue a running job whose row the caller holds locked (inside its transaction)."""
    from exports.tasks import run_export_task

    job.status = ExportStatus.PENDING
    job.queued_at = timezone.now()
    job.rows_done = 0
    job.worker = ""
    job.error = reason
    job.save(update_fields=["status", "queued_at", "rows_done", "worker", "error"])
    job_id = job.pk
    transaction.on_commit(
        lambda: run_export_task.apply_async((job_id,), countdown=countdown or None)
    )
    logger.info("export_requeued", export_id=job_id, reason=reason, countdown=countdown)


def _locked_active(job_id: int, *, attempt: int | None) -> ExportJob | None:
    job = (
        ExportJob.objects.select_for_update(of=("self",))
        .select_related("project", "requester")
        .filter(pk=job_id, status__in=ACTIVE_STATUSES)
        .first()
    )
    if job is None or (attempt is not None and job.attempts != attempt):
        return None
    return job


def _discard_quietly(store_name: str | None, key: str) -> None:
    try:
        get_store(store_name).discard_incomplete(key)
    except Exception:
        logger.warning("export_discard_failed", key=key, exc_info=True)


def _claim(export_id: int) -> ExportJob | None:
    """Start an attempt on a pending (or orphaned running) job; None when there is nothing to do."""
    max_attempts = int(export_setting("EXPORT_MAX_ATTEMPTS"))
    with transaction.atomic():
        job = (
            ExportJob.objects.select_for_update(of=("self",))
            .select_related("project", "requester")
            .filter(pk=export_id)
            .first()
        )
        if job is None or job.status not in ACTIVE_STATUSES:
            return None
        requester = job.requester
        failure = None
        if job.attempts >= max_attempts:
            failure = (
                f"The export was started {job.attempts} times and each run stopped before "
                "finishing (the worker was killed or ran out of memory); giving up."
            )
        elif role_in(requester, job.project) is None:
            failure = f"You are no longer a member of {job.project.key}, so the export was not run."
        if failure is not None:
            fail_locked(job, failure)
            return None
        now = timezone.now()
        job.status = ExportStatus.RUNNING
        job.attempts += 1
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.worker = f"{socket.gethostname()}:{os.getpid()}"
        job.rows_done = 0
        job.rows_total = None
        job.error = ""
        job.save(
            update_fields=[
                "status",
                "attempts",
                "started_at",
                "heartbeat_at",
                "worker",
                "rows_done",
                "rows_total",
                "error",
            ]
        )
        _push(job)
    return job


def _succeed(job: ExportJob, *, store_name: str, key: str, result: ExportResult, rows: int) -> None:
    with transaction.atomic():
        current = (
            ExportJob.objects.select_for_update(of=("self",))
            .filter(pk=job.pk, attempts=job.attempts, status=ExportStatus.RUNNING)
            .first()
        )
        if current is None:
            raise ExportLost(f"export {job.pk} was taken from attempt {job.attempts}")
        now = timezone.now()
        job.status = ExportStatus.SUCCEEDED
        job.rows_done = job.rows_total = rows
        job.storage = store_name
        job.file_key = key
        job.file_size = result.size
        job.checksum_sha256 = result.sha256
        job.finished_at = job.heartbeat_at = now
        job.expires_at = now + timedelta(hours=float(export_setting("EXPORT_RETENTION_HOURS")))
        job.error = ""
        transaction.on_commit(
            partial(
                record_export,
                fmt=job.format,
                rows=rows,
                size=result.size,
                seconds=(now - (job.started_at or now)).total_seconds(),
            )
        )
        job.save(
            update_fields=[
                "status",
                "rows_done",
                "rows_total",
                "storage",
                "file_key",
                "file_size",
                "checksum_sha256",
                "finished_at",
                "heartbeat_at",
                "expires_at",
                "error",
            ]
        )
        _notify(job, "export.succeeded", file_size=result.size, expires_at=job.expires_at)
        _push(job)


def _execute(job: ExportJob, conn: psycopg.Connection[Any]) -> None:
    store = get_store()
    key = export_key(job.pk, job.filename)
    writer = make_writer(job.format, job.fields, bom=job.bom)
    filters = parse_ticket_filters(job.filters)
    tickets = export_tickets(
        user=job.requester, project=job.project, filters=filters, as_of=job.as_of
    )
    plan = copy_plan(
        tickets, project=job.project, fmt=job.format, fields=tuple(job.fields), filters=filters
    )
    reporter = ProgressReporter(job)
    # Whatever a dead attempt left behind goes first, so the key ends with exactly one file.
    store.discard_incomplete(key)
    # Recorded before the first byte, so the watchdog cleans up the right store after a crash.
    ExportJob.objects.filter(pk=job.pk, attempts=job.attempts).update(storage=store.name)
    job.storage = store.name
    upload = BackgroundUpload(
        store.begin(key, content_type=writer.content_type, attempt=job.attempts)
    )
    try:
        chunks = stream_rows(
            conn,
            plan,
            fmt=job.format,
            on_total=reporter.total,
            on_rows=reporter.rows,
            sessions=int(export_setting("EXPORT_PARALLEL_SESSIONS")),
            parallel_min_rows=int(export_setting("EXPORT_PARALLEL_MIN_ROWS")),
        )
        stream = stream_encoded_export(writer, chunks, store.part_size)
        for part in stream:
            upload.write(part)
        # Last check before the file becomes visible under its key.
        reporter.finish()
        upload.complete()
    except BaseException:
        reporter.close()
        upload.abort()
        raise
    try:
        _succeed(job, store_name=store.name, key=key, result=stream.result, rows=reporter.done)
    except ExportLost:
        # The job was failed while the file went up; a file nobody can download must not stay.
        store.delete(key)
        raise


def _retry_delay(attempt: int) -> float:
    # 15 s, 30 s, 60 s ... with jitter so a burst of failed jobs does not retry in lockstep.
    return min(300.0, 15.0 * 2 ** max(0, attempt - 1)) * random.uniform(0.8, 1.2)


def run_export(*, export_id: int) -> str:
    """Run one export job to its outcome; returns what happened (for logs and tests).

    `succeeded`/`failed`: the job's final state was written. `requeued`: a transient error,
    another attempt is queued. `skipped`: nothing to do (already finished, or gone). `busy`:
    another live run holds the job. `lost`: the watchdog took the job away mid-run.
    """
    conn = open_export_connection()
    try:
        if not acquire_job_lock(
            conn, export_id, wait_seconds=float(export_setting("EXPORT_LOCK_WAIT_SECONDS"))
        ):
            logger.info("export_busy", export_id=export_id)
            return "busy"
        job = _claim(export_id)
        if job is None:
            return "skipped"
        log = logger.bind(export_id=job.pk, attempt=job.attempts)
        log.info("export_started", format=job.format, project=job.project.key)
        try:
            _execute(job, conn)
        except ExportLost:
            log.warning("export_lost")
            return "lost"
        except SoftTimeLimitExceeded:
            fail_job(
                job.pk,
                "The export took longer than the time limit and was stopped; "
                "narrow the filters or choose fewer fields.",
                attempt=job.attempts,
            )
            return "failed"
        except TRANSIENT_ERRORS as exc:
            log.warning("export_transient_error", exc_info=True)
            reason = f"Retrying after a temporary error ({type(exc).__name__})."
            if job.attempts < int(export_setting("EXPORT_MAX_ATTEMPTS")) and requeue_job(
                job.pk, reason=reason, attempt=job.attempts, countdown=_retry_delay(job.attempts)
            ):
                return "requeued"
            fail_job(
                job.pk,
                f"The export failed {job.attempts} times on temporary errors "
                f"(last: {type(exc).__name__}); try again later.",
                attempt=job.attempts,
            )
            return "failed"
        except Exception as exc:
            log.exception("export_error")
            fail_job(
                job.pk,
                f"The export failed on an unexpected error ({type(exc).__name__}); "
                f"it was logged as export {job.pk}.",
                attempt=job.attempts,
            )
            return "failed"
        log.info("export_succeeded", rows=job.rows_total, size=job.file_size)
        return "succeeded"
    finally:
        # Ends the session, which releases the advisory lock and cancels any unread COPY.
        conn.close()
