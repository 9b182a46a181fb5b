"""The request id reaches the tasks a request enqueues: their log lines in a real worker, and
the container healthchecks of the roles that serve no HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
import structlog
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

# Celery prints its shutdown notice to the terminal itself (not through logging).
CELERY_PRINTS = {"worker: Warm shutdown (MainProcess)"}


def worker_records() -> list[dict[str, object]]:
    """Every line the worker wrote, each one JSON object (json.loads raises on any other)."""
    from tests_support.live import worker_log_path

    lines = worker_log_path().read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip() and line not in CELERY_PRINTS]


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_request_id_reaches_a_real_workers_log_lines_for_the_task_it_caused():
    from tests_support.live import celery_worker, worker_log_path
    from tickets.tasks import ping_task

    with celery_worker():
        structlog.contextvars.bind_contextvars(request_id="rid-into-celery-7")
        try:
            first = ping_task.delay("with-id")
        finally:
            structlog.contextvars.clear_contextvars()
        second = ping_task.delay("without-id")  # the positive control: nothing bound
        assert first.get(timeout=30) == "pong:with-id"
        assert second.get(timeout=30) == "pong:without-id"
        # The result is stored before the success line is written: wait for the line.
        deadline = time.monotonic() + 30
        while worker_log_path().read_text().count("] succeeded in") < 2:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    records = worker_records()
    done = {
        record["task_id"]: record
        for record in records
        if record.get("logger") == "celery.app.trace" and "succeeded" in str(record["event"])
    }
    assert done[first.id]["request_id"] == "rid-into-celery-7"
    assert done[first.id]["task"] == "tickets.tasks.ping_task"
    assert "request_id" not in done[second.id]
    assert {record["logger"] for record in records} >= {"celery.worker.consumer.connection"}


def test_the_header_is_added_to_a_published_message_only_when_an_id_is_bound():
    from config import task_context

    headers: dict[str, object] = {}
    task_context._on_publish(headers=headers)
    assert headers == {}
    structlog.contextvars.bind_contextvars(request_id="rid-9")
    try:
        task_context._on_publish(headers=headers)
    finally:
        structlog.contextvars.clear_contextvars()
    assert headers == {"request_id": "rid-9"}


@pytest.mark.django_db
def test_beat_is_healthy_only_while_it_keeps_sending_tasks():
    call_command("sync_schedules")
    with pytest.raises(CommandError, match="beat sent no task since None") as never:
        call_command("healthcheck", "beat")
    assert never.value.returncode == 1
    PeriodicTask.objects.filter(name="sla-scan").update(
        last_run_at=timezone.now() - timedelta(seconds=181)
    )
    with pytest.raises(CommandError, match="limit 0:03:00"):
        call_command("healthcheck", "beat")
    PeriodicTask.objects.filter(name="compact-ticket-counts").update(
        last_run_at=timezone.now() - timedelta(seconds=5)
    )
    call_command("healthcheck", "beat")
    PeriodicTask.objects.filter(name="compact-ticket-counts").update(enabled=False)
    with pytest.raises(CommandError):
        call_command("healthcheck", "beat")


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_the_procfile_worker_is_healthy_by_its_name_and_only_while_it_runs(tmp_path: Path):
    from tests_support.live import ROOT, VENV_BIN, process_env

    line = (ROOT / "Procfile").read_text().split("\nworker: ", 1)[1].split("\n", 1)[0]
    env = process_env(WORKER_QUEUES="healthcheck-probe", PATH=f"{VENV_BIN}:/usr/bin:/bin")
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            ["sh", "-c", f"exec {line}"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while b"ready." not in log.read_bytes():
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.1)
        call_command("healthcheck", "worker", timeout=5)
        with pytest.raises(CommandError, match=f"sla@{socket.gethostname()} did not answer"):
            call_command("healthcheck", "sla", timeout=1)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
    with pytest.raises(CommandError, match=f"worker@{socket.gethostname()} did not answer"):
        call_command("healthcheck", "worker", timeout=1)


@pytest.mark.django_db(transaction=True)
def test_the_tasks_a_request_enqueues_carry_its_request_id(desk, as_user):
    from celery import signals

    published: list[tuple[str, object]] = []

    def collect(sender: str = "", headers: dict[str, object] | None = None, **_: object) -> None:
        published.append((sender, (headers or {}).get("request_id")))

    signals.before_task_publish.connect(collect, weak=False)
    try:
        response = as_user(desk["agent"]).post(
            "/api/v1/tickets/",
            {"project": "DESK", "title": "printer on fire"},
            format="json",
            HTTP_X_REQUEST_ID="rid-http-42",
        )
        assert response.status_code == 201
        outside = list(published)
        from tickets.tasks import ping_task

        ping_task.delay("after the request")  # the positive control: no request, no id
    finally:
        signals.before_task_publish.disconnect(collect)
    assert outside != []
    assert {request_id for _, request_id in outside} == {"rid-http-42"}
    assert published[-1] == ("tickets.tasks.ping_task", None)
