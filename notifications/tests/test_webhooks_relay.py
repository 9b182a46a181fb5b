"""The relay, the fan-out and pruning of the outbox, and how an attempt reaches its address."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from notifications.models import EmailDelivery, Notification, WebhookAttempt, WebhookDelivery
from notifications.tests.webhook_receiver import running_receiver
from notifications.webhooks import delivery as relay
from notifications.webhooks.services import create_webhook
from tests_support.factories import make_ticket
from tickets.services.conversation import add_message
from tickets.services.moves import move_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    with running_receiver() as running:
        yield running


@pytest.fixture
def hook(desk):
    with override_settings(WEBHOOK_ALLOWED_NETWORKS=["127.0.0.0/8"]):
        return create_webhook(
            actor=desk["admin"], project=desk["project"], url="http://127.0.0.1:9/hooks"
        )


@pytest.fixture
def ticket(desk):
    return make_ticket(desk["project"], desk["customer"], title="Printer on fire")


def _one_delivery(**filters) -> WebhookDelivery:
    return WebhookDelivery.objects.get(**filters)


def test_the_relay_picks_up_rows_nobody_holds_once(desk, hook, ticket):
    created = _one_delivery(event_type="ticket.created")
    # Fresh rows are expected to be queued by their own transaction: not the relay's yet.
    assert relay.due_for_relay(limit=100) == []
    WebhookDelivery.objects.filter(pk=created.pk).update(relay_after=timezone.now())
    assert relay.due_for_relay(limit=100) == [created.pk]
    assert relay.due_for_relay(limit=100) == []  # re-queued now: left alone for a grace period
    # A claimed row (a worker is on it) is not relayed until its lease lapses.
    WebhookDelivery.objects.filter(pk=created.pk).update(relay_after=timezone.now())
    assert relay.claim(created.pk) is not None
    assert relay.claim(created.pk) is None
    assert relay.due_for_relay(limit=100) == []
    WebhookDelivery.objects.filter(pk=created.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1),
        relay_after=timezone.now() - timedelta(seconds=1),
    )
    assert relay.due_for_relay(limit=100) == [created.pk]
    assert relay.claim(created.pk) is not None


def _queued() -> list[tuple[str, str]]:
    from config.redis import get_redis

    redis = get_redis()
    heads = [
        json.loads(redis.lindex("helpline", i) or b"{}")["headers"]
        for i in range(redis.llen("helpline"))
    ]
    return sorted((h["task"].rsplit(".", 1)[-1], h["argsrepr"]) for h in heads)


def test_the_relay_task_queues_what_is_due_and_the_dispatch_task_fans_out(desk, hook, ticket):
    from notifications.tasks import dispatch_event_task, relay_outbox_task

    add_message(actor=desk["agent"], ticket_id=ticket.pk, body="hello")
    email = EmailDelivery.objects.get(kind="ticket.commented")
    delivery = _one_delivery(event_type="ticket.commented")
    note = Notification.objects.get(kind="ticket.commented")
    assert relay_outbox_task() == {"emails": 0, "deliveries": 0}
    EmailDelivery.objects.filter(pk=email.pk).update(relay_after=timezone.now())
    WebhookDelivery.objects.filter(pk=delivery.pk).update(relay_after=timezone.now())
    assert relay_outbox_task() == {"emails": 1, "deliveries": 1}
    assert _queued() == [
        ("deliver_webhook_task", f"({delivery.pk},)"),
        ("send_email_task", f"({email.pk},)"),
    ]
    from config.redis import get_redis

    get_redis().delete("helpline")
    dispatch_event_task([note.pk], [email.pk], [delivery.pk])
    assert _queued() == [
        ("deliver_webhook_task", f"({delivery.pk},)"),
        ("send_email_task", f"({email.pk},)"),
    ]


def test_pruning_keeps_what_is_pending_recent_or_unread(desk, hook, ticket):
    from notifications.tasks import prune_notification_outbox_task

    long_ago = timezone.now() - timedelta(days=400)
    move_ticket(actor=desk["lead"], ticket_id=ticket.pk, status_key="in_progress")
    old_done, old_pending = WebhookDelivery.objects.order_by("id")[:2]
    WebhookDelivery.objects.filter(pk=old_done.pk).update(status="succeeded", created_at=long_ago)
    WebhookAttempt.objects.create(
        delivery=old_done, number=1, started_at=long_ago, duration_ms=3, outcome="succeeded"
    )
    WebhookDelivery.objects.filter(pk=old_pending.pk).update(created_at=long_ago)
    old_read = Notification.objects.create(
        user=desk["agent"], event_id=uuid.uuid4(), kind="ticket.moved", title="x", read_at=long_ago
    )
    Notification.objects.create(
        user=desk["agent"],
        event_id=uuid.uuid4(),
        kind="ticket.moved",
        title="unread",
        created_at=long_ago,
    )
    assert prune_notification_outbox_task() == {"deliveries": 1, "emails": 0, "notifications": 1}
    assert not WebhookDelivery.objects.filter(pk=old_done.pk).exists()
    assert WebhookDelivery.objects.filter(pk=old_pending.pk).exists()
    assert not Notification.objects.filter(pk=old_read.pk).exists()
    assert Notification.objects.filter(title="unread").exists()


def test_an_attempt_connects_to_the_checked_address_with_the_original_host(receiver):
    from notifications.webhooks import http
    from notifications.webhooks.urlsafety import Target

    port = int(receiver.url.split(":")[2].split("/")[0])
    # The name does not resolve anywhere: only the pinned address can have been used.
    target = Target(
        scheme="http",
        host="hooks.example.invalid",
        port=port,
        path="/in?x=1",
        addresses=("127.0.0.1",),
    )
    result = http.post(
        target,
        headers={"content-type": "application/json"},
        body=b"{}",
        limits=http.Limits(
            connect_timeout=2, read_timeout=2, total_timeout=5, max_response_bytes=16
        ),
    )
    assert (result.status_code, result.body_excerpt, result.error) == (200, "ok", "")
    [request] = receiver.requests
    assert request.headers["host"] == f"hooks.example.invalid:{port}"
    assert request.path == "/in?x=1"
    assert request.headers["accept-encoding"] == "identity"
