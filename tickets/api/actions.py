"""`POST /api/v1/tickets/{id}/resolve/` `{summary, status}` and `POST .../reopen/`
`{reason, status}`: the ticket page's lifecycle actions (each answers with the ticket)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from tickets.api.serializers import TicketSerializer, validate_for_ticket
from tickets.models import Ticket
from tickets.selectors import visible_ticket
from tickets.services import lifecycle


class ResolveSerializer(serializers.Serializer[Any]):
    summary = serializers.CharField(
        max_length=lifecycle.SUMMARY_MAX, allow_blank=True, required=False, default=""
    )
    status = serializers.CharField(
        max_length=40, required=False, default="resolved", help_text="A done status"
    )


class ReopenSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500, allow_blank=True, required=False, default="")
    status = serializers.CharField(
        max_length=40, required=False, default="open", help_text="A status that is not done"
    )


class ResolveView(GenericAPIView[Ticket]):
    serializer_class = ResolveSerializer

    @extend_schema(request=ResolveSerializer, responses=TicketSerializer)
    def post(self, request: Request, ticket_id: int) -> Response:
        data = ResolveSerializer(data=request.data)
        validate_for_ticket(data, request.user, ticket_id)
        lifecycle.resolve_ticket(actor=request.user, ticket_id=ticket_id, **data.validated_data)
        return Response(TicketSerializer(visible_ticket(request.user, ticket_id)).data)


class ReopenView(GenericAPIView[Ticket]):
    serializer_class = ReopenSerializer

    @extend_schema(request=ReopenSerializer, responses=TicketSerializer)
    def post(self, request: Request, ticket_id: int) -> Response:
        data = ReopenSerializer(data=request.data)
        validate_for_ticket(data, request.user, ticket_id)
        lifecycle.reopen_ticket(actor=request.user, ticket_id=ticket_id, **data.validated_data)
        return Response(TicketSerializer(visible_ticket(request.user, ticket_id)).data)
