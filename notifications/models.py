"""Board events (the sequenced log clients replay), in-app notifications and webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone


class BoardEventCounter(models.Model):
    """The last `seq` handed out for a project's board. Locked by the writer for the transaction,
    so events commit in `seq` order and no reader ever sees seq N+1 before N."""

    project = models.OneToOneField(
        "tickets.Project", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.project_id}@{self.last_seq}"


class BoardEvent(models.Model):
    project = models.ForeignKey("tickets.Project", on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=60)
    data = models.JSONField(default=dict)
    # Events about one ticket carry it, so a customer's stream can be limited to their own tickets.
    ticket_id = models.BigIntegerField(null=True, blank=True)
    # Who made the change ({"username", "full_name"}; null for system and beat work) and the id a
    # client gave its own change, so a browser can recognise the echo of what it did.
    actor = models.JSONField(null=True, blank=True)
    client_mutation_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 - null: none sent
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("project", "seq")
        constraints = [
            models.UniqueConstraint(fields=["project", "seq"], name="board_event_seq_unique"),
        ]
        indexes = [models.Index(fields=["created_at"], name="board_event_created_idx")]

    def __str__(self) -> str:
        return f"{self.project_id}#{self.seq} {self.type}"


# --- in-app notifications, e-mail and preferences -------------------------------------------------


class NotificationPreference(models.Model):
    """A user's channel switches; `events` stores only what differs from the catalogue's defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preference",
    )
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)
    events = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"

    def as_prefs(self) -> dict[str, Any]:
        """The document `notifications.catalogue.channel_enabled` reads."""
        return {"in_app": self.in_app, "email": self.email, "events": self.events or {}}


class Notification(models.Model):
    """One in-app notification of one event for one user."""

    # No index of its own: the unique (user, event_id) and the user indexes lead with it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    event_id = models.UUIDField()
    kind = models.CharField(max_length=60)
    project = models.ForeignKey(
        "tickets.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    title = models.CharField(max_length=300)
    data = models.JSONField(default=dict)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "event_id"], name="notification_once_per_event"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_idx"),
            models.Index(
                fields=["user", "-created_at", "-id"],
                name="notification_unread_idx",
                condition=Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class EmailDelivery(models.Model):
    """One e-mail of one event to one person: the unique key makes a second send a no-op."""

    event_id = models.UUIDField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=60)
    to_email = models.EmailField()
    subject = models.CharField(max_length=300)
    context = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # When the relay should (re)queue a row still pending: covers a crash between commit and
    # enqueue, and a worker that died holding the task.
    relay_after = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["event_id", "user"], name="email_once_per_recipient_per_event"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OutboxStatus.values), name="email_status_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["relay_after"],
                name="email_pending_relay_idx",
                condition=Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_email} ({self.status})"


# --- outgoing webhooks ----------------------------------------------------------------------------


class Webhook(models.Model):
    """A project's endpoint: where to POST which events, signed with its secret(s)."""

    project = models.ForeignKey(
        "tickets.Project", on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.CharField(max_length=2000)
    description = models.CharField(max_length=500, blank=True)
    events = ArrayField(models.CharField(max_length=60), default=list)
    secret = models.CharField(max_length=100)
    # After a rotation the old secret keeps signing (alongside the new one) until this instant.
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [
            models.Index(
                fields=["project"], name="webhook_active_idx", condition=Q(is_active=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}: {self.url}"

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets that sign now: the current one, and the previous one inside its overlap."""
        live = [self.secret]
        if (
            self.previous_secret
            and self.previous_secret_expires_at is not None
            and self.previous_secret_expires_at > now
        ):
            live.append(self.previous_secret)
        return live


class WebhookDelivery(models.Model):
    """One event for one endpoint: the outbox row, written in the transaction of the change."""

    # No index of its own: the unique (webhook, message_id) and the list index lead with it.
    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    message_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=60)
    # The exact bytes sent (and signed) on every attempt.
    payload = models.TextField()
    status = models.CharField(
        max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # Attempts since the row was last queued (a redelivery starts a new run of retries).
    run_attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    relay_after = models.DateTimeField(default=timezone.now)
    # A worker's lease while it attempts; expired leases are the relay's to pick up.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["webhook", "message_id"], name="webhook_delivery_once_per_event"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OutboxStatus.values), name="webhook_delivery_status_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["webhook", "-created_at", "-id"], name="webhook_delivery_list_idx"
            ),
            models.Index(
                fields=["relay_after"],
                name="webhook_delivery_relay_idx",
                condition=Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} -> {self.webhook_id} ({self.status})"


class WebhookAttempt(models.Model):
    """The delivery log: one row per HTTP attempt."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    outcome = models.CharField(max_length=16)

    class Meta:
        ordering = ("delivery", "number")
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id}#{self.number} {self.outcome}"
