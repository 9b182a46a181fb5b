"""Tickets: list/search/filter, create, detail, move, assign, escalate, conversation, watchers,
audit, attachments, bulk and stats."""

from __future__ import annotations

from typing import Any, cast

from django.core import signing
from django.core.files.storage import default_storage
from django.db.models import Avg, Count, F, Q
from django.db.models.functions import TruncDate
from django.http import FileResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import InvalidInput, NotFound
from config.pagination import cursor_pagination
from sla.selectors import sla_stats
from tickets.api.dashboard import created_per_day
from tickets.api.projects import page_of_tickets
from tickets.api.serializers import (
    AssignSerializer,
    AttachmentSerializer,
    AuditSerializer,
    BulkSerializer,
    MessageSerializer,
    MoveSerializer,
    MyWatchSerializer,
    ReasonSerializer,
    TicketCreateSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
    UploadSerializer,
    WatcherSerializer,
    WatchSerializer,
)
from tickets.filters import apply_ticket_filters, order_tickets, parse_ticket_filters
from tickets.models import AuditLog, Priority, Role, StatusCategory, Ticket, User
from tickets.permissions import require_role
from tickets.selectors import (
    get_visible_project,
    get_visible_ticket,
    visible_attachments,
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

    def get(self, request: Request) -> Response:
        filters = parse_ticket_filters(request.query_params)
        qs = apply_ticket_filters(visible_tickets(request.user), filters, user=request.user)
        qs, ordering = order_tickets(qs, filters)
        page = page_of_tickets(self, qs, ordering)
        return self.get_paginated_response(
            TicketSerializer(page, many=True, context={"now": timezone.now()}).data
        )

    @extend_schema(request=TicketCreateSerializer)
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
        else:
            ticket = services.create_ticket(actor=request.user, project=project, **fields)
        response = _detail(request, ticket.pk)
        response.status_code = http.HTTP_201_CREATED
        return response


class TicketDetailView(GenericAPIView[Ticket]):
    serializer_class = TicketSerializer

    def get(self, request: Request, ticket_id: int) -> Response:
        return _detail(request, ticket_id)

    @extend_schema(request=TicketUpdateSerializer)
    def patch(self, request: Request, ticket_id: int) -> Response:
        get_visible_ticket(request.user, ticket_id)
        data = TicketUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        services.update_ticket(
            actor=request.user,
            ticket_id=ticket_id,
            changes=changes,
            client_mutation_id=changes.pop("client_mutation_id", None),
        )
        return _detail(request, ticket_id)

    def delete(self, request: Request, ticket_id: int) -> Response:
        services.archive_ticket(actor=request.user, ticket_id=ticket_id)
        return Response(status=http.HTTP_204_NO_CONTENT)


class MoveView(GenericAPIView[Ticket]):
    serializer_class = MoveSerializer

    @extend_schema(request=MoveSerializer, responses=TicketSerializer)
    def patch(self, request: Request, ticket_id: int) -> Response:
        data = MoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
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
        data.is_valid(raise_exception=True)
        services.assign_ticket(actor=request.user, ticket_id=ticket_id, **data.validated_data)
        return _detail(request, ticket_id)


class EscalateView(GenericAPIView[Ticket]):
    serializer_class = ReasonSerializer

    @extend_schema(responses=TicketSerializer)
    def post(self, request: Request, ticket_id: int) -> Response:
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.escalate_ticket(
            actor=request.user, ticket_id=ticket_id, reason=data.validated_data["reason"]
        )
        return _detail(request, ticket_id)


class AcknowledgeView(GenericAPIView[Ticket]):
    serializer_class = TicketSerializer

    @extend_schema(request=None)
    def post(self, request: Request, ticket_id: int) -> Response:
        services.acknowledge_ticket(actor=request.user, ticket_id=ticket_id)
        return _detail(request, ticket_id)


class MessageListView(GenericAPIView[Any]):
    serializer_class = MessageSerializer
    pagination_class = cursor_pagination("created_at", "id")

    def get(self, request: Request, ticket_id: int) -> Response:
        ticket = get_visible_ticket(request.user, ticket_id)
        page = self.paginate_queryset(visible_messages(request.user, ticket))
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    def post(self, request: Request, ticket_id: int) -> Response:
        data = MessageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
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

    @extend_schema(responses=WatcherSerializer)
    def post(self, request: Request, ticket_id: int) -> Response:
        data = WatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        watcher = conversation.watch_ticket(
            actor=request.user, ticket_id=ticket_id, **data.validated_data
        )
        return Response(WatcherSerializer(watcher).data, status=http.HTTP_200_OK)

    def delete(self, request: Request, ticket_id: int) -> Response:
        conversation.unwatch_ticket(actor=request.user, ticket_id=ticket_id)
        return Response(status=http.HTTP_204_NO_CONTENT)


class WatcherListView(GenericAPIView[Any]):
    serializer_class = WatcherSerializer
    pagination_class = cursor_pagination("created_at", "id")

    def get(self, request: Request, ticket_id: int) -> Response:
        ticket = get_visible_ticket(request.user, ticket_id)
        require_role(request.user, ticket.project, Role.AGENT, "see who watches a ticket")
        page = self.paginate_queryset(ticket.watchers.select_related("user"))
        return self.get_paginated_response(WatcherSerializer(page, many=True).data)


class AuditView(GenericAPIView[AuditLog]):
    serializer_class = AuditSerializer
    pagination_class = cursor_pagination("created_at", "id")

    def get(self, request: Request, ticket_id: int) -> Response:
        ticket = get_visible_ticket(request.user, ticket_id)
        require_role(request.user, ticket.project, Role.AGENT, "read the audit trail")
        page = self.paginate_queryset(
            AuditLog.objects.filter(ticket_id=ticket.pk).select_related("actor")
        )
        return self.get_paginated_response(AuditSerializer(page, many=True).data)


class AttachmentListView(GenericAPIView[Any]):
    serializer_class = AttachmentSerializer
    pagination_class = cursor_pagination("created_at", "id")
    parser_classes = [MultiPartParser, FormParser]

    def get(self, request: Request, ticket_id: int) -> Response:
        ticket = get_visible_ticket(request.user, ticket_id)
        page = self.paginate_queryset(ticket.attachments.select_related("uploaded_by"))
        return self.get_paginated_response(AttachmentSerializer(page, many=True).data)

    @extend_schema(request={"multipart/form-data": UploadSerializer})
    def post(self, request: Request, ticket_id: int) -> Response:
        data = UploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attachment = conversation.add_attachment(
            actor=request.user, ticket_id=ticket_id, upload=data.validated_data["file"]
        )
        return Response(AttachmentSerializer(attachment).data, status=http.HTTP_201_CREATED)


ATTACHMENT_SALT = "helpline.attachment"


# Types a browser may show in place (`?inline=true`): never HTML or SVG, which could run script.
INLINE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")
INLINE_CSP = (
    "default-src 'none'; img-src 'self'; object-src 'self'; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'"
)


def _inline_param(request: Request) -> bool:
    raw = (request.query_params.get("inline") or "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise InvalidInput("inline must be true or false.")
    return raw in ("true", "1")


class AttachmentDownloadView(GenericAPIView[Any]):
    """302 to an expiring signed URL: S3 presigned, or a Django-signed URL served below.
    `?inline=true`: images and PDFs are served to be shown in place (a preview)."""

    serializer_class = AttachmentSerializer

    @extend_schema(
        parameters=[OpenApiParameter("inline", bool, description="Show images and PDFs in place")],
        responses={302: None},
    )
    def get(self, request: Request, attachment_id: int) -> HttpResponseRedirect:
        from django.conf import settings

        inline = _inline_param(request)
        attachment = (
            visible_attachments(request.user)
            .select_related("ticket")
            .filter(pk=attachment_id)
            .first()
        )
        if attachment is None:
            raise NotFound("No such attachment.")
        conversation.record_attachment_view(actor=request.user, attachment=attachment)
        inline = inline and attachment.content_type in INLINE_TYPES
        disposition = "inline" if inline else "attachment"
        if settings.AWS_STORAGE_BUCKET_NAME:
            parameters = {
                "ResponseContentDisposition": f'{disposition}; filename="{attachment.filename}"'
            }
            if inline:
                parameters["ResponseContentType"] = attachment.content_type
            url = default_storage.url(  # type: ignore[call-arg]  # S3Storage.url takes these
                attachment.file.name, parameters=parameters, expire=settings.SIGNED_URL_SECONDS
            )
        else:
            claims = {"a": attachment.pk, **({"i": 1} if inline else {})}
            token = signing.dumps(claims, salt=ATTACHMENT_SALT)
            url = request.build_absolute_uri(reverse("attachment-file", args=[token]))
        return HttpResponseRedirect(url)


class SignedAttachmentFileView(GenericAPIView[Any]):
    """Serves a file-system attachment to whoever holds a valid, unexpired signature."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    serializer_class = AttachmentSerializer

    def get(self, request: Request, token: str) -> FileResponse:
        from django.conf import settings

        from tickets.models import Attachment

        try:
            payload = signing.loads(
                token, salt=ATTACHMENT_SALT, max_age=settings.SIGNED_URL_SECONDS
            )
        except signing.BadSignature:
            raise NotFound("This download link is invalid or has expired.") from None
        attachment = Attachment.objects.filter(pk=payload.get("a")).first()
        if attachment is None:
            raise NotFound("No such attachment.")
        inline = payload.get("i") == 1 and attachment.content_type in INLINE_TYPES
        response = FileResponse(
            attachment.file.open("rb"),
            as_attachment=not inline,
            filename=attachment.filename,
            content_type=attachment.content_type,
        )
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        if inline:
            response["Content-Security-Policy"] = INLINE_CSP
            response["X-Frame-Options"] = "SAMEORIGIN"
        return response


class BulkView(GenericAPIView[Ticket]):
    serializer_class = BulkSerializer

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
        description="Every ticket-list filter applies (`project`, `created_after`, "
        "`created_before`, `priority`, ...); `created_per_day` spans the range, zero-filled."
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
    """Every figure by database aggregation (a handful of queries, none looping over tickets)."""
    now = timezone.now()
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
