"""E-mail notifications: rows written with the change, rendered and sent by a Celery task.

`EmailDelivery` has one row per (event, recipient), so a person watching, assigned and mentioned
gets one e-mail, and a task run twice sends once. The row is locked while its message is handed to
SMTP; a crash after the SMTP server accepted but before the commit can resend it (at least once),
with the same `Message-ID`, which mail clients use to drop the copy.
"""

from __future__ import annotations

import smtplib
from datetime import timedelta
from typing import Any

import structlog
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.models import EmailDelivery, OutboxStatus
from notifications.relay import claim_for_relay
from notifications.webhooks.retry import backoff_seconds

logger = structlog.get_logger(__name__)

SUBJECT_MAX = 200


def subject_for(headline: str, ticket: dict[str, Any] | None) -> str:
    """`[DESK-42] <headline>` (no newlines, bounded)."""
    prefix = f"[{ticket['key']}] " if ticket and ticket.get("key") else ""
    text = " ".join(f"{prefix}{headline}".split())
    return text[: SUBJECT_MAX - 1] + "\u2026" if len(text) > SUBJECT_MAX else text


def render(email: EmailDelivery) -> tuple[str, str]:
    """The text and HTML bodies of an e-mail from its stored context."""
    context = {
        **email.context,
        "kind": email.kind,
        "subject": email.subject,
        "frontend_url": settings.FRONTEND_URL.rstrip("/"),
    }
    ticket = context.get("ticket")
    if ticket and context["frontend_url"]:
        context["ticket_url"] = f"{context['frontend_url']}/tickets/{ticket['id']}"
    text = render_to_string("notifications/email.txt", context)
    html = render_to_string("notifications/email.html", context)
    return text, html


def message_id(email: EmailDelivery) -> str:
    """A Message-ID stable across resends of the same e-mail."""
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "helpline"
    return f"<{email.event_id}.{email.user_id}@{domain}>"


def send_email(email_id: int) -> tuple[str, float | None] | None:
    """Send one pending e-mail: `(outcome, retry_in_seconds)`, or None when there is nothing to do.

    Locks the row (skipping it when another worker holds it), so a duplicate task never sends twice.
    """
    now = timezone.now()
    with transaction.atomic():
        email = (
            EmailDelivery.objects.select_for_update(skip_locked=True)
            .filter(
                pk=email_id,
                status=OutboxStatus.PENDING,
                next_attempt_at__lte=now + timedelta(seconds=1),
            )
            .first()
        )
        if email is None:
            return None
        text, html = render(email)
        message = EmailMultiAlternatives(
            subject=email.subject,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[email.to_email],
            headers={
                "Message-ID": message_id(email),
                "Auto-Submitted": "auto-generated",
                "X-Helpline-Event": email.kind,
            },
        )
        message.attach_alternative(html, "text/html")
        email.attempts += 1
        retry_in: float | None = None
        try:
            message.send()
        except (smtplib.SMTPException, OSError) as exc:
            email.last_error = f"{type(exc).__name__}: {exc}"[:500]
            if email.attempts >= settings.NOTIFICATION_EMAIL_MAX_ATTEMPTS:
                email.status = OutboxStatus.FAILED
            else:
                retry_in = backoff_seconds(
                    email.attempts,
                    base=settings.NOTIFICATION_EMAIL_RETRY_BASE_SECONDS,
                    factor=2,
                    cap=3600,
                )
                email.next_attempt_at = timezone.now() + timedelta(seconds=retry_in)
                email.relay_after = email.next_attempt_at + timedelta(
                    seconds=settings.OUTBOX_RELAY_GRACE_SECONDS
                )
        else:
            email.status = OutboxStatus.SUCCEEDED
            email.sent_at = timezone.now()
            email.last_error = ""
        email.save(
            update_fields=[
                "attempts",
                "status",
                "sent_at",
                "last_error",
                "next_attempt_at",
                "relay_after",
            ]
        )
    outcome = (
        "succeeded"
        if email.status == OutboxStatus.SUCCEEDED
        else ("retry" if retry_in is not None else "failed")
    )
    logger.info("email_attempt", email_id=email_id, outcome=outcome, attempts=email.attempts)
    return outcome, retry_in


def due_for_relay(*, limit: int) -> list[int]:
    """Pending e-mails no task is known to hold, marked as re-queued now (their ids)."""
    return claim_for_relay("notifications_emaildelivery", limit=limit)
