"""Tickets: list/search/filter, create, detail, move, assign, escalate, conversation, watchers,
audit, bulk and stats (attachments: `tickets.api.attachments`; resolve and reopen:
`tickets.api.actions`)."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.db.models import Avg, Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status as http
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from config.pagination import cursor_pagination
from sla.selectors import sla_stats
from tickets.api.dashboard import created_per_day
from tickets.api.projects import page_of_tickets
from tickets.api.schema import (
    TICKET_FILTERS,
    BulkResultSerializer,
    StatsSerializer,
)
from tickets.api.serializers import (
    AssignSerializer,
    AuditSerializer,
    BulkSerializer,
    MessageSerializer,
    MoveSerializer,
    MyWatchSerializer,
    ReasonSerializer,
    TicketCreateSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
    WatcherSerializer,
    WatchSerializer,
    validate_for_ticket,
)
from tickets.filters import apply_ticket_filters, order_tickets, parse_ticket_filters
from tickets.models import AuditLog, Priority, Role, StatusCategory, Ticket, User
from tickets.permissions import require_role
from tickets.selectors import (
    get_visible_project,
    get_visible_ticket,
    visible_messages,
    visible_ticket,
    visible_tickets,
)
from tickets.services import bulk, conversation, moves, triage
from tickets.services import tickets as services


def _detail(request: Request, ticket_id: int) -> Response:
    """The ticket as the caller may see it (one query; not visible is 404)."""
    return Response(TicketSerializer(visible_ticket(request.user, ticket_id)).data)


class TicketListView(GenericAPIView[Ticket]):
    serializer_class = TicketSerializer

    @extend_schema(parameters=TICKET_FILTERS, responses=TicketSerializer(many=True))
    def get(self, request: Request) -> Response:
        filters = parse_ticket_filters(request.query_params)
        qs = apply_ticket_filters(visible_tickets(request.user), filters, user=request.user)
        qs, ordering = order_tickets(qs, filters)
        page = page_of_tickets(self, qs, ordering)
        return self.get_paginated_response(
            TicketSerializer(page, many=True, context={"now": timezone.now()}).data
        )

    @extend_schema(request=TicketCreateSerializer, responses={201: TicketSerializer})
    def post(self, request: Request) -> Response:
        data = TicketCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        project = get_visible_project(request.user, fields.pop("project"))
        triage_data = fields.pop("triage", None)
        if triage_data is not None:
            ticket = triage.create_ticket_with_triage(
                actor=request.user, project=project, triage=triage_data, **fields
            )
            response = _detail(request, ticket.pk)
            response.status_code = http.HTTP_201_CREATED
            return response
        # The service returns the ticket as written, with its project, status, people and SLA
        # row: its creator can see it, so no second read (the move answers the same way).
        ticket = services.create_ticket(actor=request.user, project=project, **fields)
        return Response(TicketSerializer(ticket).data, status=http.HTTP_201_CREATED)


class TicketDetailView(GenericAPIView[Ticket]):
    serializer_class = TicketSerializer

    def get(self, request: Request, ticket_id: int) -> Response:
        return _detail(request, ticket_id)

    @extend_schema(request=TicketUpdateSerializer, responses=TicketSerializer)
    def patch(self, request: Request, ticket_id: int) -> Response:
        data = TicketUpdateSerializer(data=request.data)
        validate_for_ticket(data, request.user, ticket_id)
        changes = dict(data.validated_data)
        services.update_ticket(
            actor=request.user,
            ticket_id=ticket_id,
            changes=changes,
            client_mutation_id=changes.pop("client_mutation_id", None),
        )
        return _detail(request, ticket_id)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, ticket_id: int) -> Response:
        services.archive_ticket(actor=request.user, ticket_id=ticket_id)
        return Response(status=http.HTTP_204_NO_CONTENT)


class MoveView(GenericAPIView[Ticket]):
    serializer_class = MoveSerializer

    @extend_schema(request=MoveSerializer, responses=TicketSerializer)
    def patch(self, request: Request, ticket_id: int) -> Response:
        data = MoveSerializer(data=request.data)
        validate_for_ticket(data, request.user, ticket_id)
        ticket = moves.move_ticket(
            actor=request.user,
            ticket_id=ticket_id,
            status_key=data.validated_data.get("status"),
            before_id=data.validated_data.get("before_id"),
            after_id=data.validated_data.get("after_id"),
            client_mutation_id=data.validated_data.get("client_mutation_id"),
        )
        return Response(TicketSerializer(ticket).data)


class AssignView(GenericAPIView[Ticket]):
    serializer_class = AssignSerializer

    @extend_schema(responses=TicketSerializer)
    def post(self, request: Request, ticket_id: int) -> Response:
        get_visible_ticket(request.user, ticket_id)
        data = AssignSerializer(data=request.data)
        validate_for_ticket(data, request.user, ticket_id)
        services.assign_ticket(actor=request.user, ticket_id=ticket_id, **data.validated_data)
        return _detail(request, ticket_id)


class EscalateView(GenericAPIView[Ticket]):
    serializer_class = ReasonSerializer

    @extend_schema(responses=TicketSerializer)
    def post(self, request: Request, ticket_id: int) -> Response:
        data = ReasonSerializer(data=request.data)
        validate_for_ticket(data, request.user, ticket_id)
        services.escalate_ticket(
            actor=request.user, ticket_id=ticket_id, reason=data.validated_data["reason"]
        )
        return _detail(request, ticket_id)


class AcknowledgeView(GenericAPIView[Ticket]):
    serializer_class = TicketSerializer

    @extend_schema(request=None, responses=TicketSerializer)
    def post(self, request: Request, ticket_id: int) -> Response:
        services.acknowledge_ticket(actor=request.user, ticket_id=ticket_id)
        return _detail(request, ticket_id)


class MessageListView(GenericAPIView[Any]):
    serializer_class = MessageSerializer
    pagination_class = cursor_pagination("created_at", "id")

    @extend_schema(responses=MessageSerializer(many=True))
    def get(self, request: Request, ticket_id: int) -> Response:
        ticket = get_visible_ticket(request.user, ticket_id)
        page = self.paginate_queryset(visible_messages(request.user, ticket))
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(responses={201: MessageSerializer})
    def post(self, request: Request, ticket_id: int) -> Response:
        data = MessageSerializer(data=request.data)
        validate_for_ticket(data, request.user, ticket_id)
        message = conversation.add_message(
            actor=request.user,
            ticket_id=ticket_id,
            body=data.validated_data["body"],
            internal=data.validated_data.get("internal", False),
        )
        return Response(MessageSerializer(message).data, status=http.HTTP_201_CREATED)


class WatchView(GenericAPIView[Any]):
    serializer_class = WatchSerializer

    @extend_schema(responses=MyWatchSerializer)
    def get(self, request: Request, ticket_id: int) -> Response:
        """Whether the caller watches the ticket, and on which channels."""
        ticket = get_visible_ticket(request.user, ticket_id)
        watcher = ticket.watchers.filter(user=cast(User, request.user)).first()
        return Response(
            {
                "watching": watcher is not None,
                "notify_in_app": bool(watcher and watcher.notify_in_app),
                "notify_email": bool(watcher and watcher.notify_email),
            }
        )

    @extend_schema(request=None, responses=WatcherSerializer)
    def post(self, request: Request, ticket_id: int) -> Response:
        data = WatchSerializer(data=request.data)
        validate_for_ticket(data, request.user, ticket_id)
        watcher = conversation.watch_ticket(
            actor=request.user, ticket_id=ticket_id, **data.validated_data
        )
        return Response(WatcherSerializer(watcher).data, status=http.HTTP_200_OK)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, ticket_id: int) -> Response:
        conversation.unwatch_ticket(actor=request.user, ticket_id=ticket_id)
        return Response(status=http.HTTP_204_NO_CONTENT)


class WatcherListView(GenericAPIView[Any]):
    serializer_class = WatcherSerializer
    pagination_class = cursor_pagination("created_at", "id")

    @extend_schema(responses=WatcherSerializer(many=True))
    def get(self, request: Request, ticket_id: int) -> Response:
        ticket = get_visible_ticket(request.user, ticket_id)
        require_role(request.user, ticket.project, Role.AGENT, "see who watches a ticket")
        page = self.paginate_queryset(ticket.watchers.select_related("user"))
        return self.get_paginated_response(WatcherSerializer(page, many=True).data)


class AuditView(GenericAPIView[AuditLog]):
    serializer_class = AuditSerializer
    pagination_class = cursor_pagination("created_at", "id")

    @extend_schema(responses=AuditSerializer(many=True))
    def get(self, request: Request, ticket_id: int) -> Response:
        ticket = get_visible_ticket(request.user, ticket_id)
        require_role(request.user, ticket.project, Role.AGENT, "read the audit trail")
        page = self.paginate_queryset(
            AuditLog.objects.filter(ticket_id=ticket.pk).select_related("actor")
        )
        return self.get_paginated_response(AuditSerializer(page, many=True).data)


class BulkView(GenericAPIView[Ticket]):
    serializer_class = BulkSerializer

    @extend_schema(request=BulkSerializer, responses=BulkResultSerializer)
    def post(self, request: Request) -> Response:
        data = BulkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        results = bulk.bulk_update(
            actor=request.user,
            ids=data.validated_data["ids"],
            action=data.validated_data["action"],
            value=data.validated_data.get("value"),
        )
        return Response({"results": results})


class StatsView(GenericAPIView[Ticket]):
    serializer_class = TicketSerializer

    @extend_schema(
        parameters=TICKET_FILTERS,
        responses=StatsSerializer,
        description="Every ticket-list filter applies (`project`, `created_after`, "
        "`created_before`, `priority`, ...); `created_per_day` spans the range, zero-filled.",
    )
    def get(self, request: Request) -> Response:
        filters = parse_ticket_filters(request.query_params)
        if filters.project:
            get_visible_project(request.user, filters.project)
        qs = apply_ticket_filters(visible_tickets(request.user), filters, user=request.user)
        stats = ticket_stats(qs)
        stats["created_per_day"] = created_per_day(
            qs, after=filters.created_after, before=filters.created_before
        )
        return Response(stats)


def ticket_stats(qs: Any) -> dict[str, Any]:
    """Every figure by database aggregation (a handful of queries, none looping over tickets),
    read on the replica (settings.READ_REPLICA: the primary unless DATABASE_REPLICA_URL is set)."""
    now = timezone.now()
    qs = qs.using(settings.READ_REPLICA)
    totals = qs.aggregate(
        total=Count("id"),
        open=Count("id", filter=~Q(status__category=StatusCategory.DONE)),
        days=Count(TruncDate("created_at"), distinct=True),
        first_response=Avg(F("first_response_at") - F("created_at")),
        resolution=Avg(F("resolved_at") - F("created_at")),
    )

    def breakdown(field: str) -> dict[str, int]:
        return dict(
            qs.order_by().values_list(field).annotate(n=Count("id")).values_list(field, "n")
        )

    priority = breakdown("priority")
    categories = breakdown("status__category")
    return {
        "total_tickets": totals["total"],
        "open_tickets": totals["open"],
        "avg_tickets_per_day": round(totals["total"] / totals["days"], 2)
        if totals["days"]
        else 0.0,
        "priority_breakdown": {p: priority.get(p, 0) for p in Priority.values},
        "category_breakdown": breakdown("category"),
        "status_breakdown": breakdown("status__key"),
        "status_category_breakdown": {c: categories.get(c, 0) for c in StatusCategory.values},
        "avg_first_response_seconds": totals["first_response"].total_seconds()
        if totals["first_response"]
        else None,
        "avg_resolution_seconds": totals["resolution"].total_seconds()
        if totals["resolution"]
        else None,
        "sla": sla_stats(qs, now=now),
    }
