"""The create form's `triage` object: the classify endpoint's answer plus the agent's decisions."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class TriageDecisionsSerializer(serializers.Serializer[Any]):
    category = serializers.ChoiceField(choices=["applied", "dismissed"], required=False)
    priority = serializers.ChoiceField(choices=["applied", "dismissed"], required=False)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - {"category", "priority"})
            if unknown:
                raise serializers.ValidationError(
                    f"Only category and priority can be decided, not {', '.join(unknown)}."
                )
        return super().to_internal_value(data)


class TriageSerializer(serializers.Serializer[Any]):
    """What `POST /api/v1/tickets/classify/` answered, and what the person did with each chip."""

    suggested_category = serializers.CharField(max_length=50)
    suggested_priority = serializers.CharField(max_length=10)
    confidence = serializers.FloatField(min_value=0, max_value=1, required=False)
    source = serializers.CharField(max_length=20)  # type: ignore[assignment]
    model_version = serializers.CharField(
        max_length=80, required=False, allow_blank=True, default=""
    )
    decisions = TriageDecisionsSerializer(required=False)
