"""Background work of the notifications app."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone


@shared_task(acks_late=True)
def prune_board_events_task() -> int:
    """Keep the board event log bounded: older than the retention window, or past the per-project cap."""
    from notifications.services import prune_board_events

    return prune_board_events(
        older_than=timezone.now() - timedelta(days=settings.BOARD_EVENT_RETENTION_DAYS),
        keep_per_project=settings.BOARD_EVENT_RETENTION_COUNT,
    )


# --- notifications, e-mail and webhooks -------------------------------------------------------

RELAY_BATCH = 1000


@shared_task(acks_late=True)
def dispatch_event_task(
    notification_ids: list[int], email_ids: list[int], delivery_ids: list[int]
) -> None:
    """After an event committed: push its in-app notifications, queue its e-mails and deliveries."""
    from notifications.inbox import notification_data
    from notifications.models import Notification
    from notifications.realtime import push_to_user

    for notification in Notification.objects.filter(pk__in=notification_ids).select_related(
        "project", "actor"
    ):
        push_to_user(
            notification.user_id,
            {"type": "notification", "notification": notification_data(notification)},
        )
    for email_id in email_ids:
        send_email_task.delay(email_id)
    for delivery_id in delivery_ids:
        deliver_webhook_task.delay(delivery_id)


@shared_task(bind=True, acks_late=True, max_retries=None)
def send_email_task(self: Any, email_id: int) -> str | None:
    """Send one notification e-mail; retried with backoff on SMTP or network errors.

    Idempotent: the row's status (under a row lock) makes a second run a no-op.
    """
    from notifications.email import send_email

    result = send_email(email_id)
    if result is None:
        return None
    outcome, retry_in = result
    if outcome == "retry" and retry_in is not None:
        raise self.retry(countdown=retry_in)
    return outcome


@shared_task(acks_late=True)
def deliver_webhook_task(delivery_id: int) -> str | None:
    """One attempt of one webhook delivery; the next one is scheduled by the attempt itself."""
    from notifications.webhooks.delivery import attempt_delivery

    result = attempt_delivery(delivery_id)
    return None if result is None else result[0]


@shared_task(acks_late=True, ignore_result=False)  # its counts are read (the live tests)
def relay_outbox_task() -> dict[str, int]:
    """Beat: queue pending e-mails and webhook deliveries that no task picked up.

    Covers a crash between commit and enqueue, a lost broker message, a worker killed mid-attempt
    (its lease lapses) and retries too far off for a countdown.
    """
    from config.redis import redis_lock
    from notifications import email
    from notifications.webhooks import delivery

    with redis_lock("notifications-outbox-relay", timeout=120) as acquired:
        if not acquired:
            return {"emails": 0, "deliveries": 0}
        email_ids = email.due_for_relay(limit=RELAY_BATCH)
        delivery_ids = delivery.due_for_relay(limit=RELAY_BATCH)
        for email_id in email_ids:
            send_email_task.delay(email_id)
        for delivery_id in delivery_ids:
            deliver_webhook_task.delay(delivery_id)
    return {"emails": len(email_ids), "deliveries": len(delivery_ids)}


@shared_task(acks_late=True)
def prune_notification_outbox_task() -> dict[str, int]:
    """Beat: drop finished deliveries, sent e-mails and old read notifications."""
    from notifications.models import EmailDelivery, Notification, OutboxStatus, WebhookDelivery

    now = timezone.now()
    cutoff = now - timedelta(days=settings.WEBHOOK_DELIVERY_RETENTION_DAYS)
    finished = [OutboxStatus.SUCCEEDED, OutboxStatus.FAILED]
    # Counted per model: a delivery's attempt log goes with it and is not counted.
    _, deliveries = WebhookDelivery.objects.filter(
        status__in=finished, created_at__lt=cutoff
    ).delete()
    emails, _ = EmailDelivery.objects.filter(status__in=finished, created_at__lt=cutoff).delete()
    read, _ = Notification.objects.filter(
        read_at__lt=now - timedelta(days=settings.NOTIFICATION_READ_RETENTION_DAYS)
    ).delete()
    return {
        "deliveries": deliveries.get("notifications.WebhookDelivery", 0),
        "emails": emails,
        "notifications": read,
    }
