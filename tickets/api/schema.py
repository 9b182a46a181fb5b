"""Schema-only shapes: responses built by hand in the views (the board, stats, bulk results) and
the ticket list's filter parameters, so the OpenAPI document (and the UI's generated types) say
exactly what the API sends."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from tickets.api.serializers import ColumnSerializer, ProjectSerializer, TicketSerializer
from tickets.filters import ORDERINGS, SLA_STATES
from tickets.models import Priority, StatusCategory


class BoardColumnSerializer(ColumnSerializer):
    """A column as the board shows it: its first tickets and the URL of the next page."""

    tickets = TicketSerializer(many=True, read_only=True)
    next = serializers.URLField(allow_null=True, read_only=True)

    class Meta(ColumnSerializer.Meta):
        fields = [*ColumnSerializer.Meta.fields, "tickets", "next"]


class BoardSerializer(serializers.Serializer):
    project = ProjectSerializer(read_only=True)
    seq = serializers.IntegerField(read_only=True)
    columns = BoardColumnSerializer(many=True, read_only=True)


class SlaStatsSerializer(serializers.Serializer):
    on_track = serializers.IntegerField()
    near_breach = serializers.IntegerField()
    breached = serializers.IntegerField()
    paused = serializers.IntegerField()
    first_response_met_pct = serializers.FloatField(allow_null=True)
    resolution_met_pct = serializers.FloatField(allow_null=True)


class DayCountSerializer(serializers.Serializer):
    date = serializers.DateField()
    count = serializers.IntegerField()


class StatsSerializer(serializers.Serializer):
    total_tickets = serializers.IntegerField()
    open_tickets = serializers.IntegerField()
    avg_tickets_per_day = serializers.FloatField()
    priority_breakdown = serializers.DictField(child=serializers.IntegerField())
    category_breakdown = serializers.DictField(child=serializers.IntegerField())
    status_breakdown = serializers.DictField(child=serializers.IntegerField())
    status_category_breakdown = serializers.DictField(child=serializers.IntegerField())
    avg_first_response_seconds = serializers.FloatField(allow_null=True)
    avg_resolution_seconds = serializers.FloatField(allow_null=True)
    sla = SlaStatsSerializer()
    created_per_day = DayCountSerializer(many=True)


class BulkErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class BulkItemSerializer(serializers.Serializer):
    id = serializers.JSONField(help_text="The id as sent (a number, or what was sent instead).")
    ok = serializers.BooleanField()
    error = BulkErrorSerializer(allow_null=True)


class BulkResultSerializer(serializers.Serializer):
    results = BulkItemSerializer(many=True)


def _list(name: str, item: object, description: str) -> OpenApiParameter:
    """A comma-separated list parameter (`?status=new,open`)."""
    return OpenApiParameter(
        name, {"type": "array", "items": item}, style="form", explode=False, description=description
    )


_ORDERING_CHOICES = [*ORDERINGS, *(f"-{o}" for o in ORDERINGS)]

TICKET_FILTERS = [
    OpenApiParameter("project", OpenApiTypes.STR, description="A project key."),
    _list("status", {"type": "string"}, "Status keys."),
    _list("status_category", {"enum": StatusCategory.values, "type": "string"}, "Categories."),
    _list("priority", {"enum": Priority.values, "type": "string"}, "Priorities."),
    _list("category", {"type": "string"}, "Categories of the project."),
    OpenApiParameter("assignee", OpenApiTypes.STR, description="`me`, `none` or a username."),
    OpenApiParameter("requester", OpenApiTypes.STR, description="A username."),
    _list("tag", {"type": "string"}, "Tags (any of them)."),
    OpenApiParameter("q", OpenApiTypes.STR, description="Full-text search."),
    _list("sla_state", {"enum": list(SLA_STATES), "type": "string"}, "SLA states."),
    OpenApiParameter("created_after", OpenApiTypes.DATETIME),
    OpenApiParameter("created_before", OpenApiTypes.DATETIME),
    OpenApiParameter("archived", str, enum=["true", "false", "all"], description="Default false."),
    OpenApiParameter("ordering", str, enum=_ORDERING_CHOICES, description="Default -created_at."),
]
