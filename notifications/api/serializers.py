"""Shapes of the notifications and webhooks API (input validation lives in the services)."""

from __future__ import annotations

import json
from typing import Any

from rest_framework import serializers

from notifications.catalogue import WEBHOOK_KINDS
from notifications.inbox import notification_data
from notifications.models import Notification, Webhook, WebhookAttempt, WebhookDelivery


class NotificationSerializer(serializers.Serializer):
    """Output only: the same shape is pushed on `/ws/me/`."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    project = serializers.CharField(allow_null=True)
    ticket = serializers.IntegerField(allow_null=True)
    actor = serializers.CharField(allow_null=True)
    data = serializers.DictField()  # type: ignore[assignment]
    read = serializers.BooleanField()
    read_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()

    def to_representation(self, instance: Notification) -> dict[str, Any]:
        return notification_data(instance)


class ChannelsSerializer(serializers.Serializer):
    in_app = serializers.BooleanField()
    email = serializers.BooleanField()


class PreferencesSerializer(serializers.Serializer):
    """`{in_app, email, events: {kind: {in_app, email}}}`; PUT replaces (left-out kinds: defaults)."""

    in_app = serializers.BooleanField(required=False)
    email = serializers.BooleanField(required=False)
    events = serializers.DictField(child=ChannelsSerializer(), required=False)


# Every kind a webhook can subscribe to, and "*" for all (the schema's WebhookEventEnum).
WEBHOOK_EVENT_CHOICES = [*WEBHOOK_KINDS, "*"]


class WebhookSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WEBHOOK_EVENT_CHOICES), required=False
    )
    created_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Webhook
        fields = [
            "id",
            "url",
            "description",
            "events",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "consecutive_failures",
            "failing_since",
            "previous_secret_expires_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "disabled_at",
            "disabled_reason",
            "consecutive_failures",
            "failing_since",
            "previous_secret_expires_at",
            "created_by",
            "created_at",
            "updated_at",
        ]


class WebhookWithSecretSerializer(WebhookSerializer):
    """Returned once, by create and rotate-secret: the only time the secret is shown."""

    secret = serializers.CharField(read_only=True)

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class WebhookInputSerializer(serializers.Serializer):
    """What a client may send; the services validate the URL (SSRF) and the event kinds."""

    url = serializers.CharField(max_length=2000)
    events = serializers.JSONField(required=False)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class RotateSecretSerializer(serializers.Serializer):
    overlap_seconds = serializers.IntegerField(required=False, min_value=0, max_value=7 * 86400)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = [
            "number",
            "started_at",
            "duration_ms",
            "response_status",
            "response_excerpt",
            "error",
            "outcome",
        ]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    """A delivery with its attempt log; `payload` is the exact body sent (as JSON)."""

    event_id = serializers.CharField(source="message_id")
    payload = serializers.SerializerMethodField()
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "last_attempt_at",
            "response_status",
            "response_excerpt",
            "duration_ms",
            "error",
            "succeeded_at",
            "created_at",
            "payload",
            "attempt_log",
        ]

    def get_payload(self, obj: WebhookDelivery) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(obj.payload)
        return loaded
