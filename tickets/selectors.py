"""Reads, always scoped by what the user may see. Something not visible is simply not found (404)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from config.api import Forbidden, NotFound
from config.rawsql import ModelColumns, fetch_all, fetch_one
from sla.models import TicketSla
from tickets import sql
from tickets.models import (
    Attachment,
    BoardColumn,
    Membership,
    Message,
    Project,
    Role,
    Status,
    Ticket,
    User,
)

STAFF_ROLES = [Role.AGENT, Role.LEAD, Role.MANAGER, Role.ADMIN]


def visible_projects(user: Any) -> QuerySet[Project]:
    """Projects the user is a member of (all projects for site admins)."""
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user)


def get_visible_project(user: Any, key: str) -> Project:
    """The project by key, or NotFound when the user is not in it."""
    project = visible_projects(user).filter(key=key).first()
    if project is None:
        raise NotFound(f"No project {key!r} that you can see.")
    return project


def memberships(user: Any) -> dict[int, str]:
    """The user's role per project id."""
    return dict(Membership.objects.filter(user_id=user.pk).values_list("project_id", "role"))


@dataclass(frozen=True)
class Visibility:
    """Which tickets a user may see: every ticket of the projects where they are staff, and in
    the projects where they are a customer the tickets they requested or created. The one
    definition: `visible_tickets` (ORM) and `sql.VISIBLE` (hand-written reads) both take it."""

    everything: bool
    staff: tuple[int, ...]
    customer: tuple[int, ...]
    user_id: int | None

    @classmethod
    def of(cls, user: Any, roles: dict[int, str] | None = None) -> Visibility:
        if not (user.is_authenticated and user.is_active):
            return cls(False, (), (), None)
        if user.is_superuser:
            return cls(True, (), (), user.pk)
        roles = memberships(user) if roles is None else roles
        staff = tuple(sorted(p for p, role in roles.items() if role in STAFF_ROLES))
        customer = tuple(sorted(p for p, role in roles.items() if role == Role.CUSTOMER))
        return cls(False, staff, customer, user.pk)

    def q(self) -> Q:
        """The rule as a filter (project ids as literals, so the planner can size it)."""
        if self.everything:
            return Q()
        mine = Q(requester_id=self.user_id) | Q(created_by_id=self.user_id)
        return Q(project_id__in=self.staff) | (Q(project_id__in=self.customer) & mine)

    def sees(self, project_id: int, requester_id: int | None, created_by_id: int | None) -> bool:
        """The rule for one ticket already read (its project and people)."""
        if self.everything or project_id in self.staff:
            return True
        mine = self.user_id is not None and self.user_id in (requester_id, created_by_id)
        return project_id in self.customer and mine

    def params(self) -> dict[str, Any]:
        """The parameters of `sql.VISIBLE`."""
        return {
            "vis_all": self.everything,
            "vis_staff": list(self.staff),
            "vis_customer": list(self.customer),
            "vis_user": self.user_id,
        }


def visible_tickets(user: Any, roles: dict[int, str] | None = None) -> QuerySet[Ticket]:
    """Tickets of projects where the user is staff, plus their own tickets where they are a customer."""
    if user.is_superuser:  # site admins see everything (an inactive one cannot sign in)
        return Ticket.objects.all()
    visibility = Visibility.of(user, roles)
    if visibility.user_id is None:
        return Ticket.objects.none()
    return Ticket.objects.filter(visibility.q())


def locked_tickets(ids: Any, *related: str, **filters: Any) -> list[Ticket]:
    """The tickets with these ids (and `filters` on their own columns) locked FOR UPDATE in id
    order, then read with `related` joined, in id order.

    Locked without joins: a row that was locked while a concurrent writer changed its status is
    rechecked by PostgreSQL against the status row it had joined before, fails the join and is
    silently dropped. A read after the lock sees each row as its last writer left it."""
    locked = list(
        Ticket.objects.select_for_update()
        .filter(pk__in=ids, **filters)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not locked:
        return []
    return list(Ticket.objects.select_related(*related).filter(pk__in=locked).order_by("pk"))


def get_visible_ticket(
    user: Any, ticket_id: Any, *, for_update: bool = False, roles: dict[int, str] | None = None
) -> Ticket:
    """The ticket by id, or NotFound when it does not exist or the user may not see it.

    With `for_update` the ticket row (only) is locked until the transaction ends; `roles`: the
    user's memberships when the caller already read them.
    """
    try:
        pk = int(ticket_id)
    except (TypeError, ValueError):
        raise NotFound("No such ticket.") from None
    qs = visible_tickets(user, roles).select_related("project", "status")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    ticket = qs.filter(pk=pk).first()
    if ticket is None and for_update:
        # A concurrent move that changed the status and committed while this statement waited for
        # the row lock: PostgreSQL rechecks the new row version against the status row it joined
        # before (the old one), the join fails and the row is dropped, a 404 under load
        # (bench/bench_load.py). The lock is ours by now; a new statement sees the new status.
        ticket = qs.filter(pk=pk).first()
    if ticket is None:
        raise NotFound("No such ticket.")
    return ticket


def ticket_role(user: Any, ticket_id: int) -> tuple[int, str]:
    """The project id of a ticket the user may see and the user's role there (NotFound else).

    One statement: the ticket's project and people with the user's role in that project (the
    only membership the rule needs here), then `Visibility.sees`."""
    if not (user.is_authenticated and user.is_active):
        raise NotFound("No such ticket.")
    row = fetch_one(sql.TICKET_ROLE, {"user": user.pk, "ticket": ticket_id})
    if row is None:
        raise NotFound("No such ticket.")
    project_id, requester_id, created_by_id, role = row
    if user.is_superuser:
        return project_id, Role.ADMIN
    visibility = Visibility.of(user, {project_id: role} if role is not None else {})
    if not visibility.sees(project_id, requester_id, created_by_id):
        raise NotFound("No such ticket.")
    return project_id, role


def visible_messages(user: Any, ticket: Ticket) -> QuerySet[Message]:
    """A ticket's messages; internal notes only for the project's staff."""
    from tickets.permissions import is_staff_role, role_in

    qs = ticket.messages.select_related("author")
    if not is_staff_role(role_in(user, ticket.project)):
        qs = qs.filter(internal=False)
    return qs


def visible_attachments(user: Any) -> QuerySet[Attachment]:
    """Attachments of tickets the user can see."""
    return Attachment.objects.filter(ticket__in=visible_tickets(user))


# --- full tickets in one hand-written statement ------------------------------------------------
# Detail, list pages, board cards and the move's locked rows read a ticket with its project,
# status, people (id + username: all a ticket shows of them) and SLA row. The ORM's seven-way
# select_related costs ~1.5 ms to compile and more to populate; this is one fixed statement
# (config/rawsql.py) whose rows share one Project/Status/User object per id.
_TICKET = ModelColumns(Ticket, "t", exclude=("search_vector",))
_PROJECT = ModelColumns(Project, "p")
_STATUS = ModelColumns(Status, "s")
_SLA = ModelColumns(TicketSla, "l")
_PEOPLE = sql.PEOPLE
FULL_TICKET_SQL = sql.full_ticket(
    ticket=_TICKET.select(), project=_PROJECT.select(), status=_STATUS.select(), sla=_SLA.select()
)
_CARD_SQL = sql.board_cards(ticket=_TICKET.select(), sla=_SLA.select())


# What `select_related` calls to fill a relation's cache (the compiler's `local_setter`): the ids
# already match, so the descriptors' setters would only repeat their checks, 1,500 times a board.
_CACHE_PROJECT = Ticket.project.field.set_cached_value
_CACHE_STATUS = Ticket.status.field.set_cached_value
_CACHE_PEOPLE = [
    (f"{name}_id", getattr(Ticket, name).field.set_cached_value) for name, _ in _PEOPLE
]
# A reverse one-to-one caches None for "no row", as select_related leaves it after a LEFT JOIN;
# a row also knows its ticket.
_CACHE_SLA = Ticket.sla_state.related.set_cached_value
_CACHE_SLA_TICKET = TicketSla.ticket.field.set_cached_value


class FullTicketBuilder:
    """Turns FULL_TICKET_SQL rows into tickets whose related objects need no further query
    (or _CARD_SQL rows, given the project and statuses those rows leave out)."""

    def __init__(
        self, *, project: Project | None = None, statuses: list[Status] | None = None
    ) -> None:
        self.framed = project is None
        self.projects: dict[int, Project] = {project.pk: project} if project else {}
        self.statuses: dict[int, Status] = {s.pk: s for s in statuses or []}
        self.users: dict[int, User] = {}

    def build(self, row: tuple[Any, ...]) -> Ticket:
        ticket = _TICKET.build(row)
        assert ticket is not None
        at = _TICKET.width
        if self.framed:
            project = self.projects.get(ticket.project_id) or _PROJECT.build(row, at)
            at += _PROJECT.width
            status = self.statuses.get(ticket.status_id) or _STATUS.build(row, at)
            at += _STATUS.width
        else:
            project = self.projects[ticket.project_id]
            status = self.statuses[ticket.status_id]
        assert project is not None and status is not None
        self.projects[project.pk] = project
        self.statuses[status.pk] = status
        _CACHE_PROJECT(ticket, project)
        _CACHE_STATUS(ticket, status)
        for (id_name, cache), username in zip(
            _CACHE_PEOPLE, row[at : at + len(_PEOPLE)], strict=True
        ):
            user_id = getattr(ticket, id_name)
            if user_id is not None:
                user = self.users.get(user_id)
                if user is None:
                    user = User.from_db(connection.alias, ["id", "username"], [user_id, username])
                    self.users[user_id] = user
                cache(ticket, user)
        at += len(_PEOPLE)
        sla = _SLA.build(row, at)
        _CACHE_SLA(ticket, sla)
        if sla is not None:
            _CACHE_SLA_TICKET(sla, ticket)
        return ticket


def full_tickets(where: str, params: dict[str, Any] | list[Any]) -> list[Ticket]:
    """Tickets matching `where` (SQL over alias t, with parameters), fully loaded."""
    builder = FullTicketBuilder()
    return [builder.build(row) for row in fetch_all(f"{FULL_TICKET_SQL} {where}", params)]


def full_ticket(ticket_id: int) -> Ticket:
    """One ticket by id, fully loaded (no visibility rule: the caller has checked access)."""
    (ticket,) = full_tickets("WHERE t.id = %(id)s", {"id": ticket_id})
    return ticket


def tickets_by_id(ids: list[int]) -> list[Ticket]:
    """The tickets with these ids, fully loaded, in the order of `ids` (missing ones skipped)."""
    found = {t.pk: t for t in full_tickets("WHERE t.id = ANY(%(ids)s)", {"ids": list(ids)})}
    return [found[i] for i in ids if i in found]


def board_cards(ids: list[int], project: Project, statuses: list[Status]) -> dict[int, Ticket]:
    """The tickets with these ids that are in `project` and one of `statuses`, by id, fully
    loaded and sharing the given project and status objects."""
    builder = FullTicketBuilder(project=project, statuses=statuses)
    params = {"ids": list(ids), "project": project.pk, "statuses": [s.pk for s in statuses]}
    return {t.pk: t for t in (builder.build(row) for row in fetch_all(_CARD_SQL, params))}


def visible_ticket(user: Any, ticket_id: Any) -> Ticket:
    """`get_visible_ticket`, fully loaded for display (one statement after the memberships)."""
    try:
        pk = int(ticket_id)
    except (TypeError, ValueError):
        raise NotFound("No such ticket.") from None
    visibility = Visibility.of(user)
    if visibility.user_id is None:
        raise NotFound("No such ticket.")
    rows = full_tickets(f"WHERE t.id = %(id)s AND {sql.VISIBLE}", {"id": pk, **visibility.params()})
    if not rows:
        raise NotFound("No such ticket.")
    return rows[0]


_COLUMN = ModelColumns(BoardColumn, "c")
_COLUMNS_SQL = sql.columns_with_statuses(column=_COLUMN.select(), status=_STATUS.select())


def status_counts(project: Project | int) -> dict[int, int]:
    """Unarchived tickets per status id of a project, from the trigger-kept deltas (a handful of
    rows once compacted; see TicketCountDelta)."""
    project_id = project if isinstance(project, int) else project.pk
    rows = fetch_all(sql.STATUS_COUNTS, [project_id])
    return {status_id: int(total) for status_id, total in rows if total}


# --- the board's frame: project, role, seq and columns in two statements -----------------------
_BOARD_SQL = sql.board_frame(project=_PROJECT.select())


def staff_board(user: Any, key: str, action: str) -> tuple[Project, int]:
    """The project by key for its staff, and its board's last seq, read in one statement
    (before any ticket, so events after it are replayed, not missed). Not a member: 404;
    a customer: 403 (as `get_visible_project` + `require_role`)."""
    from tickets.permissions import is_staff_role

    row = fetch_one(_BOARD_SQL, {"user": user.pk, "key": key}) if user.is_active else None
    project = _PROJECT.build(row) if row is not None else None
    if row is None or project is None or (row[-2] is None and not user.is_superuser):
        raise NotFound(f"No project {key!r} that you can see.")
    role = Role.ADMIN if user.is_superuser else row[-2]
    if not is_staff_role(role):
        raise Forbidden(f"Your role in this project does not allow you to {action}.")
    return project, int(row[-1])


def columns_of(project: Project | int) -> list[BoardColumn]:
    """A project's columns in order, each with `shown`: the statuses it shows, in link order."""
    project_id = project if isinstance(project, int) else project.pk
    columns: dict[int, BoardColumn] = {}
    for row in fetch_all(_COLUMNS_SQL, {"project": project_id}):
        built = _COLUMN.build(row)
        assert built is not None
        column = columns.get(built.pk)
        if column is None:
            column = columns[built.pk] = built
            column.shown = []
        status = _STATUS.build(row, _COLUMN.width)
        if status is not None:
            column.shown.append(status)
    return list(columns.values())
