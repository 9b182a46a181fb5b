"""The outbox and one attempt at a time, against a real local HTTP receiver (in-process)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook as ReferenceWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from notifications.models import (
    EmailDelivery,
    Notification,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from notifications.tests.webhook_receiver import Answer, running_receiver
from notifications.webhooks.delivery import attempt_delivery
from notifications.webhooks.services import create_webhook, rotate_webhook_secret
from tests_support.factories import make_project, make_ticket, make_user
from tickets.models import AuditLog
from tickets.services.conversation import add_message
from tickets.services.moves import move_ticket
from tickets.services.tickets import assign_ticket

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("local_receivers_allowed"),
]


@pytest.fixture
def local_receivers_allowed():
    with override_settings(WEBHOOK_ALLOWED_NETWORKS=["127.0.0.0/8"]):
        yield


@pytest.fixture
def receiver():
    with running_receiver() as running:
        yield running


@pytest.fixture
def hook(desk, receiver):
    return create_webhook(actor=desk["admin"], project=desk["project"], url=receiver.url)


@pytest.fixture
def ticket(desk):
    return make_ticket(desk["project"], desk["customer"], title="Printer on fire")


def _one_delivery(**filters) -> WebhookDelivery:
    return WebhookDelivery.objects.get(**filters)


def attempt(delivery_id: int) -> tuple[str, float | None]:
    """One attempt that is expected to happen (not a no-op)."""
    result = attempt_delivery(delivery_id)
    assert result is not None, "the delivery was not claimable"
    return result


def test_a_move_writes_one_signed_delivery_that_verifies_with_the_reference_library(
    desk, hook, receiver, ticket
):
    WebhookDelivery.objects.all().delete()
    move_ticket(actor=desk["lead"], ticket_id=ticket.pk, status_key="in_progress")
    delivery = _one_delivery(event_type="ticket.moved")
    assert delivery.status == "pending" and delivery.attempts == 0

    assert attempt(delivery.pk) == ("succeeded", None)

    [request] = receiver.requests
    assert request.path == "/hooks/helpline"
    assert request.headers["webhook-id"] == delivery.message_id
    assert request.headers["content-type"] == "application/json"
    assert request.body == delivery.payload.encode()
    body = ReferenceWebhook(hook.secret).verify(request.body, request.headers)
    assert set(body) == {"id", "type", "timestamp", "data"}
    assert body["id"] == delivery.message_id and body["type"] == "ticket.moved"
    assert body["data"]["from_status"] == "new"
    assert body["data"]["actor"] == "lead"
    assert body["data"]["ticket"]["key"] == f"DESK-{ticket.number}"
    assert body["data"]["ticket"]["status"] == "in_progress"
    assert body["data"]["ticket"]["requester"] == "customer"

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 1, 200)
    assert delivery.response_excerpt == "ok" and delivery.succeeded_at is not None
    assert delivery.claimed_until is None
    [logged] = WebhookAttempt.objects.filter(delivery=delivery)
    assert (logged.number, logged.outcome, logged.response_status) == (1, "succeeded", 200)
    assert logged.duration_ms >= 0 and logged.error == ""
    # Done is done: another task for the same row sends nothing.
    assert attempt_delivery(delivery.pk) is None
    assert len(receiver.requests) == 1


def test_a_public_reply_carries_the_message_and_an_internal_note_writes_no_delivery(
    desk, hook, receiver, ticket
):
    WebhookDelivery.objects.all().delete()
    add_message(actor=desk["agent"], ticket_id=ticket.pk, body="Try the blue cable.")
    add_message(actor=desk["agent"], ticket_id=ticket.pk, body="Customer is rude", internal=True)
    [delivery] = WebhookDelivery.objects.all()
    assert delivery.event_type == "ticket.commented"
    data = json.loads(delivery.payload)["data"]
    assert data["message"]["body"] == "Try the blue cable."
    assert data["message"]["internal"] is False
    assert "rude" not in "".join(WebhookDelivery.objects.values_list("payload", flat=True))


def test_event_filters_inactive_endpoints_and_other_projects(desk, receiver, ticket):
    comments_only = create_webhook(
        actor=desk["admin"], project=desk["project"], url=receiver.url, events=["ticket.commented"]
    )
    off = create_webhook(actor=desk["admin"], project=desk["project"], url=receiver.url)
    Webhook.objects.filter(pk=off.pk).update(is_active=False)
    other = make_project("OTHER")
    create_webhook(actor=make_user("root2", is_superuser=True), project=other, url=receiver.url)

    move_ticket(actor=desk["lead"], ticket_id=ticket.pk, status_key="in_progress")
    assert WebhookDelivery.objects.count() == 0
    add_message(actor=desk["agent"], ticket_id=ticket.pk, body="hello")
    assert list(WebhookDelivery.objects.values_list("webhook_id", "event_type")) == [
        (comments_only.pk, "ticket.commented")
    ]


def test_the_outbox_row_lives_and_dies_with_the_change(desk, hook, ticket):
    WebhookDelivery.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        move_ticket(actor=desk["lead"], ticket_id=ticket.pk, status_key="in_progress")
        assert WebhookDelivery.objects.count() == 1
        raise RuntimeError("the change fails after the outbox insert")
    assert WebhookDelivery.objects.count() == 0


def test_every_endpoint_gets_the_same_event_id(desk, receiver, ticket):
    first = create_webhook(actor=desk["admin"], project=desk["project"], url=receiver.url)
    second = create_webhook(actor=desk["admin"], project=desk["project"], url=receiver.url)
    move_ticket(actor=desk["lead"], ticket_id=ticket.pk, status_key="in_progress")
    rows = list(WebhookDelivery.objects.order_by("webhook_id"))
    assert [r.webhook_id for r in rows] == [first.pk, second.pk]
    assert rows[0].message_id == rows[1].message_id and rows[0].payload == rows[1].payload


def test_a_5xx_is_retried_later_with_the_same_id_and_body(desk, hook, receiver, ticket):
    receiver.answer(Answer(status=503, body=b"down for maintenance"))
    delivery = _one_delivery(event_type="ticket.created")
    before = timezone.now()
    outcome, retry_in = attempt(delivery.pk)
    assert outcome == "retry" and retry_in is not None and 3.75 <= retry_in <= 6.25  # 5 s +- 25 %
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.response_status == 503 and delivery.response_excerpt == "down for maintenance"
    assert before + timedelta(seconds=3.7) <= delivery.next_attempt_at
    # Not due yet: a duplicate task does nothing.
    assert attempt_delivery(delivery.pk) is None
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert attempt(delivery.pk) == ("succeeded", None)
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    assert first.body == second.body
    assert list(
        WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "outcome")
    ) == [(1, "retry"), (2, "succeeded")]


def test_429_honours_retry_after(desk, hook, receiver, ticket):
    receiver.answer(Answer(status=429, headers={"Retry-After": "120"}))
    delivery = _one_delivery(event_type="ticket.created")
    outcome, retry_in = attempt(delivery.pk)
    assert (outcome, retry_in) == ("retry", 120.0)


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
def test_other_4xx_fail_at_once(desk, hook, receiver, ticket, status):
    receiver.answer(Answer(status=status, body=b"no such hook"))
    delivery = _one_delivery(event_type="ticket.created")
    assert attempt(delivery.pk) == ("failed", None)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status) == ("failed", status)
    assert len(receiver.requests) == 1


def test_redirects_are_not_followed(desk, hook, receiver, ticket):
    receiver.answer(Answer(status=302, headers={"Location": receiver.url + "/elsewhere"}))
    delivery = _one_delivery(event_type="ticket.created")
    assert attempt(delivery.pk) == ("failed", None)
    delivery.refresh_from_db()
    assert delivery.response_status == 302
    assert "Redirects are not followed" in delivery.error
    assert [r.path for r in receiver.requests] == ["/hooks/helpline"]


def test_a_huge_answer_is_read_only_up_to_the_bound(desk, hook, receiver, ticket):
    receiver.answer(Answer(status=200, body=b"x" * 5_000_000))
    delivery = _one_delivery(event_type="ticket.created")
    assert attempt(delivery.pk) == ("succeeded", None)
    delivery.refresh_from_db()
    assert delivery.response_excerpt == "x" * 1024


@override_settings(WEBHOOK_READ_TIMEOUT=0.3)
def test_a_slow_receiver_times_out_and_is_retried(desk, hook, receiver, ticket):
    receiver.answer(Answer(delay=2.0))
    delivery = _one_delivery(event_type="ticket.created")
    outcome, _ = attempt(delivery.pk)
    assert outcome == "retry"
    delivery.refresh_from_db()
    assert delivery.response_status is None
    assert delivery.error.startswith("ReadTimeout")
    assert delivery.duration_ms is not None and delivery.duration_ms < 1500


def test_a_refused_connection_is_retried(desk, ticket):
    from tests_support.live import free_port

    create_webhook(
        actor=desk["admin"],
        project=desk["project"],
        url=f"http://127.0.0.1:{free_port()}/nothing-listens",
    )
    move_ticket(actor=desk["lead"], ticket_id=ticket.pk, status_key="in_progress")
    delivery = _one_delivery(event_type="ticket.moved")
    assert attempt(delivery.pk)[0] == "retry"
    delivery.refresh_from_db()
    assert delivery.error.startswith("ConnectError")


def test_an_address_that_became_private_is_refused_before_connecting(desk, hook, receiver, ticket):
    delivery = _one_delivery(event_type="ticket.created")
    with override_settings(WEBHOOK_ALLOWED_NETWORKS=[]):
        assert attempt(delivery.pk) == ("failed", None)
    delivery.refresh_from_db()
    assert delivery.error.startswith("Refused: ")
    assert receiver.requests == []


@override_settings(WEBHOOK_MAX_ATTEMPTS=3)
def test_the_last_attempt_gives_up(desk, hook, receiver, ticket):
    receiver.default = Answer(status=500)
    delivery = _one_delivery(event_type="ticket.created")
    outcomes = []
    for _ in range(3):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        outcomes.append(attempt(delivery.pk)[0])
    assert outcomes == ["retry", "retry", "failed"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 3)


@override_settings(WEBHOOK_DISABLE_AFTER_FAILURES=3, WEBHOOK_DISABLE_AFTER_SECONDS=0)
def test_a_long_run_of_failures_disables_the_endpoint_and_tells_the_admins(
    desk, hook, receiver, ticket
):
    receiver.default = Answer(status=500)
    for status in ("in_progress", "blocked"):
        move_ticket(actor=desk["lead"], ticket_id=ticket.pk, status_key=status)
    Notification.objects.all().delete()
    EmailDelivery.objects.all().delete()
    ids = list(WebhookDelivery.objects.order_by("id").values_list("pk", flat=True))
    assert len(ids) == 3
    assert attempt(ids[0])[0] == "retry"
    assert attempt(ids[1])[0] == "retry"
    hook.refresh_from_db()
    assert (hook.is_active, hook.consecutive_failures) == (True, 2)
    assert attempt(ids[2])[0] == "retry"
    hook.refresh_from_db()
    assert hook.is_active is False and hook.disabled_at is not None
    assert hook.disabled_reason.startswith("3 failed attempts in a row")
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"failed"}
    assert set(Notification.objects.values_list("user__username", "kind")) == {
        ("admin", "webhook.disabled")
    }
    assert set(EmailDelivery.objects.values_list("user__username", "kind")) == {
        ("admin", "webhook.disabled")
    }
    assert (
        AuditLog.objects.filter(action="webhook.disabled", project_id=desk["project"].pk).count()
        == 1
    )
    # A disabled endpoint gets nothing new.
    assign_ticket(actor=desk["lead"], ticket_id=ticket.pk, assignee=desk["agent"])
    assert not WebhookDelivery.objects.filter(event_type="ticket.assigned").exists()


@override_settings(WEBHOOK_DISABLE_AFTER_FAILURES=3, WEBHOOK_DISABLE_AFTER_SECONDS=0)
def test_a_success_ends_the_failure_run(desk, hook, receiver, ticket):
    receiver.answer(Answer(status=500), Answer(status=500))
    for status in ("in_progress", "blocked", "open"):
        move_ticket(actor=desk["lead"], ticket_id=ticket.pk, status_key=status)
    ids = list(WebhookDelivery.objects.order_by("id").values_list("pk", flat=True))
    assert [attempt(i)[0] for i in ids[:3]] == ["retry", "retry", "succeeded"]
    hook.refresh_from_db()
    assert (hook.is_active, hook.consecutive_failures, hook.failing_since) == (True, 0, None)


def test_during_a_rotation_both_secrets_sign(desk, hook, receiver, ticket):
    old_secret = hook.secret
    rotated = rotate_webhook_secret(
        actor=desk["admin"], project=desk["project"], webhook_id=hook.pk
    )
    delivery = _one_delivery(event_type="ticket.created")
    attempt(delivery.pk)
    [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old_secret, rotated.secret):
        ReferenceWebhook(secret).verify(request.body, request.headers)

    Webhook.objects.filter(pk=hook.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    move_ticket(actor=desk["lead"], ticket_id=ticket.pk, status_key="in_progress")
    attempt(_one_delivery(event_type="ticket.moved").pk)
    late = receiver.requests[1]
    assert len(late.headers["webhook-signature"].split(" ")) == 1
    ReferenceWebhook(rotated.secret).verify(late.body, late.headers)
    with pytest.raises(WebhookVerificationError):
        ReferenceWebhook(old_secret).verify(late.body, late.headers)


def test_a_test_ping_reaches_a_disabled_endpoint(desk, hook, receiver):
    from notifications.webhooks.services import send_test_ping

    Webhook.objects.filter(pk=hook.pk).update(is_active=False)
    ping = send_test_ping(actor=desk["admin"], project=desk["project"], webhook_id=hook.pk)
    assert attempt(ping.pk) == ("succeeded", None)
    body = ReferenceWebhook(hook.secret).verify(
        receiver.requests[0].body, receiver.requests[0].headers
    )
    assert body["type"] == "webhook.test" and body["data"]["webhook"] == hook.pk
