"""`GET /api/v1/projects/{key}/events/?after=N`: the board events a client missed."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import InvalidInput
from config.openapi import errors
from config.parsers import BIGINT_MAX
from notifications.services import missed_events
from tickets.models import Role
from tickets.permissions import require_role
from tickets.selectors import get_visible_project

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000

_EVENT_FIELDS: dict[str, serializers.Field] = {
    "seq": serializers.IntegerField(),
    "type": serializers.CharField(),
    "data": serializers.DictField(),
    "created_at": serializers.DateTimeField(),
    "actor": inline_serializer(
        "EventActor",
        {"username": serializers.CharField(), "full_name": serializers.CharField()},
        allow_null=True,
        help_text="Who made the change (null for the system: SLA scans, the classifier).",
    ),
    "client_mutation_id": serializers.CharField(
        allow_null=True, help_text="Echoed from the move that caused this event, else null."
    ),
}


def _whole_number(request: Request, name: str, *, default: int | None, top: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        if default is None:
            raise InvalidInput(
                f"{name} is required: the last seq your board has seen.",
                details={"fields": {name: ["This parameter is required."]}},
            )
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0 or value > BIGINT_MAX or (top is not None and not 1 <= value <= top):
        bound = f"from 1 to {top}" if top is not None else "of at least 0"
        raise InvalidInput(
            f"{name} must be a whole number {bound}.",
            details={"fields": {name: [f"A whole number {bound}."]}},
        )
    return value


class BoardEventsView(APIView):
    """The events after `after`, in seq order, or 410 `resync_required` when they are gone."""

    @extend_schema(
        parameters=[
            OpenApiParameter("after", int, required=True, description="The last seq you have."),
            OpenApiParameter(
                "limit",
                int,
                description=f"At most this many events (1-{MAX_LIMIT}, default {DEFAULT_LIMIT}).",
            ),
        ],
        responses={
            200: inline_serializer(
                "BoardEvents",
                {
                    "seq": serializers.IntegerField(help_text="The board's current seq."),
                    "events": inline_serializer("BoardEvent", _EVENT_FIELDS, many=True),
                    "has_more": serializers.BooleanField(
                        help_text="More events follow the last one: ask again with its seq."
                    ),
                },
            ),
            **errors(410),
        },
    )
    def get(self, request: Request, key: str) -> Response:
        project = get_visible_project(request.user, key)
        # Customers see only their own tickets; the board's stream is for staff.
        require_role(request.user, project, Role.AGENT, "follow the board's events")
        after = _whole_number(request, "after", default=None, top=None)
        limit = _whole_number(request, "limit", default=DEFAULT_LIMIT, top=MAX_LIMIT)
        current, events = missed_events(project_id=project.pk, after=after, limit=limit)
        last = events[-1]["seq"] if events else after
        return Response({"seq": current, "events": events, "has_more": last < current})
