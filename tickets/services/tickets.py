"""Writes for tickets: create, update, archive, assign, escalate, acknowledge. A status change
goes through `tickets.services.moves` whichever door it came through; bulk actions are in
`tickets.services.bulk`, the conversation, watchers and attachments in
`tickets.services.conversation`.

Every function: keyword-only arguments, an explicit actor, one transaction that locks what it
changes, validates, writes the ticket row with `update_fields`, and writes its audit and board
event rows; side effects run on commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.postgres.search import SearchVector
from django.db import IntegrityError, connection, transaction
from django.db.models import Value
from django.db.models.expressions import CombinedExpression
from django.utils import timezone

from config.api import DomainError, Forbidden, InvalidInput, NotFound
from notifications.services import record_board_event
from sla import services as sla_services
from tickets import sql
from tickets.audit import record_audit
from tickets.models import Priority, Project, Role, Status, Ticket, User, Watcher
from tickets.permissions import has_role, is_staff_role, require_role, role_in
from tickets.selectors import get_visible_ticket, memberships
from tickets.services.events import notify, ticket_event_data
from tickets.services.moves import MOVE_ATTEMPTS, move_ticket
from tickets.services.ranks import bottom_of, hold_rank_space, rank_for_gap
from tickets.services.workflow import ColumnLayout


def refresh_search_vector(ticket_id: int) -> None:
    """Recompute the weighted full-text vector: title (A), description (B), public messages (C)."""
    with connection.cursor() as cursor:
        cursor.execute(sql.REFRESH_SEARCH_VECTOR, [ticket_id])


def touch_and_refresh_search_vector(
    ticket_id: int, *, now: Any, first_response_at: Any | None
) -> None:
    """`refresh_search_vector` after a new public message, also setting `updated_at` and (when
    still empty) `first_response_at`: the reply's one write of the ticket row."""
    params = {"id": ticket_id, "now": now, "first_response_at": first_response_at}
    with connection.cursor() as cursor:
        cursor.execute(sql.TOUCH_AND_REFRESH_SEARCH_VECTOR, params)


def _new_search_vector(title: str, description: str) -> CombinedExpression:
    """The full-text vector of a ticket without messages: title (A), description (B)."""
    return SearchVector(Value(title), config="english", weight="A") + SearchVector(
        Value(description), config="english", weight="B"
    )


def _next_number(project_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql.NEXT_NUMBER, [project_id])
        return int(cursor.fetchone()[0])


def _field_error(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, details={"fields": {field: [message]}})


def _member(project: Project, user: User | None, *, minimum: str, field: str) -> User | None:
    if user is None:
        return None
    if not user.is_active or not has_role(user, project, minimum):
        raise InvalidInput(
            f"{field}: {user.username} is not an active {minimum} (or higher) of {project.key}.",
            details={"fields": {field: [f"{user.username} cannot be {field} here."]}},
        )
    return user


def _ensure_watching(ticket: Ticket, users: Iterable[User | None]) -> None:
    Watcher.objects.bulk_create(
        [Watcher(ticket=ticket, user=u) for u in {u for u in users if u is not None}],
        ignore_conflicts=True,
    )


# --- create / update ----------------------------------------------------------------------------


def create_ticket(
    *,
    actor: Any,
    project: Project,
    title: str,
    description: str = "",
    priority: str | None = None,
    category: str | None = None,
    tags: Sequence[str] = (),
    assignee: User | None = None,
    requester: User | None = None,
    linked_type: str = "",
    linked_id: str = "",
    is_sensitive: bool = False,
    metadata: dict[str, Any] | None = None,
) -> Ticket:
    """Open a ticket in the project's default status, at the bottom of its column."""
    role = role_in(actor, project)
    if role is None:
        raise NotFound(f"No project {project.key!r} that you can see.")
    if role == Role.CUSTOMER:
        if assignee is not None or (requester is not None and requester.pk != actor.pk):
            raise Forbidden("Customers cannot choose the assignee or raise tickets for others.")
        requester = actor
    if priority is not None and priority not in Priority.values:
        raise _field_error("priority", f"priority must be one of {', '.join(Priority.values)}.")
    if category is not None and category not in project.categories:
        raise _field_error("category", f"category must be one of {', '.join(project.categories)}.")
    if requester is None or requester.pk == actor.pk:
        requester = actor  # a member (role above), active: no second read of the same row
    else:
        requester = _member(project, requester, minimum=Role.CUSTOMER, field="requester")
    assignee = _member(project, assignee, minimum=Role.AGENT, field="assignee")
    status = _default_status()
    now = timezone.now()
    for attempt in range(MOVE_ATTEMPTS):
        try:
            with transaction.atomic():
                hold_rank_space(project.pk)
                number = _next_number(project.pk)
                _, status_ids = ColumnLayout.of(project).column_statuses(status)
                lo, hi = bottom_of(project, status_ids, exclude_id=None)
                ticket = Ticket.objects.create(
                    project=project,
                    number=number,
                    title=title,
                    description=description,
                    status=status,
                    rank=rank_for_gap(lo, hi, bucket=project.rank_bucket),
                    priority=priority or Priority.MEDIUM,
                    category=category or _default_category(project),
                    tags=list(dict.fromkeys(tags)),
                    assignee=assignee,
                    requester=requester,
                    created_by=actor,
                    linked_type=linked_type,
                    linked_id=linked_id,
                    is_sensitive=is_sensitive,
                    metadata=metadata or {},
                    # In the INSERT: a new ticket has no messages yet, so this is what
                    # `refresh_search_vector` would write in a second statement.
                    search_vector=_new_search_vector(title, description),
                )
                ticket.project = project
                _ensure_watching(ticket, [requester, assignee])
                record_audit(
                    actor=actor,
                    action="ticket.created",
                    project_id=project.pk,
                    ticket_id=ticket.pk,
                    new=_snapshot(ticket),
                )
                sla_services.start_ticket_sla(ticket=ticket, now=now)
                record_board_event(
                    actor=actor,
                    project_id=project.pk,
                    type="ticket.created",
                    data=ticket_event_data(ticket),
                    ticket_id=ticket.pk,
                )
                notify("ticket.created", ticket, actor)
                _after_create(
                    ticket,
                    explicit_category=category is not None,
                    explicit_priority=priority is not None,
                )
            break
        except IntegrityError as exc:
            # A concurrent move or create took the same gap at the bottom of the column: the
            # unique (project, rank) constraint refused ours, so read the gap again.
            if "ticket_rank_unique" not in str(exc) or attempt == MOVE_ATTEMPTS - 1:
                raise
    return ticket


def _after_create(ticket: Ticket, *, explicit_category: bool, explicit_priority: bool) -> None:
    from tickets.tasks import classify_ticket_task

    classify_ticket_task.delay_on_commit(
        ticket.pk, apply_category=not explicit_category, apply_priority=not explicit_priority
    )


def _default_status() -> Status:
    from tickets.services.projects import default_status

    return default_status()


def _default_category(project: Project) -> str:
    return "general" if "general" in project.categories else project.categories[0]


def _snapshot(ticket: Ticket, fields: Iterable[str] | None = None) -> dict[str, Any]:
    names = fields or (
        "title",
        "description",
        "priority",
        "category",
        "tags",
        "linked_type",
        "linked_id",
        "is_sensitive",
        "resolution_summary",
        "metadata",
    )
    out: dict[str, Any] = {
        name: getattr(ticket, name) for name in names if name not in ("status", "assignee")
    }
    if fields is None or "status" in names:
        out["status"] = ticket.status.key
    if fields is None or "assignee" in names:
        out["assignee"] = (
            ticket.assignee.username if ticket.assignee_id and ticket.assignee else None
        )
    return out


CUSTOMER_EDITABLE = {"title", "description"}
STAFF_EDITABLE = {
    "title",
    "description",
    "priority",
    "category",
    "tags",
    "linked_type",
    "linked_id",
    "is_sensitive",
    "resolution_summary",
    "metadata",
    "status",
    "assignee",
}


def update_ticket(
    *,
    actor: Any,
    ticket_id: int,
    changes: dict[str, Any],
    client_mutation_id: str | None = None,
) -> Ticket:
    """Change a ticket's fields. A status change is a move (`move_ticket`: same checks, audit
    and event as a drag, keeping the ticket's place when its column does not change); an
    assignee change goes through the assignment rules. All in one transaction."""
    unknown = set(changes) - STAFF_EDITABLE
    if unknown:
        raise InvalidInput(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    roles = {} if actor.is_superuser else memberships(actor)
    ticket = get_visible_ticket(actor, ticket_id, roles=roles)
    role = Role.ADMIN if actor.is_superuser else roles.get(ticket.project_id)
    if not is_staff_role(role) and set(changes) - CUSTOMER_EDITABLE:
        raise Forbidden("Customers can only edit the title and description of their tickets.")
    if ticket.is_archived:
        raise DomainError("Archived tickets cannot be edited.")
    rest = {k: v for k, v in changes.items() if k != "status"}
    moving = "status" in changes and changes["status"] != ticket.status.key

    def move() -> Ticket:
        return move_ticket(
            actor=actor,
            ticket_id=ticket.pk,
            status_key=changes["status"],
            client_mutation_id=client_mutation_id,
            keep_place_in_column=True,
        )

    if not rest:  # a status change only: the move is the whole transaction (no savepoint)
        return move() if moving else ticket
    with transaction.atomic():
        if moving:
            move()
        return _update_fields(actor=actor, ticket_id=ticket.pk, changes=rest)


def _update_fields(*, actor: Any, ticket_id: int, changes: dict[str, Any]) -> Ticket:
    now = timezone.now()
    ticket = get_visible_ticket(actor, ticket_id, for_update=True)
    if not changes:
        return ticket
    project = ticket.project
    if "priority" in changes and changes["priority"] not in Priority.values:
        raise _field_error("priority", f"priority must be one of {', '.join(Priority.values)}.")
    if "category" in changes and changes["category"] not in project.categories:
        raise _field_error("category", f"category must be one of {', '.join(project.categories)}.")
    if ticket.classification and {"category", "priority"} & set(changes):
        from tickets.classification.service import record_classification_feedback

        record_classification_feedback(ticket=ticket, changes=changes, actor=actor)
    fields: list[str] = []
    old = _snapshot(ticket, changes)
    if "assignee" in changes:
        require_role(actor, project, Role.AGENT, "assign tickets")
        assignee = _member(project, changes["assignee"], minimum=Role.AGENT, field="assignee")
        if (assignee.pk if assignee else None) != ticket.assignee_id:
            ticket.assignee = assignee
            fields.append("assignee")
            _ensure_watching(ticket, [assignee])
    for name, value in changes.items():
        if name == "assignee":
            continue
        if name == "tags":
            value = list(dict.fromkeys(value))
        if getattr(ticket, name) != value:
            setattr(ticket, name, value)
            fields.append(name)
    if not fields:
        return ticket
    ticket.save(update_fields=[*dict.fromkeys(fields), "updated_at"])
    if {"title", "description"} & set(fields):
        refresh_search_vector(ticket.pk)
    record_audit(
        actor=actor,
        action="ticket.updated",
        project_id=project.pk,
        ticket_id=ticket.pk,
        old={k: v for k, v in old.items() if k in fields},
        new={k: v for k, v in _snapshot(ticket, changes).items() if k in fields},
    )
    if "priority" in fields:
        sla_services.retarget_ticket_sla(ticket=ticket, now=now)
    record_board_event(
        project_id=project.pk,
        type="ticket.updated",
        data=ticket_event_data(ticket),
        ticket_id=ticket.pk,
        actor=actor,
    )
    notify("ticket.updated", ticket, actor, changed=sorted(fields))
    if "assignee" in fields:
        notify("ticket.assigned", ticket, actor, reason="")
    return ticket


# --- archive, assign, escalate ------------------------------------------------------------------


def archive_ticket(*, actor: Any, ticket_id: int) -> Ticket:
    """Archive a ticket: it leaves the board and the default lists (agents and up)."""
    with transaction.atomic():
        ticket = get_visible_ticket(actor, ticket_id, for_update=True)
        require_role(actor, ticket.project, Role.AGENT, "archive tickets")
        if ticket.is_archived:
            return ticket
        ticket.is_archived = True
        ticket.save(update_fields=["is_archived", "updated_at"])
        record_audit(
            actor=actor,
            action="ticket.archived",
            project_id=ticket.project_id,
            ticket_id=ticket.pk,
            old={"is_archived": False},
            new={"is_archived": True},
        )
        sla_services.ticket_archived(ticket=ticket, now=timezone.now())
        record_board_event(
            actor=actor,
            project_id=ticket.project_id,
            type="ticket.archived",
            data={"id": ticket.pk, "key": ticket.key},
            ticket_id=ticket.pk,
        )
        notify("ticket.archived", ticket, actor)
    return ticket


def assign_ticket(*, actor: Any, ticket_id: int, assignee: User | None, reason: str = "") -> Ticket:
    """Assign (or unassign, with None) a ticket; leads and up, or agents taking it themselves."""
    with transaction.atomic():
        ticket = get_visible_ticket(actor, ticket_id, for_update=True)
        project = ticket.project
        self_assign = assignee is not None and assignee.pk == actor.pk
        require_role(actor, project, Role.AGENT if self_assign else Role.LEAD, "assign tickets")
        assignee = _member(project, assignee, minimum=Role.AGENT, field="assignee")
        old = ticket.assignee.username if ticket.assignee_id and ticket.assignee else None
        ticket.assignee = assignee
        ticket.save(update_fields=["assignee", "updated_at"])
        _ensure_watching(ticket, [assignee])
        record_audit(
            actor=actor,
            action="ticket.assigned",
            project_id=project.pk,
            ticket_id=ticket.pk,
            old={"assignee": old},
            new={"assignee": assignee.username if assignee else None, "reason": reason},
        )
        record_board_event(
            actor=actor,
            project_id=project.pk,
            type="ticket.updated",
            data=ticket_event_data(ticket),
            ticket_id=ticket.pk,
        )
        notify("ticket.assigned", ticket, actor, reason=reason)
    return ticket


def escalate_ticket(*, actor: Any, ticket_id: int, reason: str) -> Ticket:
    """Manual escalation: raise the ticket one level of its SLA escalation chain (leads and up)."""
    with transaction.atomic():
        ticket = get_visible_ticket(actor, ticket_id, for_update=True)
        require_role(actor, ticket.project, Role.LEAD, "escalate tickets")
        sla_services.escalate_manually(
            ticket=ticket, actor=actor, reason=reason, now=timezone.now()
        )
    ticket.refresh_from_db()
    return ticket


def acknowledge_ticket(*, actor: Any, ticket_id: int) -> Ticket:
    """Stop the ticket's escalation chain at its current level (agents and up)."""
    with transaction.atomic():
        ticket = get_visible_ticket(actor, ticket_id, for_update=True)
        require_role(actor, ticket.project, Role.AGENT, "acknowledge escalations")
        sla_services.acknowledge(ticket=ticket, actor=actor, now=timezone.now())
    ticket.refresh_from_db()
    return ticket
