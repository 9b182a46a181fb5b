"""Exports over HTTP: request one, follow it, list yours, download the file by its signed link."""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import NotFound
from config.pagination import cursor_pagination
from exports.api.serializers import ExportJobSerializer, ExportRequestSerializer
from exports.models import ExportJob
from exports.selectors import get_my_export, my_exports
from exports.services import record_download, request_export, resolve_download
from exports.storage import FilesystemStore, S3Store, get_store
from exports.writers import make_writer


class ExportListView(GenericAPIView[ExportJob]):
    serializer_class = ExportJobSerializer
    pagination_class = cursor_pagination("-created_at", "-id")

    @extend_schema(responses=ExportJobSerializer(many=True))
    def get(self, request: Request) -> Response:
        """The caller's own exports, newest first."""
        page = self.paginate_queryset(my_exports(request.user))
        return self.get_paginated_response(
            ExportJobSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        request=ExportRequestSerializer,
        parameters=[
            OpenApiParameter(
                "Location", str, OpenApiParameter.HEADER, response=[202], description="The job."
            )
        ],
        responses={202: ExportJobSerializer},
        operation_id="exports_create",
    )
    def post(self, request: Request) -> Response:
        """Queue an export of the tickets you can see in a project (202; it runs in the background)."""
        data = ExportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        job = request_export(
            actor=request.user,
            project_key=values["project"],
            format=values["format"],
            filters=values.get("filters") or {},
            fields=values.get("fields"),
            bom=values.get("bom", False),
        )
        job = get_my_export(request.user, job.pk)
        return Response(
            ExportJobSerializer(job, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": reverse("export-detail", args=[job.pk])},
        )


class ExportDetailView(GenericAPIView[ExportJob]):
    serializer_class = ExportJobSerializer

    def get(self, request: Request, export_id: int) -> Response:
        """One of your exports: status, progress and, once it succeeded, a fresh download link."""
        job = get_my_export(request.user, export_id)
        return Response(ExportJobSerializer(job, context={"request": request}).data)


class ExportDownloadView(GenericAPIView[ExportJob]):
    # The signature is the credential (it is handed to browsers and download tools), so no
    # session or token is asked for; resolve_download re-checks the requester's access.
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("sig", str, required=True, description="The link's signature."),
            OpenApiParameter(
                "Location", str, OpenApiParameter.HEADER, response=[302], description="The URL."
            ),
        ],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file (file-system storage)."
            ),
            302: OpenApiResponse(description="Redirect to a presigned URL (S3 storage)."),
        },
    )
    def get(self, request: Request, export_id: int) -> HttpResponseBase:
        """The export's file, by the signed link from the export's `download_url`."""
        signature = request.query_params.get("sig", "")
        if not signature:
            raise NotFound("No such download.")
        job = resolve_download(export_id=export_id, signature=signature)
        store = get_store(job.storage)
        content_type = make_writer(job.format, job.fields, bom=job.bom).content_type
        if isinstance(store, S3Store):
            url = store.presigned_url(
                job.file_key,
                filename=job.filename,
                content_type=content_type,
                expires=int(settings.SIGNED_URL_SECONDS),
            )
            record_download(job=job)
            return HttpResponseRedirect(url)
        assert isinstance(store, FilesystemStore)
        try:
            handle = store.open(job.file_key)
        except FileNotFoundError:
            raise NotFound("The export's file is missing from storage.") from None
        record_download(job=job)
        response = FileResponse(
            handle, as_attachment=True, filename=job.filename, content_type=content_type
        )
        response["X-Checksum-SHA256"] = job.checksum_sha256
        return response
