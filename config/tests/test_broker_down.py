"""A broker that refuses messages never turns a committed change into an error (issue 18's
faults): a real gunicorn whose broker is a port nothing listens on answers a create with 201, the
ticket is saved, and the lost enqueue is logged with the task's name. The same create against the
suite's broker is the positive control: there the task reaches the queue."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from config.redis import get_redis
from tests_support.live import free_port, gunicorn_log, gunicorn_process, wait_for
from tickets.models import Ticket

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def create(base: str, token: str, title: str) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/tickets/",
        json={"project": "DESK", "title": title, "description": "smoke"},
        headers={"Authorization": f"Token {token}"},
        timeout=60,
    )


def log_events(base: str) -> list[dict[str, Any]]:
    path = gunicorn_log(base)
    events = []
    for line in path.read_text().splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def test_a_create_with_the_broker_down_answers_201_and_logs_the_lost_enqueue(
    desk: dict[str, Any],
) -> None:
    token = Token.objects.create(user=desk["agent"]).key
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with gunicorn_process(TEST_CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0") as (
        base,
        _,
    ):
        response = create(base, token, "Printer on fire")
        assert response.status_code == 201, response.text
        lost = wait_for(
            lambda: [e for e in log_events(base) if e.get("event") == "task_enqueue_failed"],
            30,
            "the lost enqueue's log line",
        )
    assert Ticket.objects.get(pk=response.json()["id"]).title == "Printer on fire"
    assert [e["task"] for e in lost] == ["tickets.tasks.classify_ticket_task"]
    assert "Connection refused" in lost[0]["error"]
    assert get_redis().llen(queue) == 0

    # The positive control: with the broker up the same create's task reaches the queue.
    with gunicorn_process() as (base, _):
        response = create(base, token, "Printer on fire again")
        assert response.status_code == 201, response.text
        wait_for(lambda: get_redis().llen(queue) == 1, 30, "the task in the queue")
    assert [e for e in log_events(base) if e.get("event") == "task_enqueue_failed"] == []
