"""Writes for a project's webhooks: one function per change, project admins only, audited.

Secrets never enter the audit trail; they are returned once, by create and rotate.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.api import DomainError, InvalidInput, NotFound
from notifications.catalogue import clean_webhook_events
from notifications.models import OutboxStatus, Webhook, WebhookDelivery
from notifications.webhooks.outbox import record_test_ping
from notifications.webhooks.signing import generate_secret
from notifications.webhooks.urlsafety import UnsafeURL, check_url, parse_networks
from tickets.audit import record_audit
from tickets.models import Project, Role
from tickets.permissions import require_role


def validate_url(url: Any) -> str:
    """The URL, stripped, when it is safe to send to (InvalidInput otherwise)."""
    try:
        check_url(
            url,
            allowed=parse_networks(settings.WEBHOOK_ALLOWED_NETWORKS),
            require_https=settings.WEBHOOK_REQUIRE_HTTPS,
        )
    except UnsafeURL as exc:
        raise InvalidInput(str(exc), details={"fields": {"url": [str(exc)]}}) from None
    return str(url).strip()


def _events(raw: Any) -> list[str]:
    try:
        return clean_webhook_events(raw)
    except ValueError as exc:
        raise InvalidInput(str(exc), details={"fields": {"events": [str(exc)]}}) from None


def _audit(actor: Any, webhook: Webhook, action: str, **new: Any) -> None:
    record_audit(
        actor=actor,
        action=action,
        project_id=webhook.project_id,
        new={"webhook_id": webhook.pk, **new},
    )


def get_project_webhook(project: Project, webhook_id: Any, *, for_update: bool = False) -> Webhook:
    """A webhook of the project by id (NotFound otherwise)."""
    try:
        pk = int(webhook_id)
    except (TypeError, ValueError):
        raise NotFound("No such webhook.") from None
    qs = Webhook.objects.select_related("project").filter(project=project, pk=pk)
    webhook = (qs.select_for_update(of=("self",)) if for_update else qs).first()
    if webhook is None:
        raise NotFound("No such webhook.")
    return webhook


def create_webhook(
    *, actor: Any, project: Project, url: Any, events: Any = None, description: str = ""
) -> Webhook:
    """Register an endpoint; the caller shows `webhook.secret` once."""
    require_role(actor, project, Role.ADMIN, "manage webhooks")
    clean_url = validate_url(url)
    clean_events = _events(["*"] if events is None else events)
    with transaction.atomic():
        webhook = Webhook.objects.create(
            project=project,
            url=clean_url,
            events=clean_events,
            description=description,
            secret=generate_secret(),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        _audit(actor, webhook, "webhook.created", url=clean_url, events=clean_events)
    return webhook


def update_webhook(
    *, actor: Any, project: Project, webhook_id: Any, changes: dict[str, Any]
) -> Webhook:
    """Change url, events, description or is_active; re-enabling clears the failure run."""
    require_role(actor, project, Role.ADMIN, "manage webhooks")
    unknown = set(changes) - {"url", "events", "description", "is_active"}
    if unknown:
        raise InvalidInput(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    clean: dict[str, Any] = {}
    if "url" in changes:
        clean["url"] = validate_url(changes["url"])
    if "events" in changes:
        clean["events"] = _events(changes["events"])
    if "description" in changes:
        clean["description"] = str(changes["description"] or "")[:500]
    if "is_active" in changes:
        if not isinstance(changes["is_active"], bool):
            raise InvalidInput("is_active must be true or false.")
        clean["is_active"] = changes["is_active"]
    with transaction.atomic():
        webhook = get_project_webhook(project, webhook_id, for_update=True)
        old = {name: getattr(webhook, name) for name in clean}
        fields = [name for name, value in clean.items() if getattr(webhook, name) != value]
        if not fields:
            return webhook
        for name in fields:
            setattr(webhook, name, clean[name])
        if "is_active" in fields and webhook.is_active:
            webhook.disabled_at, webhook.disabled_reason = None, ""
            webhook.consecutive_failures, webhook.failing_since = 0, None
            fields += ["disabled_at", "disabled_reason", "consecutive_failures", "failing_since"]
        webhook.save(update_fields=[*fields, "updated_at"])
        record_audit(
            actor=actor,
            action="webhook.updated",
            project_id=project.pk,
            old={"webhook_id": webhook.pk, **{k: old[k] for k in clean if k in fields}},
            new={"webhook_id": webhook.pk, **{k: clean[k] for k in clean if k in fields}},
        )
    return webhook


def delete_webhook(*, actor: Any, project: Project, webhook_id: Any) -> None:
    """Remove an endpoint and its delivery log."""
    require_role(actor, project, Role.ADMIN, "manage webhooks")
    with transaction.atomic():
        webhook = get_project_webhook(project, webhook_id, for_update=True)
        _audit(actor, webhook, "webhook.deleted", url=webhook.url)
        webhook.delete()


def rotate_webhook_secret(
    *, actor: Any, project: Project, webhook_id: Any, overlap_seconds: int | None = None
) -> Webhook:
    """A new secret; the old one keeps signing too for `overlap_seconds` (default from settings)."""
    require_role(actor, project, Role.ADMIN, "manage webhooks")
    overlap = (
        settings.WEBHOOK_SECRET_OVERLAP_SECONDS if overlap_seconds is None else overlap_seconds
    )
    if not isinstance(overlap, int) or isinstance(overlap, bool) or not 0 <= overlap <= 7 * 86400:
        raise InvalidInput("overlap_seconds must be an integer from 0 to 604800 (7 days).")
    with transaction.atomic():
        webhook = get_project_webhook(project, webhook_id, for_update=True)
        webhook.previous_secret = webhook.secret if overlap else ""
        webhook.previous_secret_expires_at = (
            timezone.now() + timedelta(seconds=overlap) if overlap else None
        )
        webhook.secret = generate_secret()
        webhook.save(
            update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
        )
        _audit(
            actor,
            webhook,
            "webhook.secret_rotated",
            previous_secret_expires_at=webhook.previous_secret_expires_at,
        )
    return webhook


def send_test_ping(*, actor: Any, project: Project, webhook_id: Any) -> WebhookDelivery:
    """Queue a `webhook.test` delivery (sent even while the endpoint is disabled)."""
    require_role(actor, project, Role.ADMIN, "manage webhooks")
    with transaction.atomic():
        webhook = get_project_webhook(project, webhook_id)
        delivery = record_test_ping(webhook=webhook, actor=actor)
        _audit(actor, webhook, "webhook.test_sent", delivery_id=delivery.pk)
        _queue(delivery.pk)
    return delivery


def redeliver(
    *, actor: Any, project: Project, webhook_id: Any, delivery_id: Any
) -> WebhookDelivery:
    """Send a delivery again, same `webhook-id` and body, with a fresh run of retries."""
    require_role(actor, project, Role.ADMIN, "manage webhooks")
    try:
        pk = int(delivery_id)
    except (TypeError, ValueError):
        raise NotFound("No such delivery.") from None
    now = timezone.now()
    with transaction.atomic():
        webhook = get_project_webhook(project, webhook_id)
        delivery = (
            WebhookDelivery.objects.select_for_update().filter(webhook=webhook, pk=pk).first()
        )
        if delivery is None:
            raise NotFound("No such delivery.")
        if not webhook.is_active and delivery.event_type != "webhook.test":
            raise DomainError("The webhook is disabled; enable it before redelivering.")
        if delivery.claimed_until is not None and delivery.claimed_until > now:
            raise DomainError("This delivery is being attempted right now; try again shortly.")
        delivery.status = OutboxStatus.PENDING
        delivery.run_attempts = 0
        delivery.next_attempt_at = now
        delivery.relay_after = now + timedelta(seconds=settings.OUTBOX_RELAY_GRACE_SECONDS)
        delivery.save(update_fields=["status", "run_attempts", "next_attempt_at", "relay_after"])
        _audit(actor, webhook, "webhook.redelivered", delivery_id=delivery.pk)
        _queue(delivery.pk)
    return delivery


def disable_webhook(*, webhook_id: int, actor: Any, reason: str) -> bool:
    """Turn an endpoint off, fail its pending deliveries and tell the project's admins.

    Returns False when it was already off. Runs inside the caller's transaction when there is one.
    """
    from notifications.dispatch import notify_project_admins

    with transaction.atomic():
        webhook = Webhook.objects.select_for_update().filter(pk=webhook_id).first()
        if webhook is None or not webhook.is_active:
            return False
        webhook.is_active = False
        webhook.disabled_at = timezone.now()
        webhook.disabled_reason = reason[:300]
        webhook.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
        WebhookDelivery.objects.filter(webhook=webhook, status=OutboxStatus.PENDING).exclude(
            event_type="webhook.test"
        ).update(status=OutboxStatus.FAILED, error="The endpoint was disabled.")
        _audit(actor, webhook, "webhook.disabled", reason=webhook.disabled_reason)
        notify_project_admins(
            kind="webhook.disabled",
            project_id=webhook.project_id,
            data={"webhook": webhook.pk, "url": webhook.url, "reason": webhook.disabled_reason},
        )
    return True


def _queue(delivery_id: int) -> None:
    from notifications.tasks import deliver_webhook_task

    deliver_webhook_task.delay_on_commit(delivery_id)
