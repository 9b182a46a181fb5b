"""`GET /api/v1/projects/{key}/assignees/`: who a ticket can be assigned to, with each person's
open load (the assignee picker). Staff of the project only (customers 403, others 404)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import InvalidInput
from config.pagination import cursor_pagination
from tickets.api.projects import staff_project
from tickets.models import Membership, Project, StatusCategory, Ticket
from tickets.selectors import STAFF_ROLES


class AssigneeSerializer(serializers.Serializer[Any]):
    username = serializers.CharField()
    full_name = serializers.CharField()
    role = serializers.CharField()
    open_tickets = serializers.IntegerField(
        help_text="Unarchived tickets of this project assigned to them, not in a done status."
    )


def assignees(project: Project) -> QuerySet[Any, Any]:
    """The project's active staff, each annotated with `open_tickets` (a correlated count over
    the assignee index), `username` and `full_name`: one statement for any number of people."""
    load = (
        Ticket.objects.filter(project=project, assignee_id=OuterRef("user_id"), is_archived=False)
        .exclude(status__category=StatusCategory.DONE)
        .order_by()
        .values("assignee_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        Membership.objects.filter(project=project, role__in=STAFF_ROLES, user__is_active=True)
        .annotate(
            username=F("user__username"),
            full_name=F("user__full_name"),
            open_tickets=Coalesce(Subquery(load), Value(0), output_field=IntegerField()),
        )
        .values("username", "full_name", "role", "open_tickets")
    )


def _roles(raw: str | None) -> list[str]:
    if not raw:
        return list(STAFF_ROLES)
    roles = [r.strip() for r in raw.split(",") if r.strip()][:10]
    bad = [r for r in roles if r not in STAFF_ROLES]
    if bad:
        message = f"Unknown role(s) {', '.join(bad)}; expected any of {', '.join(STAFF_ROLES)}."
        raise InvalidInput(f"role: {message}", details={"fields": {"role": [message]}})
    return roles


class AssigneeListView(GenericAPIView[Membership]):
    serializer_class = AssigneeSerializer
    pagination_class = cursor_pagination("username")

    @extend_schema(
        parameters=[
            OpenApiParameter("role", str, description="Comma list of agent, lead, manager, admin"),
            OpenApiParameter("q", str, description="Part of the username or the full name"),
        ]
    )
    def get(self, request: Request, key: str) -> Response:
        project = staff_project(request, key, "see who can be assigned")
        qs = assignees(project).filter(role__in=_roles(request.query_params.get("role")))
        q = (request.query_params.get("q") or "").strip()[:100]
        if q:
            qs = qs.filter(Q(user__username__icontains=q) | Q(user__full_name__icontains=q))
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(list(page or []))
