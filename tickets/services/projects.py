"""Writes for projects, members, global statuses and board columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max

from config.api import DomainError, InvalidInput, NotFound
from notifications.services import record_board_event
from tickets import sql
from tickets.audit import record_audit
from tickets.models import BoardColumn, ColumnStatus, Membership, Project, Role, Status, Ticket
from tickets.services.ranks import hold_rank_space

DEFAULT_COLUMNS: list[tuple[str, list[str]]] = [
    ("To Do", ["new", "open", "todo"]),
    ("In Progress", ["in_progress", "blocked"]),
    ("Waiting", ["awaiting_customer", "awaiting_third_party"]),
    ("Review", ["in_review"]),
    ("Done", ["resolved", "done", "closed"]),
]


def create_project(
    *,
    actor: Any,
    key: str,
    name: str,
    description: str = "",
    categories: Sequence[str] | None = None,
) -> Project:
    """Create a project with its default board columns; the creator becomes its admin."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                project = Project.objects.create(
                    key=key,
                    name=name,
                    description=description,
                    **({"categories": list(categories)} if categories else {}),
                )
        except IntegrityError:
            raise DomainError(f"A project with key {key!r} already exists.") from None
        statuses = {
            s.key: s
            for s in Status.objects.filter(key__in=[k for _, ks in DEFAULT_COLUMNS for k in ks])
        }
        for order, (column_name, keys) in enumerate(DEFAULT_COLUMNS):
            column = BoardColumn.objects.create(project=project, name=column_name, order=order)
            ColumnStatus.objects.bulk_create(
                ColumnStatus(project=project, column=column, status=statuses[k])
                for k in keys
                if k in statuses
            )
        from sla.services import create_default_policies

        create_default_policies(project=project)
        if actor is not None and actor.is_authenticated and not actor.is_superuser:
            Membership.objects.create(user=actor, project=project, role=Role.ADMIN)
        record_audit(
            actor=actor,
            action="project.created",
            project_id=project.pk,
            new={"key": key, "name": name, "description": description},
        )
    return project


def update_project(*, actor: Any, project: Project, **changes: Any) -> Project:
    """Change a project's name, description, categories, workflow or classification threshold."""
    allowed = {"name", "description", "categories", "workflow", "classification_threshold"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    if "workflow" in changes:
        validate_workflow(changes["workflow"])
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        old = {f: getattr(locked, f) for f in changes}
        for field, value in changes.items():
            setattr(locked, field, value)
        locked.save(update_fields=[*changes, "updated_at"])
        record_audit(
            actor=actor, action="project.updated", project_id=locked.pk, old=old, new=changes
        )
    return locked


def validate_workflow(workflow: Any) -> None:
    """A workflow maps status keys to lists of status keys, all of which must exist."""
    if not isinstance(workflow, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v)
        for k, v in workflow.items()
    ):
        raise InvalidInput("workflow must map status keys to lists of status keys.")
    keys = set(workflow) | {x for v in workflow.values() for x in v}
    known = set(Status.objects.filter(key__in=keys).values_list("key", flat=True))
    if keys - known:
        raise InvalidInput(f"Unknown status keys in workflow: {', '.join(sorted(keys - known))}.")


def add_member(*, actor: Any, project: Project, user: Any, role: str) -> Membership:
    """Add a user to a project with a role (409 if already a member)."""
    if role not in Role.values:
        raise InvalidInput(f"role must be one of {', '.join(Role.values)}.")
    with transaction.atomic():
        try:
            with transaction.atomic():
                membership = Membership.objects.create(user=user, project=project, role=role)
        except IntegrityError:
            message = f"{user.username} is already a member of {project.key}."
            raise DomainError(message, details={"fields": {"username": [message]}}) from None
        record_audit(
            actor=actor,
            action="member.added",
            project_id=project.pk,
            new={"username": user.username, "role": role},
        )
    return membership


def _keep_an_admin(membership: Membership) -> None:
    """Refuse (409) taking the admin role from a project's last admin.

    The project's admin rows are locked first: two admins demoting each other at once are
    serialised, and the second sees one admin left."""
    admins = list(
        Membership.objects.select_for_update()
        .filter(project_id=membership.project_id, role=Role.ADMIN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if admins == [membership.pk]:
        key = Project.objects.values_list("key", flat=True).get(pk=membership.project_id)
        raise DomainError(f"{key} needs at least one admin: make someone else an admin first.")


def change_member_role(*, actor: Any, membership: Membership, role: str) -> Membership:
    """Change a member's role (never the last admin's)."""
    if role not in Role.values:
        raise InvalidInput(f"role must be one of {', '.join(Role.values)}.")
    with transaction.atomic():
        if membership.role == Role.ADMIN and role != Role.ADMIN:
            _keep_an_admin(membership)
        old = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        record_audit(
            actor=actor,
            action="member.role_changed",
            project_id=membership.project_id,
            old={"username": membership.user.username, "role": old},
            new={"username": membership.user.username, "role": role},
        )
    return membership


def remove_member(*, actor: Any, membership: Membership) -> None:
    """Remove a member (never the last admin); their open sockets on the project are closed
    after commit."""
    from notifications.realtime import push_to_group, user_group

    user_id, project_id = membership.user_id, membership.project_id
    with transaction.atomic():
        if membership.role == Role.ADMIN:
            _keep_an_admin(membership)
        record_audit(
            actor=actor,
            action="member.removed",
            project_id=project_id,
            old={"username": membership.user.username, "role": membership.role},
        )
        membership.delete()
        transaction.on_commit(
            lambda: push_to_group(
                user_group(user_id), {"type": "access.revoked", "project_id": project_id}
            )
        )


# --- statuses -----------------------------------------------------------------------------------

STATUS_FIELDS = (
    "name",
    "description",
    "category",
    "color",
    "icon",
    "order",
    "is_default",
    "pauses_sla",
)


def create_status(*, actor: Any, key: str, **fields: Any) -> Status:
    """Create a global status (site admins)."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                status = Status(key=key, **fields)
                status.full_clean(validate_unique=False)  # duplicates are a 409 from the constraint
                status.save()
        except IntegrityError:
            raise DomainError(f"A status with key {key!r} already exists.") from None
        if status.is_default:
            Status.objects.exclude(pk=status.pk).update(is_default=False)
        record_audit(
            actor=actor, action="status.created", project_id=None, new={"key": key, **fields}
        )
    return status


def update_status(*, actor: Any, status: Status, **changes: Any) -> Status:
    """Change a global status."""
    with transaction.atomic():
        old = {f: getattr(status, f) for f in changes}
        for field, value in changes.items():
            setattr(status, field, value)
        status.full_clean(validate_unique=False)  # duplicates are a 409 from the constraint
        status.save(update_fields=list(changes))
        if changes.get("is_default"):
            Status.objects.exclude(pk=status.pk).update(is_default=False)
        record_audit(actor=actor, action="status.updated", project_id=None, old=old, new=changes)
    return status


def delete_status(*, actor: Any, status: Status) -> None:
    """Delete a status nobody uses (409 for the default status or one that tickets use)."""
    if status.is_default:
        raise DomainError("The default status cannot be deleted.")
    with transaction.atomic():
        if Ticket.objects.filter(status=status).exists():
            raise DomainError(f"Tickets use the status {status.key!r}; move them first.")
        ColumnStatus.objects.filter(status=status).delete()
        record_audit(actor=actor, action="status.deleted", project_id=None, old={"key": status.key})
        status.delete()


def default_status() -> Status:
    """The status new tickets start in."""
    status = (
        Status.objects.filter(is_default=True).first() or Status.objects.filter(key="new").first()
    )
    if status is None:
        raise NotFound("No default status is configured.")
    return status


# --- board columns ------------------------------------------------------------------------------


def _set_column_statuses(column: BoardColumn, status_keys: Sequence[str]) -> None:
    statuses = list(Status.objects.filter(key__in=status_keys))
    missing = set(status_keys) - {s.key for s in statuses}
    if missing:
        raise InvalidInput(f"Unknown status keys: {', '.join(sorted(missing))}.")
    taken = (
        ColumnStatus.objects.filter(project=column.project, status__in=statuses)
        .exclude(column=column)
        .select_related("status", "column")
    )
    clash = [f"{link.status.key} (in {link.column.name})" for link in taken]
    if clash:
        message = "A status maps to at most one column of a project: " + ", ".join(clash) + "."
        raise InvalidInput(
            message, details={"status_keys": clash, "fields": {"status_keys": [message]}}
        )
    ColumnStatus.objects.filter(column=column).exclude(status__in=statuses).delete()
    existing = set(ColumnStatus.objects.filter(column=column).values_list("status_id", flat=True))
    ColumnStatus.objects.bulk_create(
        ColumnStatus(project=column.project, column=column, status=s)
        for s in statuses
        if s.pk not in existing
    )


def _held_tickets(column: BoardColumn, statuses: Any) -> dict[str, int]:
    """Unarchived tickets per status key among `statuses` of the column's project (none: {})."""
    return dict(
        Ticket.objects.filter(project_id=column.project_id, is_archived=False, status__in=statuses)
        .values("status__key")
        .annotate(n=Count("pk"))
        .order_by("status__key")
        .values_list("status__key", "n")
    )


def _refuse_dropping_held_statuses(column: BoardColumn, status_keys: Sequence[str]) -> None:
    held = _held_tickets(column, column.statuses.exclude(key__in=status_keys))
    if not held:
        return
    first = Status.objects.get(key=next(iter(held)))
    count = held[first.key]
    tickets = "1 ticket; move it" if count == 1 else f"{count} tickets; move them"
    raise DomainError(
        f"{first.name} still holds {tickets} to another column before taking {first.name} off "
        f"{column.name}.",
        details={"ticket_count": sum(held.values()), "statuses": held},
    )


def _column_snapshot(column: BoardColumn) -> dict[str, Any]:
    return {
        "id": column.pk,
        "name": column.name,
        "order": column.order,
        "status_keys": sorted(column.statuses.values_list("key", flat=True)),
        "min_limit": column.min_limit,
        "max_limit": column.max_limit,
        "enforce_wip": column.enforce_wip,
        "is_collapsed": column.is_collapsed,
    }


def _check_limits(min_limit: int | None, max_limit: int | None) -> None:
    if min_limit is not None and max_limit is not None and min_limit > max_limit:
        message = "The WIP minimum cannot exceed the maximum."
        raise InvalidInput(message, details={"fields": {"min_limit": [message]}})


def create_column(
    *, actor: Any, project: Project, name: str, status_keys: Sequence[str] = (), **fields: Any
) -> BoardColumn:
    """Add a board column mapping some statuses (each status in at most one column)."""
    _check_limits(fields.get("min_limit"), fields.get("max_limit"))
    with transaction.atomic():
        Project.objects.select_for_update().get(pk=project.pk)  # serialise column edits
        if "order" not in fields or fields["order"] is None:
            top = BoardColumn.objects.filter(project=project).aggregate(m=Max("order"))["m"]
            fields["order"] = 0 if top is None else top + 1
        column = BoardColumn.objects.create(project=project, name=name, **fields)
        _set_column_statuses(column, status_keys)
        record_audit(
            actor=actor,
            action="column.created",
            project_id=project.pk,
            new=_column_snapshot(column),
        )
        record_board_event(
            actor=actor, project_id=project.pk, type="column.created", data=_column_snapshot(column)
        )
    return column


def update_column(
    *, actor: Any, column: BoardColumn, status_keys: Sequence[str] | None = None, **changes: Any
) -> BoardColumn:
    """Change a column's name, limits, flags or statuses. Taking a status that still holds
    tickets (archived ones aside) off its column is refused (409): they would silently leave the
    board."""
    with transaction.atomic():
        if status_keys is not None:
            # As delete_column: no ticket enters a status between the count and the change.
            hold_rank_space(column.project_id, exclusive=True)
        Project.objects.select_for_update().get(pk=column.project_id)
        column = BoardColumn.objects.get(pk=column.pk)
        if status_keys is not None:
            _refuse_dropping_held_statuses(column, status_keys)
        old = _column_snapshot(column)
        for field, value in changes.items():
            setattr(column, field, value)
        _check_limits(column.min_limit, column.max_limit)
        if changes:
            column.save(update_fields=list(changes))
        if status_keys is not None:
            _set_column_statuses(column, status_keys)
        new = _column_snapshot(column)
        record_audit(
            actor=actor, action="column.updated", project_id=column.project_id, old=old, new=new
        )
        record_board_event(
            actor=actor, project_id=column.project_id, type="column.updated", data=new
        )
    return column


def delete_column(*, actor: Any, column: BoardColumn) -> None:
    """Delete an empty column; its statuses become unmapped. A column still holding tickets
    (archived ones aside) is refused (409): they would silently leave the board."""
    with transaction.atomic():
        # Every move and create holds the rank space shared: exclusive here, no ticket can enter
        # the column between the count and the delete.
        hold_rank_space(column.project_id, exclusive=True)
        Project.objects.select_for_update().get(pk=column.project_id)
        held = sum(_held_tickets(column, column.statuses.all()).values())
        if held:
            noun = "ticket" if held == 1 else "tickets"
            raise DomainError(
                f"{column.name} still holds {held} {noun}; move them to another column "
                "before deleting it.",
                details={"ticket_count": held},
            )
        snapshot = _column_snapshot(column)
        record_audit(
            actor=actor, action="column.deleted", project_id=column.project_id, old=snapshot
        )
        record_board_event(
            actor=actor, project_id=column.project_id, type="column.deleted", data={"id": column.pk}
        )
        column.delete()


def reorder_columns(*, actor: Any, project: Project, order: Sequence[int]) -> list[BoardColumn]:
    """Set the columns' order from a full list of their ids."""
    with transaction.atomic():
        Project.objects.select_for_update().get(pk=project.pk)
        columns = {c.pk: c for c in BoardColumn.objects.filter(project=project)}
        if sorted(order) != sorted(columns) or len(set(order)) != len(order):
            raise InvalidInput(
                "order must list every column id of the project exactly once.",
                details={"expected": sorted(columns)},
            )
        old = [c.pk for c in sorted(columns.values(), key=lambda c: (c.order, c.pk))]
        for position, column_id in enumerate(order):
            columns[column_id].order = position
        BoardColumn.objects.bulk_update(columns.values(), ["order"])
        record_audit(
            actor=actor,
            action="columns.reordered",
            project_id=project.pk,
            old={"order": old},
            new={"order": list(order)},
        )
        record_board_event(
            actor=actor, project_id=project.pk, type="column.reordered", data={"order": list(order)}
        )
    return sorted(columns.values(), key=lambda c: c.order)


def compact_ticket_counts() -> int:
    """Fold the board-count deltas into one row per (project, status); returns the rows left.

    Safe beside writers and a second compaction: the DELETE takes only rows its snapshot sees
    (deltas appended meanwhile stay), and the sums it re-inserts are those rows' own.
    """
    with connection.cursor() as cursor:
        cursor.execute(sql.COMPACT_COUNTS)
        return int(cursor.rowcount)
