"""SLA endpoints: calendars, a project's policies, a ticket's SLA timeline.

Who may do what:
- calendars are shared by every project. Any signed-in user reads them; site admins and project
  admins create them; changing or deleting one needs a site admin, or a project admin who
  administers every project whose policies use it.
- a project's policies: its members read them, its admins (and site admins) write them.
- a ticket's timeline: staff of the ticket's project (customers get 403; others 404).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import Forbidden, NotFound
from config.pagination import cursor_pagination
from sla import services
from sla.api.serializers import CalendarSerializer, SlaPolicySerializer, TicketTimelineSerializer
from sla.models import Calendar, SlaPolicy
from sla.selectors import sla_object, timeline, with_sla
from tickets.models import Membership, Project, Role
from tickets.permissions import is_staff_role, require_role, role_in
from tickets.selectors import get_visible_project, get_visible_ticket


def _is_any_project_admin(user: Any) -> bool:
    return bool(user.is_superuser) or Membership.objects.filter(user=user, role=Role.ADMIN).exists()


def _require_calendar_writer(user: Any, calendar: Calendar | None) -> None:
    if user.is_superuser:
        return
    if not _is_any_project_admin(user):
        raise Forbidden("Only site admins and project admins can change calendars.")
    if calendar is None:
        return
    using = set(
        SlaPolicy.objects.filter(calendar=calendar).values_list("project_id", flat=True).distinct()
    )
    administered = set(
        Membership.objects.filter(user=user, role=Role.ADMIN, project_id__in=using).values_list(
            "project_id", flat=True
        )
    )
    if using - administered:
        raise Forbidden("Projects you do not administer use this calendar.")


class CalendarListView(generics.ListCreateAPIView):
    """`GET` every calendar; `POST {name, timezone, windows, holidays}`."""

    serializer_class = CalendarSerializer
    pagination_class = cursor_pagination("id")
    queryset = Calendar.objects.all()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require_calendar_writer(request.user, None)
        data = CalendarSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        calendar = services.create_calendar(actor=request.user, **data.validated_data)
        return Response(CalendarSerializer(calendar).data, status=status.HTTP_201_CREATED)


class CalendarDetailView(generics.RetrieveUpdateDestroyAPIView):
    """`GET|PATCH|DELETE` one calendar (`PUT` is not offered)."""

    serializer_class = CalendarSerializer
    queryset = Calendar.objects.all()
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_object(self) -> Calendar:
        calendar = Calendar.objects.filter(pk=self.kwargs["pk"]).first()
        if calendar is None:
            raise NotFound("No such calendar.")
        return calendar

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        calendar = self.get_object()
        _require_calendar_writer(request.user, calendar)
        data = CalendarSerializer(calendar, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        calendar = services.update_calendar(
            actor=request.user, calendar=calendar, **data.validated_data
        )
        return Response(CalendarSerializer(calendar).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        calendar = self.get_object()
        _require_calendar_writer(request.user, calendar)
        services.delete_calendar(actor=request.user, calendar=calendar)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _project(view: Any) -> Project:
    return get_visible_project(view.request.user, view.kwargs["key"])


class PolicyListView(generics.ListCreateAPIView):
    """`GET` a project's policies (members); `POST` one (project admins)."""

    serializer_class = SlaPolicySerializer
    pagination_class = cursor_pagination("id")

    def get_queryset(self) -> Any:
        return SlaPolicy.objects.filter(project=_project(self)).select_related("project")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = _project(self)
        require_role(request.user, project, Role.ADMIN, "change SLA policies")
        data = SlaPolicySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy = services.create_policy(actor=request.user, project=project, **data.validated_data)
        return Response(SlaPolicySerializer(policy).data, status=status.HTTP_201_CREATED)


class PolicyDetailView(generics.RetrieveUpdateDestroyAPIView):
    """`GET|PATCH|DELETE` one policy of the project."""

    serializer_class = SlaPolicySerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_object(self) -> SlaPolicy:
        policy = (
            SlaPolicy.objects.filter(project=_project(self), pk=self.kwargs["pk"])
            .select_related("project")
            .first()
        )
        if policy is None:
            raise NotFound("No such SLA policy in this project.")
        return policy

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        policy = self.get_object()
        require_role(request.user, policy.project, Role.ADMIN, "change SLA policies")
        data = SlaPolicySerializer(policy, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        policy = services.update_policy(actor=request.user, policy=policy, **data.validated_data)
        return Response(SlaPolicySerializer(policy).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        policy = self.get_object()
        require_role(request.user, policy.project, Role.ADMIN, "change SLA policies")
        services.delete_policy(actor=request.user, policy=policy)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TicketSlaView(APIView):
    """`GET` a ticket's SLA object and timeline (started, paused, ..., met), oldest first."""

    @extend_schema(responses={200: TicketTimelineSerializer})
    def get(self, request: Request, pk: int) -> Response:
        ticket = get_visible_ticket(request.user, pk)
        if not is_staff_role(role_in(request.user, ticket.project)):
            raise Forbidden("The SLA timeline is for the project's staff.")
        ticket = with_sla(type(ticket).objects.filter(pk=ticket.pk)).select_related("project").get()
        body = {
            "ticket": ticket.pk,
            "key": f"{ticket.project.key}-{ticket.number}",
            "sla": sla_object(ticket, now=timezone.now()),
            "events": list(timeline(ticket)),
        }
        return Response(TicketTimelineSerializer(body).data)
