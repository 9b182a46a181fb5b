"""Relaying the outbox: claim a delivery, POST it signed, record the attempt, schedule the next.

A worker claims a delivery with a lease (one UPDATE), so two tasks for the same row (a relay
re-queue racing the original) never both send it; the HTTP call runs outside any transaction; the
result, the attempt log row and the next retry are written in one transaction afterwards. A worker
killed mid-attempt leaves an expiring lease: the relay re-queues the row once it lapses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from config.metrics.counters import record_webhook_attempt
from notifications import sql
from notifications.models import OutboxStatus, Webhook, WebhookAttempt, WebhookDelivery
from notifications.relay import claim_for_relay
from notifications.webhooks import http
from notifications.webhooks.retry import next_delay, outcome_for_status, parse_retry_after
from notifications.webhooks.signing import webhook_headers
from notifications.webhooks.urlsafety import HostUnresolvable, UnsafeURL, check_url, parse_networks

logger = structlog.get_logger(__name__)

_CLAIM = """
UPDATE notifications_webhookdelivery d
SET claimed_until = clock_timestamp() + make_interval(secs => %(lease)s),
    relay_after = clock_timestamp() + make_interval(secs => %(lease)s)
FROM notifications_webhook w
WHERE d.id = %(id)s AND w.id = d.webhook_id AND d.status = 'pending'
  AND d.next_attempt_at <= clock_timestamp() + interval '1 second'
  AND (d.claimed_until IS NULL OR d.claimed_until < clock_timestamp())
RETURNING d.webhook_id, d.message_id, d.event_type, d.payload, d.attempts, d.run_attempts,
          w.url, w.is_active, w.consecutive_failures, w.secret, w.previous_secret,
          w.previous_secret_expires_at
"""


@dataclass(frozen=True)
class Claimed:
    """What an attempt needs, read by the statement that took the lease."""

    delivery_id: int
    webhook_id: int
    message_id: str
    event_type: str
    payload: str
    attempts: int
    run_attempts: int
    url: str
    webhook_active: bool
    webhook_failures: int
    secrets: list[str]


def _bookkeeping(cursor: Any) -> None:
    """Delivery bookkeeping need not wait for the disk: a write lost in a database crash means
    at worst one more attempt under the same id, which receivers already de-duplicate."""
    cursor.execute("SET LOCAL synchronous_commit TO OFF")


def claim(delivery_id: int) -> Claimed | None:
    """Take the lease on a due, pending, unclaimed delivery (None when there is nothing to do)."""
    with transaction.atomic(), connection.cursor() as cursor:
        _bookkeeping(cursor)
        cursor.execute(_CLAIM, {"id": delivery_id, "lease": float(settings.WEBHOOK_CLAIM_SECONDS)})
        row = cursor.fetchone()
    if row is None:
        return None
    (webhook_id, message_id, event_type, payload, attempts, run_attempts) = row[:6]
    url, active, failures, secret, previous, previous_expires = row[6:]
    secrets = [secret]
    if previous and previous_expires is not None and previous_expires > timezone.now():
        secrets.append(previous)
    return Claimed(
        delivery_id=delivery_id,
        webhook_id=webhook_id,
        message_id=message_id,
        event_type=event_type,
        payload=payload,
        attempts=attempts,
        run_attempts=run_attempts,
        url=url,
        webhook_active=active,
        webhook_failures=failures,
        secrets=secrets,
    )


def limits() -> http.Limits:
    """The HTTP limits from settings."""
    return http.Limits(
        connect_timeout=settings.WEBHOOK_CONNECT_TIMEOUT,
        read_timeout=settings.WEBHOOK_READ_TIMEOUT,
        total_timeout=settings.WEBHOOK_TOTAL_TIMEOUT,
        max_response_bytes=settings.WEBHOOK_RESPONSE_MAX_BYTES,
    )


def attempt_delivery(delivery_id: int) -> tuple[str, float | None] | None:
    """One attempt of one delivery: `(outcome, retry_in_seconds)`, or None when not due/claimable.

    The outcome is `succeeded`, `retry` (network error, 5xx, 429) or `failed` (another answer,
    a refused address, a disabled endpoint, or the last attempt).
    """
    claimed = claim(delivery_id)
    if claimed is None:
        return None
    started_at = timezone.now()
    if not claimed.webhook_active and claimed.event_type != "webhook.test":
        result = http.AttemptResult(None, "", "The endpoint is disabled.", 0, None)
        return record_attempt(claimed, started_at=started_at, result=result, outcome="failed")
    try:
        target = check_url(
            claimed.url,
            allowed=parse_networks(settings.WEBHOOK_ALLOWED_NETWORKS),
            require_https=settings.WEBHOOK_REQUIRE_HTTPS,
        )
    except HostUnresolvable as exc:
        result = http.AttemptResult(None, "", str(exc), 0, None)
        return record_attempt(claimed, started_at=started_at, result=result, outcome="retry")
    except UnsafeURL as exc:
        result = http.AttemptResult(None, "", f"Refused: {exc}", 0, None)
        return record_attempt(claimed, started_at=started_at, result=result, outcome="failed")
    body = claimed.payload.encode()
    headers = webhook_headers(claimed.secrets, claimed.message_id, int(time.time()), body)
    result = http.post(target, headers=headers, body=body, limits=limits())
    outcome = outcome_for_status(result.status_code)
    if result.status_code is not None and 300 <= result.status_code < 400:
        result = http.AttemptResult(
            result.status_code,
            result.body_excerpt,
            "Redirects are not followed; point the webhook at the final URL.",
            result.duration_ms,
            result.retry_after,
        )
    return record_attempt(claimed, started_at=started_at, result=result, outcome=outcome)


def record_attempt(
    claimed: Claimed, *, started_at: Any, result: http.AttemptResult, outcome: str
) -> tuple[str, float | None]:
    """Write the attempt, the delivery's new state and the endpoint's failure run (one transaction).

    No row lock: the lease keeps every other writer of these columns away until it is released here.
    """
    now = timezone.now()
    attempts, run_attempts = claimed.attempts + 1, claimed.run_attempts + 1
    if outcome == "retry" and run_attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        outcome = "failed"
    changes: dict[str, Any] = {
        "attempts": attempts,
        "run_attempts": run_attempts,
        "claimed_until": None,
        "last_attempt_at": started_at,
        "response_status": result.status_code,
        "response_excerpt": result.body_excerpt,
        "duration_ms": result.duration_ms,
        "error": result.error,
    }
    retry_in: float | None = None
    if outcome == "succeeded":
        changes.update(status=OutboxStatus.SUCCEEDED, succeeded_at=now)
    elif outcome == "retry":
        retry_in = next_delay(
            run_attempts,
            retry_after=parse_retry_after(result.retry_after),
            base=settings.WEBHOOK_RETRY_BASE_SECONDS,
            factor=settings.WEBHOOK_RETRY_FACTOR,
            cap=settings.WEBHOOK_RETRY_CAP_SECONDS,
            retry_after_cap=settings.WEBHOOK_RETRY_AFTER_MAX_SECONDS,
        )
        next_at = now + timedelta(seconds=retry_in)
        # A short wait is a countdown task (the relay is the safety net after a grace);
        # a long one is left to the relay scan, which picks the row up when it is due.
        short = retry_in <= settings.WEBHOOK_COUNTDOWN_MAX_SECONDS
        grace = settings.OUTBOX_RELAY_GRACE_SECONDS if short else 0
        changes.update(next_attempt_at=next_at, relay_after=next_at + timedelta(seconds=grace))
    else:
        changes.update(status=OutboxStatus.FAILED)
    with transaction.atomic():
        with connection.cursor() as cursor:
            _bookkeeping(cursor)
        if not WebhookDelivery.objects.filter(pk=claimed.delivery_id).update(**changes):
            return outcome, None  # the endpoint was deleted during the attempt
        WebhookAttempt.objects.create(
            delivery_id=claimed.delivery_id,
            number=attempts,
            started_at=started_at,
            duration_ms=result.duration_ms,
            response_status=result.status_code,
            response_excerpt=result.body_excerpt,
            error=result.error,
            outcome=outcome,
        )
        if claimed.event_type != "webhook.test":
            _track_endpoint_health(claimed, succeeded=outcome == "succeeded", now=now)
        transaction.on_commit(partial(record_webhook_attempt, outcome))
        if retry_in is not None and retry_in <= settings.WEBHOOK_COUNTDOWN_MAX_SECONDS:
            from notifications.tasks import deliver_webhook_task

            countdown, delivery_id = retry_in, claimed.delivery_id
            transaction.on_commit(
                lambda: deliver_webhook_task.apply_async((delivery_id,), countdown=countdown)
            )
    logger.info(
        "webhook_attempt",
        delivery_id=claimed.delivery_id,
        outcome=outcome,
        status_code=result.status_code,
        duration_ms=result.duration_ms,
        retry_in=retry_in,
    )
    return outcome, retry_in


def _track_endpoint_health(claimed: Claimed, *, succeeded: bool, now: Any) -> None:
    """Reset the endpoint's failure run on success; extend it on failure and disable when long."""
    webhook_id = claimed.webhook_id
    if succeeded:
        if claimed.webhook_failures:  # the common case, a healthy endpoint, writes nothing
            Webhook.objects.filter(pk=webhook_id, consecutive_failures__gt=0).update(
                consecutive_failures=0, failing_since=None
            )
        return
    with connection.cursor() as cursor:
        cursor.execute(sql.WEBHOOK_FAILED, [webhook_id])
        failures, since, active = cursor.fetchone()
    long_run = (now - since).total_seconds() >= settings.WEBHOOK_DISABLE_AFTER_SECONDS
    if active and failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES and long_run:
        from notifications.webhooks.services import disable_webhook

        disable_webhook(
            webhook_id=webhook_id,
            actor=None,
            reason=f"{failures} failed attempts in a row since {since.isoformat()}",
        )


def due_for_relay(*, limit: int) -> list[int]:
    """Pending deliveries no task is known to hold, marked as re-queued now (their ids)."""
    return claim_for_relay("notifications_webhookdelivery", limit=limit)
