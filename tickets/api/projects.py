"""Projects, members, global statuses, board columns and the board."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import Forbidden, InvalidInput, NotFound
from config.openapi import errors
from config.pagination import cursor_pagination
from config.rawsql import fetch_all
from tickets import sql
from tickets.api.schema import BoardSerializer
from tickets.api.serializers import (
    ColumnSerializer,
    MemberSerializer,
    MemberWriteSerializer,
    ProjectSerializer,
    ProjectUpdateSerializer,
    ReorderSerializer,
    RoleSerializer,
    StatusSerializer,
    TicketSerializer,
)
from tickets.models import (
    BoardColumn,
    Membership,
    Project,
    Role,
    Status,
    Ticket,
    User,
)
from tickets.permissions import require_role
from tickets.selectors import (
    board_cards,
    columns_of,
    get_visible_project,
    staff_board,
    status_counts,
    tickets_by_id,
    visible_projects,
)
from tickets.services import projects as services


def page_of_tickets(
    view: GenericAPIView[Ticket], qs: Any, ordering: tuple[str, ...]
) -> list[Ticket]:
    """One cursor page: the paginator reads only ids and the ordering keys (a narrow query the
    planner sorts before any join), then the page's tickets come fully loaded by id."""
    view.pagination_class = cursor_pagination(*ordering)
    keys = dict.fromkeys(["id", *(name.lstrip("-") for name in ordering)])
    rows = view.paginate_queryset(qs.values(*keys)) or []
    return tickets_by_id([row["id"] for row in rows])


# --- projects -----------------------------------------------------------------------------------


class ProjectListView(GenericAPIView[Project]):
    serializer_class = ProjectSerializer
    pagination_class = cursor_pagination("key")

    @extend_schema(responses=ProjectSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(visible_projects(request.user).order_by("key"))
        return self.get_paginated_response(ProjectSerializer(page, many=True).data)

    @extend_schema(request=ProjectSerializer, responses={201: ProjectSerializer, **errors(409)})
    def post(self, request: Request) -> Response:
        if not request.user.is_superuser:
            raise Forbidden("Only site admins can create projects.")
        data = ProjectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        project = services.create_project(
            actor=request.user,
            key=fields["key"],
            name=fields["name"],
            description=fields.get("description", ""),
            categories=fields.get("categories"),
        )
        return Response(ProjectSerializer(project).data, status=http.HTTP_201_CREATED)


class ProjectDetailView(GenericAPIView[Project]):
    serializer_class = ProjectSerializer

    def get(self, request: Request, key: str) -> Response:
        return Response(ProjectSerializer(get_visible_project(request.user, key)).data)

    @extend_schema(request=ProjectUpdateSerializer, responses=ProjectSerializer)
    def patch(self, request: Request, key: str) -> Response:
        project = get_visible_project(request.user, key)
        require_role(request.user, project, Role.ADMIN, "configure this project")
        data = ProjectUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = services.update_project(
            actor=request.user, project=project, **data.validated_data
        )
        return Response(ProjectSerializer(project).data)


# --- members ------------------------------------------------------------------------------------


class MemberListView(GenericAPIView[Membership]):
    serializer_class = MemberSerializer
    pagination_class = cursor_pagination("id")

    @extend_schema(responses=MemberSerializer(many=True))
    def get(self, request: Request, key: str) -> Response:
        project = get_visible_project(request.user, key)
        require_role(request.user, project, Role.AGENT, "list the project's members")
        page = self.paginate_queryset(
            Membership.objects.filter(project=project).select_related("user")
        )
        return self.get_paginated_response(MemberSerializer(page, many=True).data)

    @extend_schema(request=MemberWriteSerializer, responses={201: MemberSerializer, **errors(409)})
    def post(self, request: Request, key: str) -> Response:
        project = get_visible_project(request.user, key)
        require_role(request.user, project, Role.ADMIN, "manage members")
        data = MemberWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = User.objects.filter(username=data.validated_data["username"]).first()
        if user is None:
            message = f"No user {data.validated_data['username']!r}."
            raise InvalidInput(message, details={"fields": {"username": [message]}})
        membership = services.add_member(
            actor=request.user, project=project, user=user, role=data.validated_data["role"]
        )
        return Response(MemberSerializer(membership).data, status=http.HTTP_201_CREATED)


class MemberDetailView(GenericAPIView[Membership]):
    serializer_class = MemberSerializer

    def _membership(self, request: Request, key: str, username: str) -> Membership:
        project = get_visible_project(request.user, key)
        require_role(request.user, project, Role.ADMIN, "manage members")
        membership = (
            Membership.objects.filter(project=project, user__username=username)
            .select_related("user")
            .first()
        )
        if membership is None:
            raise NotFound(f"{username} is not a member of {key}.")
        return membership

    @extend_schema(request=RoleSerializer, responses=MemberSerializer)
    def patch(self, request: Request, key: str, username: str) -> Response:
        membership = self._membership(request, key, username)
        data = RoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.change_member_role(
            actor=request.user, membership=membership, role=data.validated_data["role"]
        )
        return Response(MemberSerializer(membership).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, key: str, username: str) -> Response:
        services.remove_member(
            actor=request.user, membership=self._membership(request, key, username)
        )
        return Response(status=http.HTTP_204_NO_CONTENT)


# --- statuses -----------------------------------------------------------------------------------


def _site_admin(request: Request) -> None:
    if not request.user.is_superuser:
        raise Forbidden("Only site admins can change global statuses.")


class StatusListView(GenericAPIView[Status]):
    serializer_class = StatusSerializer
    pagination_class = None

    @extend_schema(responses=StatusSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(StatusSerializer(Status.objects.all(), many=True).data)

    @extend_schema(responses={201: StatusSerializer, **errors(409)})
    def post(self, request: Request) -> Response:
        _site_admin(request)
        data = StatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        created = services.create_status(actor=request.user, key=fields.pop("key"), **fields)
        return Response(StatusSerializer(created).data, status=http.HTTP_201_CREATED)


class StatusDetailView(GenericAPIView[Status]):
    serializer_class = StatusSerializer

    def _status(self, key: str) -> Status:
        found = Status.objects.filter(key=key).first()
        if found is None:
            raise NotFound(f"No status {key!r}.")
        return found

    def get(self, request: Request, key: str) -> Response:
        return Response(StatusSerializer(self._status(key)).data)

    def patch(self, request: Request, key: str) -> Response:
        _site_admin(request)
        found = self._status(key)
        data = StatusSerializer(found, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = {k: v for k, v in data.validated_data.items() if k != "key"}
        return Response(
            StatusSerializer(
                services.update_status(actor=request.user, status=found, **changes)
            ).data
        )

    @extend_schema(responses={204: None, **errors(409)})
    def delete(self, request: Request, key: str) -> Response:
        _site_admin(request)
        services.delete_status(actor=request.user, status=self._status(key))
        return Response(status=http.HTTP_204_NO_CONTENT)


# --- columns and board --------------------------------------------------------------------------


def staff_project(request: Request, key: str, action: str) -> Project:
    """The project for its staff (404 unseen, 403 customers): the board's own rule."""
    project, _ = staff_board(request.user, key, action)
    return project


class ColumnListView(GenericAPIView[BoardColumn]):
    serializer_class = ColumnSerializer
    pagination_class = None

    @extend_schema(responses=ColumnSerializer(many=True))
    def get(self, request: Request, key: str) -> Response:
        project = staff_project(request, key, "see the board")
        context = {"counts": status_counts(project)}
        return Response(ColumnSerializer(columns_of(project), many=True, context=context).data)

    @extend_schema(responses={201: ColumnSerializer})
    def post(self, request: Request, key: str) -> Response:
        project = get_visible_project(request.user, key)
        require_role(request.user, project, Role.ADMIN, "configure the board")
        data = ColumnSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        column = services.create_column(
            actor=request.user, project=project, status_keys=fields.pop("status_keys", []), **fields
        )
        column = next(c for c in columns_of(project) if c.pk == column.pk)
        return Response(
            ColumnSerializer(column, context={"counts": status_counts(project)}).data,
            status=http.HTTP_201_CREATED,
        )


class ColumnDetailView(GenericAPIView[BoardColumn]):
    serializer_class = ColumnSerializer

    def _column(self, request: Request, key: str, column_id: int) -> tuple[Project, BoardColumn]:
        project = get_visible_project(request.user, key)
        column = BoardColumn.objects.filter(project=project, pk=column_id).first()
        if column is None:
            raise NotFound("No such column.")
        return project, column

    def get(self, request: Request, key: str, column_id: int) -> Response:
        project = staff_project(request, key, "see the board")
        column = next((c for c in columns_of(project) if c.pk == column_id), None)
        if column is None:
            raise NotFound("No such column.")
        return Response(ColumnSerializer(column, context={"counts": status_counts(project)}).data)

    def patch(self, request: Request, key: str, column_id: int) -> Response:
        project, column = self._column(request, key, column_id)
        require_role(request.user, project, Role.ADMIN, "configure the board")
        data = ColumnSerializer(column, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        services.update_column(
            actor=request.user, column=column, status_keys=fields.pop("status_keys", None), **fields
        )
        column = next(c for c in columns_of(project) if c.pk == column_id)
        return Response(ColumnSerializer(column, context={"counts": status_counts(project)}).data)

    @extend_schema(responses={204: None, **errors(409)})
    def delete(self, request: Request, key: str, column_id: int) -> Response:
        project, column = self._column(request, key, column_id)
        require_role(request.user, project, Role.ADMIN, "configure the board")
        services.delete_column(actor=request.user, column=column)
        return Response(status=http.HTTP_204_NO_CONTENT)


class ColumnReorderView(GenericAPIView[BoardColumn]):
    serializer_class = ReorderSerializer
    pagination_class = None

    @extend_schema(responses=ColumnSerializer(many=True))
    def post(self, request: Request, key: str) -> Response:
        project = get_visible_project(request.user, key)
        require_role(request.user, project, Role.ADMIN, "configure the board")
        data = ReorderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.reorder_columns(
            actor=request.user, project=project, order=data.validated_data["order"]
        )
        context = {"counts": status_counts(project)}
        return Response(ColumnSerializer(columns_of(project), many=True, context=context).data)


BoardCursorPagination = cursor_pagination("rank", "id")


def column_cursor(request: Request, project: Project, column: BoardColumn, last_rank: str) -> str:
    """The URL of a column's next page, as DRF's cursor paginator encodes it (ranks are unique)."""
    cursor = base64.b64encode(urlencode({"p": last_rank}).encode("ascii")).decode("ascii")
    path = f"/api/v1/projects/{project.key}/columns/{column.pk}/tickets/"
    return request.build_absolute_uri(path) + "?" + urlencode({"cursor": cursor})


def first_tickets(
    project: Project, columns: list[BoardColumn], limit: int
) -> dict[int, list[Ticket]]:
    """Each column's first `limit + 1` tickets in rank order, in two queries whatever the counts."""
    parts: list[str] = []
    params: list[Any] = []
    for column in columns:
        ids = [status.pk for status in column.shown]
        if not ids:
            continue
        # Per status an ordered index read of `limit + 1` (ticket_board_idx), then the merge.
        parts.append(sql.column_head(limit + 1))
        params += [column.pk, ids, project.pk]
    by_column: dict[int, list[int]] = {c.pk: [] for c in columns}
    if parts:
        for column_id, ticket_id in fetch_all(" UNION ALL ".join(parts), params):
            by_column[column_id].append(ticket_id)
    wanted = [tid for ids in by_column.values() for tid in ids]
    statuses = [status for column in columns for status in column.shown]
    tickets = board_cards(wanted, project, statuses)
    return {cid: [tickets[i] for i in ids if i in tickets] for cid, ids in by_column.items()}


class BoardView(GenericAPIView[Ticket]):
    serializer_class = TicketSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("limit", int, description="Tickets per column (1-200, default 50)")
        ],
        responses=BoardSerializer,
    )
    def get(self, request: Request, key: str) -> Response:
        project, seq = staff_board(request.user, key, "see the board")
        try:
            limit = int(request.query_params.get("limit", 50))
        except ValueError:
            raise InvalidInput("limit must be a whole number from 1 to 200.") from None
        if not 1 <= limit <= 200:
            raise InvalidInput("limit must be a whole number from 1 to 200.")
        columns = columns_of(project)
        counts = status_counts(project)
        tickets = first_tickets(project, columns, limit)
        context = {"counts": counts, "now": timezone.now()}
        out = []
        for column in columns:
            column_tickets = tickets.get(column.pk, [])
            data = ColumnSerializer(column, context=context).data
            data["tickets"] = TicketSerializer(
                column_tickets[:limit], many=True, context=context
            ).data
            data["next"] = (
                column_cursor(request, project, column, column_tickets[limit - 1].rank)
                if len(column_tickets) > limit
                else None
            )
            out.append(data)
        return Response({"project": ProjectSerializer(project).data, "seq": seq, "columns": out})


class ColumnTicketsView(GenericAPIView[Ticket]):
    serializer_class = TicketSerializer
    pagination_class = BoardCursorPagination

    @extend_schema(responses=TicketSerializer(many=True))
    def get(self, request: Request, key: str, column_id: int) -> Response:
        project = staff_project(request, key, "see the board")
        column = next((c for c in columns_of(project) if c.pk == column_id), None)
        if column is None:
            raise NotFound("No such column.")
        ids = [status.pk for status in column.shown]
        qs = Ticket.objects.filter(project=project, is_archived=False, status_id__in=ids)
        page = page_of_tickets(self, qs, BoardCursorPagination.ordering)
        return self.get_paginated_response(
            TicketSerializer(page, many=True, context={"now": timezone.now()}).data
        )
