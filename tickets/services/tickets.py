"""Writes for tickets: create, update, archive, assign, escalate, bulk; and the pieces the other
ticket services share (status rules, the column layout, WIP, events). Moves are in
`tickets.services.moves`, the conversation, watchers and attachments in
`tickets.services.conversation`.

Every function: keyword-only arguments, an explicit actor, one transaction that locks what it
changes, validates, writes the ticket row with `update_fields`, and writes its audit and board
event rows; side effects run on commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Field
from django.utils import timezone

from config.api import DomainError, Forbidden, InvalidInput, NotFound
from config.rawsql import Later, ModelColumns, fetch_one, later
from notifications.services import record_board_event
from sla import services as sla_services
from tickets.audit import record_audit
from tickets.models import (
    Priority,
    Project,
    Role,
    Status,
    StatusCategory,
    Ticket,
    User,
    Watcher,
)
from tickets.permissions import has_role, is_staff_role, require_role, role_in
from tickets.selectors import (
    get_visible_ticket,
    status_counts,
)
from tickets.services.ranks import (
    bottom_of,
    hold_rank_space,
    rank_for_gap,
)


class InvalidTransition(DomainError):
    code = "invalid_transition"
    default_message = "The workflow does not allow this status change."


class StalePosition(DomainError):
    code = "stale_position"
    default_message = "The neighbours you gave are no longer next to each other; reload and retry."


class WipLimitExceeded(DomainError):
    code = "wip_limit_exceeded"
    default_message = "The target column is at its WIP limit."


# --- shared pieces ------------------------------------------------------------------------------


def ticket_event_data(ticket: Ticket) -> dict[str, Any]:
    """The small, safe board-event payload of a ticket (no description, no conversation)."""
    return {
        "id": ticket.pk,
        "key": f"{ticket.project.key}-{ticket.number}",
        "title": ticket.title,
        "status": ticket.status.key,
        "status_category": ticket.status.category,
        "rank": ticket.rank,
        "priority": ticket.priority,
        "category": ticket.category,
        "assignee": ticket.assignee.username if ticket.assignee_id and ticket.assignee else None,
        "is_archived": ticket.is_archived,
        "escalation_level": ticket.escalation_level,
        "updated_at": ticket.updated_at.isoformat().replace("+00:00", "Z")
        if ticket.updated_at
        else None,
    }


def check_transition(project: Project, old: Status, new: Status) -> None:
    """Raise InvalidTransition unless the project's workflow allows old -> new."""
    if old.pk == new.pk:
        return
    allowed = (project.workflow or {}).get(old.key)
    if allowed is not None and new.key not in allowed:
        raise InvalidTransition(
            f"{old.name} can only move to: {', '.join(allowed) or 'nothing'}.",
            details={"from": old.key, "to": new.key, "allowed": allowed},
        )


def apply_status(ticket: Ticket, new: Status, *, now: Any) -> list[str]:
    """Set the status and the lifecycle times it implies; returns the fields changed."""
    old = ticket.status
    if old.pk == new.pk:
        return []
    ticket.status = new
    fields = ["status"]
    entering_done = new.category == StatusCategory.DONE and old.category != StatusCategory.DONE
    leaving_done = old.category == StatusCategory.DONE and new.category != StatusCategory.DONE
    if entering_done:
        ticket.resolved_at = now
        fields.append("resolved_at")
    if new.key == "closed":
        ticket.closed_at = now
        fields.append("closed_at")
    if leaving_done:
        ticket.reopened_count += 1
        ticket.resolved_at = None
        ticket.closed_at = None
        fields += ["reopened_count", "resolved_at", "closed_at"]
    return list(dict.fromkeys(fields))


@dataclass(frozen=True)
class WipLimit:
    name: str
    max_limit: int


@dataclass(frozen=True)
class ColumnLayout:
    """Which column shows which status in a project, and the enforced WIP limits (one query)."""

    column_of: dict[int, int]
    statuses_of: dict[int, list[int]]
    enforced: dict[int, WipLimit]

    # (status, column, column name, enforce_wip, max_limit) for every mapped status.
    SQL = """
        SELECT coalesce(json_agg(json_build_array(
                   cs.status_id, cs.column_id, c.name, c.enforce_wip, c.max_limit)), '[]')
        FROM tickets_columnstatus cs JOIN tickets_boardcolumn c ON c.id = cs.column_id
        WHERE cs.project_id = {project}
    """

    @classmethod
    def of(cls, project: Project | int) -> ColumnLayout:
        project_id = project if isinstance(project, int) else project.pk
        row = fetch_one(cls.SQL.format(project="%s"), [project_id])
        return cls.from_rows(row[0] if row else [])

    @classmethod
    def from_rows(cls, rows: list[list[Any]]) -> ColumnLayout:
        """From the SQL's rows (psycopg parses `json`, unlike `jsonb`, into lists)."""
        column_of: dict[int, int] = {}
        statuses_of: dict[int, list[int]] = {}
        enforced: dict[int, WipLimit] = {}
        for status_id, column_id, name, enforce_wip, max_limit in rows:
            column_of[status_id] = column_id
            statuses_of.setdefault(column_id, []).append(status_id)
            if enforce_wip and max_limit is not None:
                enforced[column_id] = WipLimit(name, max_limit)
        return cls(column_of, statuses_of, enforced)

    def column_statuses(self, status: Status) -> tuple[int | None, list[int]]:
        """The column id showing a status (None if unmapped) and the statuses that column shows."""
        column_id = self.column_of.get(status.pk)
        return column_id, self.statuses_of[column_id] if column_id is not None else [status.pk]


def refresh_search_vector(ticket_id: int) -> None:
    """Recompute the weighted full-text vector: title (A), description (B), public messages (C)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE tickets_ticket AS t SET search_vector =
                setweight(to_tsvector('english', coalesce(t.title, '')), 'A')
                || setweight(to_tsvector('english', coalesce(t.description, '')), 'B')
                || setweight(to_tsvector('english', coalesce((
                    SELECT string_agg(m.body, ' ') FROM tickets_message m
                    WHERE m.ticket_id = t.id AND NOT m.internal), '')), 'C')
            WHERE t.id = %s
            """,
            [ticket_id],
        )


def _next_number(project_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tickets_project SET ticket_counter = ticket_counter + 1 WHERE id = %s "
            "RETURNING ticket_counter",
            [project_id],
        )
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


def notify(kind: str, ticket: Ticket, actor: Any, **extra: Any) -> None:
    """Hand a ticket event to the notification pipeline (in-app, e-mail, webhooks)."""
    from notifications.dispatch import notify_ticket_event

    notify_ticket_event(kind=kind, ticket=ticket, actor=actor, **extra)


# How often a write that chose a rank retries after a concurrent writer took the same one.
MOVE_ATTEMPTS = 5

_STATUS = ModelColumns(Status, "s")
_STATUS_BY_KEY_SQL = f"SELECT {_STATUS.select()} FROM tickets_status s WHERE s.key = %s"  # noqa: S608


def queue_status_read(key: Any) -> Later | None:
    """The read of the status of that key, queued (config.rawsql.later); None if no string."""
    return later(_STATUS_BY_KEY_SQL, [key]) if isinstance(key, str) else None


def status_by_key(key: Any, found: Later | None = None) -> Status:
    """The status of that key (400 if none); `found`: its read, already on its way."""
    if found is None:
        found = queue_status_read(key)
    row = found.one() if found is not None else None
    status = _STATUS.build(row) if row is not None else None
    if status is None:
        raise InvalidInput(
            f"Unknown status {key!r}.", details={"fields": {"status": ["Unknown status."]}}
        )
    return status


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
    requester = _member(project, requester or actor, minimum=Role.CUSTOMER, field="requester")
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
                )
                ticket.project = project
                refresh_search_vector(ticket.pk)
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


def update_ticket(*, actor: Any, ticket_id: int, changes: dict[str, Any]) -> Ticket:
    """Change a ticket's fields; a status change goes through the workflow, an assignee through assign."""
    for attempt in range(MOVE_ATTEMPTS):
        try:
            return _update_ticket_once(actor=actor, ticket_id=ticket_id, changes=changes)
        except IntegrityError as exc:
            # A status change re-ranks the ticket at the bottom of its new column; a concurrent
            # writer may take that gap first. Read it again rather than fail.
            if "ticket_rank_unique" not in str(exc) or attempt == MOVE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _update_ticket_once(*, actor: Any, ticket_id: int, changes: dict[str, Any]) -> Ticket:
    unknown = set(changes) - STAFF_EDITABLE
    if unknown:
        raise InvalidInput(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    now = timezone.now()
    with transaction.atomic():
        if "status" in changes:
            # The rank space before the row lock, as every rank writer does (no lock cycles).
            hold_rank_space(get_visible_ticket(actor, ticket_id).project_id)
        ticket = get_visible_ticket(actor, ticket_id, for_update=True)
        project = ticket.project
        role = role_in(actor, project)
        if not is_staff_role(role) and set(changes) - CUSTOMER_EDITABLE:
            raise Forbidden("Customers can only edit the title and description of their tickets.")
        if ticket.is_archived:
            raise DomainError("Archived tickets cannot be edited.")
        if "priority" in changes and changes["priority"] not in Priority.values:
            raise _field_error("priority", f"priority must be one of {', '.join(Priority.values)}.")
        if "category" in changes and changes["category"] not in project.categories:
            raise _field_error(
                "category", f"category must be one of {', '.join(project.categories)}."
            )
        if ticket.classification and {"category", "priority"} & set(changes):
            from tickets.classification.service import record_classification_feedback

            record_classification_feedback(ticket=ticket, changes=changes, actor=actor)
        fields: list[str] = []
        old = _snapshot(ticket, changes)
        if "status" in changes:
            new_status = status_by_key(changes["status"])
            check_transition(project, ticket.status, new_status)
            old_status = ticket.status
            fields += apply_status(ticket, new_status, now=now)
            if fields:
                _place_in_status_column(ticket, new_status, old_status)
                fields.append("rank")
        if "assignee" in changes:
            require_role(actor, project, Role.AGENT, "assign tickets")
            assignee = _member(project, changes["assignee"], minimum=Role.AGENT, field="assignee")
            if (assignee.pk if assignee else None) != ticket.assignee_id:
                ticket.assignee = assignee
                fields.append("assignee")
                _ensure_watching(ticket, [assignee])
        for name, value in changes.items():
            if name in ("status", "assignee"):
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
        if "status" in fields:
            sla_services.status_changed(ticket=ticket, old_status=old_status, now=now)
        record_board_event(
            project_id=project.pk,
            type="ticket.updated",
            data=ticket_event_data(ticket),
            ticket_id=ticket.pk,
        )
        notify("ticket.updated", ticket, actor, changed=sorted(set(fields) - {"rank"}))
        if "assignee" in fields:
            notify("ticket.assigned", ticket, actor, reason="")
        if "status" in fields and ticket.status.category == StatusCategory.DONE:
            notify("ticket.resolved", ticket, actor)
    return ticket


def _place_in_status_column(ticket: Ticket, new: Status, old: Status) -> None:
    """A status change from PATCH/bulk lands at the bottom of the new status's column."""
    layout = ColumnLayout.of(ticket.project)
    old_column, _ = layout.column_statuses(old)
    new_column, status_ids = layout.column_statuses(new)
    check_wip(ticket, layout, old_column, new_column, status_ids)
    if old_column is not None and old_column == new_column:
        return
    lo, hi = bottom_of(ticket.project, status_ids, exclude_id=ticket.pk)
    ticket.rank = rank_for_gap(lo, hi, bucket=ticket.project.rank_bucket)


def check_wip(
    ticket: Ticket,
    layout: ColumnLayout,
    old_column: int | None,
    new_column: int | None,
    status_ids: list[int],
) -> None:
    """Refuse entering a full column whose WIP limit is enforced (staying in a column is fine)."""
    if new_column is None or old_column == new_column or new_column not in layout.enforced:
        return
    limit = layout.enforced[new_column]
    # The ticket is not in the target column yet, so the column's count is everyone else.
    counts = status_counts(ticket.project_id)
    count = sum(counts.get(status_id, 0) for status_id in status_ids)
    if count >= limit.max_limit:
        raise WipLimitExceeded(
            f"{limit.name} already holds {count} of at most {limit.max_limit} tickets.",
            details={"column": new_column, "count": count, "max_limit": limit.max_limit},
        )


def write_columns(ticket: Ticket, fields: list[str]) -> None:
    """UPDATE exactly these fields of the one ticket row (what `save(update_fields=...)` writes,
    without compiling it; no signals are connected to Ticket)."""
    meta = Ticket._meta
    columns = [f for name in dict.fromkeys(fields) if isinstance(f := meta.get_field(name), Field)]
    assignments = ", ".join(f'"{f.column}" = %s' for f in columns)
    values = [f.get_db_prep_save(getattr(ticket, f.attname), connection) for f in columns]
    sql = f"UPDATE tickets_ticket SET {assignments} WHERE id = %s"  # noqa: S608 - model columns
    later(sql, [*values, ticket.pk])


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


# --- bulk ---------------------------------------------------------------------------------------

BULK_ACTIONS = ("assign", "set_status", "set_priority", "archive")
BULK_MAX = 500


def bulk_update(*, actor: Any, ids: Sequence[Any], action: str, value: Any) -> list[dict[str, Any]]:
    """Apply one action to many tickets; each in its own transaction, so one failure sinks only itself."""
    if action not in BULK_ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(BULK_ACTIONS)}.")
    if not isinstance(ids, list) or not ids:
        raise InvalidInput("ids must be a non-empty list of ticket ids.")
    if len(ids) > BULK_MAX:
        raise InvalidInput(f"At most {BULK_MAX} tickets per bulk request.")
    assignee: User | None = None
    if action == "assign" and value is not None:
        assignee = (
            User.objects.filter(username=value, is_active=True).first()
            if isinstance(value, str)
            else None
        )
        if assignee is None:
            raise InvalidInput(f"Unknown user {value!r}.")
    results: list[dict[str, Any]] = []
    for raw in dict.fromkeys(ids):
        try:
            ticket_id = int(raw)
        except (TypeError, ValueError):
            results.append(
                {
                    "id": raw,
                    "ok": False,
                    "error": {"code": "validation_error", "message": "Not a ticket id."},
                }
            )
            continue
        try:
            ticket = get_visible_ticket(actor, ticket_id)
            if not has_role(actor, ticket.project, Role.LEAD):
                raise Forbidden("Bulk actions are for leads, managers and admins.")
            if action == "assign":
                assign_ticket(actor=actor, ticket_id=ticket_id, assignee=assignee, reason="bulk")
            elif action == "set_status":
                update_ticket(actor=actor, ticket_id=ticket_id, changes={"status": value})
            elif action == "set_priority":
                update_ticket(actor=actor, ticket_id=ticket_id, changes={"priority": value})
            else:
                archive_ticket(actor=actor, ticket_id=ticket_id)
            results.append({"id": ticket_id, "ok": True, "error": None})
        except DomainError as exc:
            results.append(
                {"id": ticket_id, "ok": False, "error": {"code": exc.code, "message": exc.message}}
            )
    return results
