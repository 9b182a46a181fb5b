"""Cursor pagination for every list: `{"results", "next", "previous"}`, page_size up to 200."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination as DRFCursorPagination


class CursorPagination(DRFCursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")


def cursor_pagination(*ordering: str) -> type[CursorPagination]:
    """A cursor paginator ordered by the given fields (the last one must be unique)."""
    return type("CursorPagination", (CursorPagination,), {"ordering": ordering})
