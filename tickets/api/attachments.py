"""A ticket's attachments: list and upload, and downloads through expiring signed URLs
(`?inline=true`: images and PDFs shown in place, for previews)."""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponseRedirect
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status as http
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import InvalidInput, NotFound
from config.openapi import errors
from config.pagination import cursor_pagination
from tickets.api.serializers import AttachmentSerializer, UploadSerializer, validate_for_ticket
from tickets.selectors import get_visible_ticket, visible_attachments
from tickets.services import conversation


class AttachmentListView(GenericAPIView[Any]):
    serializer_class = AttachmentSerializer
    pagination_class = cursor_pagination("created_at", "id")
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses=AttachmentSerializer(many=True))
    def get(self, request: Request, ticket_id: int) -> Response:
        ticket = get_visible_ticket(request.user, ticket_id)
        page = self.paginate_queryset(ticket.attachments.select_related("uploaded_by"))
        return self.get_paginated_response(AttachmentSerializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": UploadSerializer},
        responses={201: AttachmentSerializer, **errors(413)},
    )
    def post(self, request: Request, ticket_id: int) -> Response:
        data = UploadSerializer(data=request.data)
        validate_for_ticket(data, request.user, ticket_id)
        attachment = conversation.add_attachment(
            actor=request.user, ticket_id=ticket_id, upload=data.validated_data["file"]
        )
        return Response(AttachmentSerializer(attachment).data, status=http.HTTP_201_CREATED)


ATTACHMENT_SALT = "helpline.attachment"
LOCATION = OpenApiParameter(
    "Location", str, OpenApiParameter.HEADER, response=[302], description="Where the file is."
)


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
        parameters=[
            OpenApiParameter("inline", bool, description="Show images and PDFs in place"),
            LOCATION,
        ],
        responses={302: OpenApiResponse(description="To an expiring signed URL of the file.")},
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

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, as an attachment or shown in place."
            )
        }
    )
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
