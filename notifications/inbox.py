"""A user's in-app notifications and preferences: reads scoped to the caller, writes by service."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from config.api import InvalidInput, NotFound
from notifications.catalogue import clean_preferences, resolved_preferences
from notifications.models import Notification, NotificationPreference
from tickets.selectors import visible_projects


def visible_notifications(user: Any) -> QuerySet[Notification]:
    """The user's own notifications, minus those of projects they no longer belong to."""
    qs = Notification.objects.filter(user=user)
    if not user.is_superuser:
        qs = qs.filter(Q(project__isnull=True) | Q(project__in=visible_projects(user).values("pk")))
    return qs.select_related("project", "actor")


def unread_count(user: Any) -> int:
    """How many of the user's visible notifications are unread (the bell's figure)."""
    return visible_notifications(user).filter(read_at__isnull=True).count()


def notification_data(notification: Notification) -> dict[str, Any]:
    """The wire shape of a notification (API and `/ws/me/` push)."""
    created = notification.created_at.isoformat().replace("+00:00", "Z")
    read_at = notification.read_at
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.title,
        "project": notification.project.key
        if notification.project_id and notification.project
        else None,
        "ticket": notification.ticket_id,
        "actor": notification.actor.username
        if notification.actor_id and notification.actor
        else None,
        "data": notification.data,
        "read": read_at is not None,
        "read_at": read_at.isoformat().replace("+00:00", "Z") if read_at else None,
        "created_at": created,
    }


def mark_read(*, actor: Any, notification_id: Any) -> Notification:
    """Mark one of the caller's notifications read (idempotent); NotFound for anyone else's."""
    try:
        pk = int(notification_id)
    except (TypeError, ValueError):
        raise NotFound("No such notification.") from None
    notification = visible_notifications(actor).filter(pk=pk).first()
    if notification is None:
        raise NotFound("No such notification.")
    if notification.read_at is None:
        now = timezone.now()
        # Conditional update: a concurrent read-all does not get its timestamp overwritten.
        Notification.objects.filter(pk=pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def mark_all_read(*, actor: Any) -> int:
    """Mark every unread notification of the caller read; returns how many changed."""
    return Notification.objects.filter(user=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def get_preferences(user: Any) -> dict[str, Any]:
    """The caller's full preference document (defaults filled in)."""
    row = NotificationPreference.objects.filter(user=user).first()
    return resolved_preferences(row.as_prefs() if row is not None else None)


def set_preferences(*, actor: Any, document: Any) -> dict[str, Any]:
    """Replace the caller's preferences; kinds left out return to their defaults."""
    try:
        clean = clean_preferences(document)
    except ValueError as exc:
        raise InvalidInput(str(exc), details={"fields": {"preferences": [str(exc)]}}) from None
    with transaction.atomic():
        NotificationPreference.objects.update_or_create(
            user=actor,
            defaults={
                "in_app": clean.get("in_app", True),
                "email": clean.get("email", True),
                "events": clean["events"],
            },
        )
    return get_preferences(actor)
