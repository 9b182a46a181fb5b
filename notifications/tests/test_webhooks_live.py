"""Webhooks end to end: the write path, a real Celery worker, a real local HTTP receiver."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from django.test import override_settings
from standardwebhooks.webhooks import Webhook as ReferenceWebhook

from config.redis import get_redis
from notifications.models import WebhookAttempt, WebhookDelivery
from notifications.tasks import relay_outbox_task
from notifications.tests.webhook_receiver import Answer, running_receiver
from notifications.webhooks.services import create_webhook
from tests_support.factories import make_ticket
from tests_support.live import celery_worker
from tickets.services.conversation import add_message
from tickets.services.moves import move_ticket

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

WORKER_ENV = {
    "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
    "WEBHOOK_RETRY_BASE_SECONDS": "0.2",
    "WEBHOOK_CLAIM_SECONDS": "2",
    "OUTBOX_RELAY_GRACE_SECONDS": "1",
}


@pytest.fixture(autouse=True)
def local_receivers_allowed():
    with override_settings(WEBHOOK_ALLOWED_NETWORKS=["127.0.0.0/8"], OUTBOX_RELAY_GRACE_SECONDS=1):
        yield


def _wait_until(predicate, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_receiver_failing_three_times_accepts_the_event_exactly_once_under_one_id(desk):
    ticket = make_ticket(desk["project"], desk["customer"], title="Printer on fire")
    with running_receiver() as receiver:
        hook = create_webhook(
            actor=desk["admin"], project=desk["project"], url=receiver.url, events=["ticket.moved"]
        )
        receiver.answer(
            Answer(status=500, body=b"oops"),
            Answer(status=429, headers={"Retry-After": "1"}),
            Answer(status=502),
            Answer(status=204, body=b""),
        )
        with celery_worker(1, **WORKER_ENV):
            move_ticket(actor=desk["lead"], ticket_id=ticket.pk, status_key="in_progress")
            requests = receiver.wait_for(4)
            _wait_until(
                lambda: WebhookDelivery.objects.filter(status="succeeded").exists(),
                what="the success to be recorded",
            )
            time.sleep(1.0)  # anything more would arrive now
        assert len(receiver.requests) == 4

    delivery = WebhookDelivery.objects.get()
    assert {r.headers["webhook-id"] for r in requests} == {delivery.message_id}
    assert {r.body for r in requests} == {delivery.payload.encode()}
    for request in requests:  # every attempt is signed afresh, each verifies
        assert (
            ReferenceWebhook(hook.secret).verify(request.body, request.headers)["type"]
            == "ticket.moved"
        )
    # Retry-After: 1 was honoured between the second and third attempt.
    assert requests[2].at - requests[1].at >= 0.95
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 4, 204)
    assert list(
        WebhookAttempt.objects.filter(delivery=delivery).values_list("outcome", "response_status")
    ) == [("retry", 500), ("retry", 429), ("retry", 502), ("succeeded", 204)]


def test_an_enqueue_lost_after_commit_is_sent_by_the_relay(desk):
    ticket = make_ticket(desk["project"], desk["customer"], title="Printer on fire")
    with running_receiver() as receiver:
        create_webhook(
            actor=desk["admin"],
            project=desk["project"],
            url=receiver.url,
            events=["ticket.commented"],
        )
        get_redis().delete("helpline")
        add_message(actor=desk["agent"], ticket_id=ticket.pk, body="The relay will carry this.")
        # The change committed; now lose its queued task, as a crash before enqueue would.
        assert get_redis().delete("helpline") == 1
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "pending"
        time.sleep(1.1)  # past the relay grace
        with celery_worker(1, **WORKER_ENV):
            assert receiver.requests == []
            assert relay_outbox_task.delay().get(timeout=20) == {"emails": 1, "deliveries": 1}
            [request] = receiver.wait_for(1)
            _wait_until(lambda: WebhookDelivery.objects.filter(status="succeeded").exists())
    assert request.headers["webhook-id"] == delivery.message_id
    assert json.loads(request.body)["data"]["message"]["body"] == "The relay will carry this."


def test_a_worker_killed_mid_delivery_loses_nothing(desk):
    ticket = make_ticket(desk["project"], desk["customer"], title="Printer on fire")
    with running_receiver() as receiver:
        hook = create_webhook(
            actor=desk["admin"], project=desk["project"], url=receiver.url, events=["ticket.moved"]
        )
        # The first attempt hangs at the receiver until the worker is dead.
        receiver.answer(Answer(status=500, delay=15))
        with celery_worker(1, **WORKER_ENV) as doomed:
            move_ticket(actor=desk["lead"], ticket_id=ticket.pk, status_key="in_progress")
            receiver.wait_for(1)
            os.killpg(doomed.pid, signal.SIGKILL)
            doomed.wait(10)
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts) == ("pending", 0)
        assert delivery.claimed_until is not None
        with celery_worker(1, **WORKER_ENV):
            # The killed worker's task is unacknowledged in the broker for an hour; its lease on
            # the row lapses in 2 s, and then the relay hands the row to this worker.
            _wait_until(
                lambda: relay_outbox_task.delay().get(timeout=20)["deliveries"] == 1,
                what="the relay to pick the delivery up",
            )
            requests = receiver.wait_for(2)
            _wait_until(lambda: WebhookDelivery.objects.filter(status="succeeded").exists())
    assert {r.headers["webhook-id"] for r in requests} == {delivery.message_id}
    assert ReferenceWebhook(hook.secret).verify(requests[1].body, requests[1].headers)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 1, 200)
