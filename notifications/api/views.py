"""HTTP views of notifications, preferences and webhooks: parse, call one service, shape output."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import InvalidInput, NotFound
from config.pagination import cursor_pagination
from notifications import inbox
from notifications.api.serializers import (
    NotificationSerializer,
    PreferencesSerializer,
    RotateSecretSerializer,
    WebhookDeliverySerializer,
    WebhookInputSerializer,
    WebhookSerializer,
    WebhookWithSecretSerializer,
)
from notifications.models import Notification, Webhook, WebhookDelivery
from notifications.webhooks import services as webhook_services
from tickets.models import Project, Role
from tickets.permissions import require_role
from tickets.selectors import get_visible_project

# --- in-app notifications and preferences ---------------------------------------------------------


class NotificationListView(generics.ListAPIView):
    """The caller's notifications, newest first; `?unread=true` for the unread ones only."""

    serializer_class = NotificationSerializer
    pagination_class = cursor_pagination("-created_at", "-id")

    @extend_schema(
        parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="Only unread.")]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Notification]:
        qs = inbox.visible_notifications(self.request.user)
        unread = self.request.query_params.get("unread")
        if unread is not None:
            if unread.lower() not in ("true", "false", "1", "0"):
                raise InvalidInput("unread must be true or false.")
            qs = qs.filter(read_at__isnull=unread.lower() in ("true", "1"))
        return qs


class NotificationUnreadCountView(APIView):
    @extend_schema(
        responses=inline_serializer("UnreadCount", {"unread": serializers.IntegerField()})
    )
    def get(self, request: Request) -> Response:
        return Response({"unread": inbox.unread_count(request.user)})


class NotificationReadView(APIView):
    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request: Request, pk: int) -> Response:
        notification = inbox.mark_read(actor=request.user, notification_id=pk)
        return Response(NotificationSerializer(notification).data)


class NotificationReadAllView(APIView):
    @extend_schema(
        request=None,
        responses=inline_serializer("ReadAllResult", {"updated": serializers.IntegerField()}),
    )
    def post(self, request: Request) -> Response:
        return Response({"updated": inbox.mark_all_read(actor=request.user)})


class NotificationPreferencesView(APIView):
    @extend_schema(responses=PreferencesSerializer)
    def get(self, request: Request) -> Response:
        return Response(inbox.get_preferences(request.user))

    @extend_schema(request=PreferencesSerializer, responses=PreferencesSerializer)
    def put(self, request: Request) -> Response:
        return Response(inbox.set_preferences(actor=request.user, document=request.data))


# --- webhooks (project admins) --------------------------------------------------------------------


def _admin_project(request: Request, key: str) -> Project:
    """The project when the caller administers it: 404 when unseen, 403 when not an admin."""
    project = get_visible_project(request.user, key)
    require_role(request.user, project, Role.ADMIN, "manage webhooks")
    return project


class WebhookListView(generics.ListAPIView):
    serializer_class = WebhookSerializer
    pagination_class = cursor_pagination("created_at", "id")

    def get_queryset(self) -> QuerySet[Webhook]:
        project = _admin_project(self.request, self.kwargs["key"])
        return Webhook.objects.filter(project=project).select_related("created_by")

    @extend_schema(request=WebhookInputSerializer, responses={201: WebhookWithSecretSerializer})
    def post(self, request: Request, key: str) -> Response:
        project = _admin_project(request, key)
        data = WebhookInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        webhook = webhook_services.create_webhook(
            actor=request.user,
            project=project,
            url=data.validated_data["url"],
            events=data.validated_data.get("events"),
            description=data.validated_data.get("description", ""),
        )
        return Response(WebhookWithSecretSerializer(webhook).data, status=status.HTTP_201_CREATED)


class WebhookDetailView(APIView):
    @extend_schema(responses=WebhookSerializer)
    def get(self, request: Request, key: str, webhook_id: int) -> Response:
        project = _admin_project(request, key)
        return Response(
            WebhookSerializer(webhook_services.get_project_webhook(project, webhook_id)).data
        )

    @extend_schema(request=WebhookInputSerializer, responses=WebhookSerializer)
    def patch(self, request: Request, key: str, webhook_id: int) -> Response:
        project = _admin_project(request, key)
        data = WebhookInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        webhook = webhook_services.update_webhook(
            actor=request.user,
            project=project,
            webhook_id=webhook_id,
            changes=dict(data.validated_data),
        )
        return Response(WebhookSerializer(webhook).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, key: str, webhook_id: int) -> Response:
        project = _admin_project(request, key)
        webhook_services.delete_webhook(actor=request.user, project=project, webhook_id=webhook_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretView(APIView):
    @extend_schema(request=RotateSecretSerializer, responses=WebhookWithSecretSerializer)
    def post(self, request: Request, key: str, webhook_id: int) -> Response:
        project = _admin_project(request, key)
        data = RotateSecretSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        webhook = webhook_services.rotate_webhook_secret(
            actor=request.user,
            project=project,
            webhook_id=webhook_id,
            overlap_seconds=data.validated_data.get("overlap_seconds"),
        )
        return Response(WebhookWithSecretSerializer(webhook).data)


class WebhookTestView(APIView):
    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    def post(self, request: Request, key: str, webhook_id: int) -> Response:
        project = _admin_project(request, key)
        delivery = webhook_services.send_test_ping(
            actor=request.user, project=project, webhook_id=webhook_id
        )
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryListView(generics.ListAPIView):
    """The delivery log of one endpoint, newest first; `?status=pending|succeeded|failed`."""

    serializer_class = WebhookDeliverySerializer
    pagination_class = cursor_pagination("-created_at", "-id")

    @extend_schema(parameters=[OpenApiParameter("status", OpenApiTypes.STR)])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        project = _admin_project(self.request, self.kwargs["key"])
        webhook = webhook_services.get_project_webhook(project, self.kwargs["webhook_id"])
        qs = WebhookDelivery.objects.filter(webhook=webhook).prefetch_related("attempt_log")
        wanted = self.request.query_params.get("status")
        if wanted:
            if wanted not in ("pending", "succeeded", "failed"):
                raise InvalidInput("status must be pending, succeeded or failed.")
            qs = qs.filter(status=wanted)
        return qs


class WebhookDeliveryDetailView(APIView):
    @extend_schema(responses=WebhookDeliverySerializer)
    def get(self, request: Request, key: str, webhook_id: int, delivery_id: int) -> Response:
        project = _admin_project(request, key)
        webhook = webhook_services.get_project_webhook(project, webhook_id)
        delivery = (
            WebhookDelivery.objects.filter(webhook=webhook, pk=delivery_id)
            .prefetch_related("attempt_log")
            .first()
        )
        if delivery is None:
            raise NotFound("No such delivery.")
        return Response(WebhookDeliverySerializer(delivery).data)


class WebhookRedeliverView(APIView):
    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    def post(self, request: Request, key: str, webhook_id: int, delivery_id: int) -> Response:
        project = _admin_project(request, key)
        delivery = webhook_services.redeliver(
            actor=request.user, project=project, webhook_id=webhook_id, delivery_id=delivery_id
        )
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
