"""Shapes of the SLA endpoints (validation of meaning lives in the services)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from sla.models import Calendar, SlaEvent, SlaPolicy
from tickets.models import Priority


class WindowSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6)
    start = serializers.CharField(max_length=8, help_text='Local wall-clock time, "09:00".')
    end = serializers.CharField(max_length=8, help_text='"17:30"; "24:00" is the end of the day.')


class CalendarSerializer(serializers.ModelSerializer):
    windows = WindowSerializer(many=True)
    holidays = serializers.ListField(
        child=serializers.DateField(), required=False, help_text="Local dates closed all day."
    )

    class Meta:
        model = Calendar
        fields = [
            "id",
            "name",
            "timezone",
            "windows",
            "holidays",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "version", "created_at", "updated_at"]
        # The model's default is for rows; a new calendar states its zone (API.md).
        extra_kwargs = {"timezone": {"required": True}}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        if "holidays" in value:
            value["holidays"] = [d.isoformat() for d in value["holidays"]]
        if "windows" in value:
            value["windows"] = [dict(w) for w in value["windows"]]
        return dict(value)


class ChainLevelSerializer(serializers.Serializer):
    after_minutes = serializers.IntegerField(min_value=0)
    role = serializers.ChoiceField(choices=["agent", "lead", "manager", "admin"])
    reassign = serializers.BooleanField(default=False)


class SlaPolicySerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="project.key", read_only=True)
    priority = serializers.ChoiceField(choices=Priority.choices)
    calendar = serializers.PrimaryKeyRelatedField(
        queryset=Calendar.objects.all(),
        allow_null=True,
        required=False,
        help_text="A calendar id; null is the built-in 24x7 calendar (UTC).",
    )
    escalation_chain = ChainLevelSerializer(many=True, required=False)

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "project",
            "priority",
            "first_response_minutes",
            "resolution_minutes",
            "near_breach_ratio",
            "calendar",
            "escalation_chain",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "project", "version", "created_at", "updated_at"]
        extra_kwargs = {
            "first_response_minutes": {"min_value": 1},
            "resolution_minutes": {"min_value": 1},
            "near_breach_ratio": {"min_value": 0.0, "max_value": 0.99, "required": False},
        }

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = dict(super().to_internal_value(data))
        if "escalation_chain" in value:
            value["escalation_chain"] = [dict(level) for level in value["escalation_chain"]]
        return value


class SlaEventSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="kind")
    actor = serializers.SerializerMethodField()
    policy = serializers.IntegerField(source="policy_id", allow_null=True)

    class Meta:
        model = SlaEvent
        fields = [
            "id",
            "type",
            "metric",
            "cycle",
            "level",
            "at",
            "recorded_at",
            "reason",
            "policy",
            "policy_version",
            "actor",
            "data",
        ]

    def get_actor(self, event: SlaEvent) -> str | None:
        return event.actor.username if event.actor_id and event.actor else None


class SlaObjectSerializer(serializers.Serializer):
    policy = serializers.IntegerField(allow_null=True)
    state = serializers.ChoiceField(
        choices=["on_track", "near_breach", "breached", "paused", "met", "no_sla"]
    )
    first_response_due_at = serializers.DateTimeField(allow_null=True)
    resolution_due_at = serializers.DateTimeField(allow_null=True)
    paused = serializers.BooleanField()
    escalation_level = serializers.IntegerField()
    breached = serializers.BooleanField()


class TicketTimelineSerializer(serializers.Serializer):
    ticket = serializers.IntegerField()
    key = serializers.CharField()
    sla = SlaObjectSerializer()
    events = SlaEventSerializer(many=True)
