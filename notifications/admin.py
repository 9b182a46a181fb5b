"""Admin views of notifications and webhooks (read-mostly: changes go through the services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from notifications.models import (
    EmailDelivery,
    Notification,
    NotificationPreference,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the dispatch pipeline are inspected here, never edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "kind", "title", "read_at", "created_at")
    list_filter = ("kind",)
    search_fields = ("user__username", "title")
    raw_id_fields = ("user", "project", "ticket", "actor")


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    list_display = ("user", "in_app", "email", "updated_at")
    search_fields = ("user__username",)


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("id", "to_email", "kind", "status", "attempts", "sent_at", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("to_email", "subject")
    raw_id_fields = ("user",)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = (
        "number",
        "started_at",
        "duration_ms",
        "response_status",
        "response_excerpt",
        "error",
        "outcome",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdmin):
    list_display = ("id", "project", "url", "is_active", "consecutive_failures", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "project__key")
    # The secret is shown once to the project admin who created or rotated it, never here.
    exclude = ("secret", "previous_secret")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "webhook",
        "event_type",
        "status",
        "attempts",
        "response_status",
        "created_at",
    )
    list_filter = ("status", "event_type")
    search_fields = ("message_id",)
    raw_id_fields = ("webhook",)
    inlines = [WebhookAttemptInline]
