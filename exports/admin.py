"""Export jobs in the admin: read-only (jobs change only through exports.services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from exports.models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "project",
        "requester",
        "format",
        "status",
        "rows_done",
        "rows_total",
        "attempts",
        "created_at",
        "finished_at",
        "expires_at",
    )
    list_filter = ("status", "format", "storage")
    search_fields = ("requester__username", "project__key", "file_key")
    list_select_related = ("project", "requester")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
