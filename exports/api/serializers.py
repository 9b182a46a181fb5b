"""Export request and export job shapes of the public contract."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from exports.columns import COLUMNS
from exports.models import ExportFormat, ExportJob
from exports.services import download_path


class ExportRequestSerializer(serializers.Serializer[Any]):
    project = serializers.CharField(max_length=10)
    format = serializers.ChoiceField(choices=ExportFormat.choices)
    filters = serializers.DictField(
        required=False,
        default=dict,
        help_text="The ticket list's filters (status, priority, assignee, q, created_after, ...).",
    )
    fields = serializers.ListField(  # type: ignore[assignment]  # DRF pops declared fields
        child=serializers.CharField(max_length=40),
        required=False,
        allow_empty=True,
        help_text=f"Columns, in order; default all but metadata and public_messages. Choose from: {', '.join(COLUMNS)}.",
    )
    bom = serializers.BooleanField(
        required=False, default=False, help_text="CSV only: start with a UTF-8 BOM (for Excel)."
    )


class ExportJobSerializer(serializers.ModelSerializer[ExportJob]):
    project = serializers.CharField(source="project.key", read_only=True)
    download_url = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "project",
            "status",
            "format",
            "filters",
            "fields",
            "bom",
            "rows_done",
            "rows_total",
            "file_size",
            "checksum_sha256",
            "download_url",
            "expires_at",
            "error",
            "attempts",
            "as_of",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, job: ExportJob) -> str | None:
        """A signed link valid for SIGNED_URL_SECONDS; a fresh one on every read."""
        path = download_path(job)
        if path is None:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(OpenApiTypes.STR)
    def get_error(self, job: ExportJob) -> str | None:
        # An export that is retrying keeps the reason in `error` for operators, but to the
        # requester it is only an error once the job failed.
        return (job.error or None) if job.status == "failed" else None
