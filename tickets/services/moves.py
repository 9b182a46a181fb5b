"""Changing a ticket's status and place on the board: the one service every status change goes
through (a drag on the board, `PATCH /tickets/{id}/`, a bulk `set_status`).

A move reads top to bottom: access -> lock -> validate -> mutate (exactly one ticket row) ->
record (audit row, board event, notification and outbox rows) -> side effects on commit.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone

from config.api import DomainError, Forbidden, InvalidInput, NotFound
from notifications.services import record_board_event
from sla import services as sla_services
from tickets import ranking
from tickets.audit import record_audit
from tickets.models import MAX_ID, ROLE_RANK, Role, StatusCategory, Ticket
from tickets.selectors import full_ticket, ticket_role
from tickets.services.errors import InvalidTransition, StalePosition, WipLimitExceeded
from tickets.services.events import notify, ticket_event_data
from tickets.services.ranks import (
    bottom_of,
    hold_rank_space,
    next_in_column,
    rank_after,
    rank_before,
    rank_for_gap,
)
from tickets.services.workflow import (
    ColumnLayout,
    apply_status,
    check_transition,
    check_wip,
)

# How often a write that chose a rank retries after a concurrent writer took the same one.
MOVE_ATTEMPTS = 5
# Refusals that tell the client where the ticket is now (`details.current`), so it can redraw.
_POSITIONED = (StalePosition, InvalidTransition, WipLimitExceeded)


class Place(NamedTuple):
    """A locked ticket's place: what the neighbour checks read."""

    status_id: int
    rank: str
    is_archived: bool


class _RebalanceFirst(Exception):  # control flow only: never leaves move_ticket
    def __init__(self, project_id: int) -> None:
        super().__init__(project_id)
        self.project_id = project_id


def _id(value: Any, name: str | None = None) -> int:
    """A ticket id; one that names no row is a 404 (the ticket) or a 400 (a neighbour)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if 0 < number <= MAX_ID:
        return number
    if name is None:
        raise NotFound("No such ticket.")
    raise InvalidInput(f"{name} is not a ticket id.", details={"fields": {name: ["Not a ticket."]}})


def move_ticket(
    *,
    actor: Any,
    ticket_id: int,
    status_key: str | None = None,
    before_id: int | None = None,
    after_id: int | None = None,
    client_mutation_id: str | None = None,
    keep_place_in_column: bool = False,
) -> Ticket:
    """Move a ticket to a status and/or between two neighbours of the target column.

    Neither neighbour given: the bottom of the target column, or with `keep_place_in_column`
    (a status change by PATCH or bulk) its current place when the column does not change. Writes
    exactly one ticket row. The unique (project, rank) constraint is the safety net: a concurrent
    move that took the same key makes this one retry with a fresh read. Inside a caller's
    transaction each attempt is a savepoint.
    """
    ticket_id = _id(ticket_id)
    before_id = _id(before_id, "before_id") if before_id is not None else None
    after_id = _id(after_id, "after_id") if after_id is not None else None
    for name, value in (("before_id", before_id), ("after_id", after_id)):
        if value == ticket_id:
            raise InvalidInput(f"{name} cannot be the moved ticket itself.")
    for attempt in range(MOVE_ATTEMPTS):
        try:
            ticket, new_rank = _move_once(
                actor=actor,
                ticket_id=ticket_id,
                status_key=status_key,
                before_id=before_id,
                after_id=after_id,
                client_mutation_id=client_mutation_id,
                keep_place_in_column=keep_place_in_column,
                retry=attempt > 0,
            )
        except IntegrityError as exc:
            if "ticket_rank_unique" not in str(exc):
                raise
            if attempt == MOVE_ATTEMPTS - 1:
                raise DomainError(
                    "The board is busy; the move could not be placed. Retry."
                ) from None
            continue
        except _RebalanceFirst as hot:
            # Keys this long mean a hot gap: finish a rebalance (its own transactions), then retry.
            from tickets.tasks import rebalance_now

            rebalance_now(hot.project_id)
            continue
        if new_rank is not None and ranking.needs_rebalance(new_rank):
            from tickets.tasks import queue_rebalance

            queue_rebalance(ticket.project_id)
        return ticket
    raise AssertionError("unreachable")


@transaction.atomic
def _move_once(
    *,
    actor: Any,
    ticket_id: int,
    status_key: str | None,
    before_id: int | None,
    after_id: int | None,
    client_mutation_id: str | None,
    keep_place_in_column: bool,
    retry: bool = False,
) -> tuple[Ticket, str | None]:
    # Access: the permission-scoped selector (404), then the role (403).
    project_id, role = ticket_role(actor, ticket_id)
    if ROLE_RANK[role] < ROLE_RANK[Role.AGENT]:
        raise Forbidden("Your role in this project does not allow you to move tickets.")
    # Lock: the shared rank-space lock first, then the rows in id order (ADR 0003).
    hold_rank_space(project_id)
    ids = sorted({ticket_id, *(i for i in (before_id, after_id) if i is not None)})
    locked = (
        Ticket.objects.filter(pk__in=ids, project_id=project_id)
        .select_for_update(no_key=True)
        .order_by("pk")
        .values_list("pk", "status_id", "rank", "is_archived")
    )
    # Each row as it is once locked (a joinless lock returns the version it waited for).
    rows = {row[0]: Place(*row[1:]) for row in locked}
    if ticket_id not in rows:  # deleted since the access read
        raise NotFound("No such ticket.")
    # The moved ticket whole (project, status, people, SLA row), read after its lock.
    ticket = full_ticket(ticket_id)
    # Validate.
    layout = ColumnLayout.of(project_id)
    target = layout.status_by_key(status_key) if status_key is not None else ticket.status
    if ticket.is_archived:
        raise DomainError("Archived tickets cannot be moved.")
    try:
        check_transition(ticket.project, ticket.status, target)
        gap = _gap(ticket, target, rows, layout, before_id, after_id, keep_place_in_column)
    except _POSITIONED as refused:
        refused.details["current"] = current_position(ticket, layout)
        raise
    # Mutate: exactly one ticket row.
    now = timezone.now()
    old = {"status": ticket.status.key, "rank": ticket.rank}
    old_status = ticket.status
    fields = apply_status(ticket, target, now=now)
    new_rank: str | None = None
    if gap is not None:  # None: a status change within its column keeps its place
        # A retry lost the race for the gap's midpoint (concurrent moves to the bottom of one
        # column read the same gap): a random one of 8 ranks of the gap, so it does not lose again.
        spread = 8 if retry else 1
        new_rank = rank_for_gap(*gap, bucket=ticket.project.rank_bucket, spread=spread)
        if ranking.must_rebalance(new_rank):
            raise _RebalanceFirst(project_id)
        ticket.rank = new_rank
        fields.append("rank")
    ticket.save(update_fields=[*fields, "updated_at"])
    # Record.
    record_audit(
        actor=actor,
        action="ticket.moved",
        project_id=project_id,
        ticket_id=ticket.pk,
        old=old,
        new={"status": ticket.status.key, "rank": ticket.rank},
    )
    if "status" in fields:
        sla_services.status_changed(ticket=ticket, old_status=old_status, now=now)
    record_board_event(
        project_id=project_id,
        type="ticket.moved",
        data=ticket_event_data(ticket),
        ticket_id=ticket.pk,
        actor=actor,
        client_mutation_id=client_mutation_id,
    )
    notify("ticket.moved", ticket, actor, from_status=old["status"])
    if "status" in fields and ticket.status.category == StatusCategory.DONE:
        notify("ticket.resolved", ticket, actor)
    return ticket, new_rank


def _gap(
    ticket: Ticket,
    target: Any,
    rows: dict[int, Place],
    layout: ColumnLayout,
    before_id: int | None,
    after_id: int | None,
    keep_place_in_column: bool,
) -> tuple[str | None, str | None] | None:
    """The project-wide gap the ticket goes into (None: it keeps its place); 400 for a neighbour outside the target column,
    409 when the neighbours moved apart or the target column is full."""
    old_column, _ = layout.column_statuses(ticket.status_id)
    new_column, status_ids = layout.column_statuses(target)
    neighbours: list[Place | None] = []
    for name, value in (("before_id", before_id), ("after_id", after_id)):
        other = rows.get(value) if value is not None else None
        if value is not None and (
            other is None or other.is_archived or other.status_id not in status_ids
        ):
            raise InvalidInput(
                f"{name} must be a ticket in the target column of {ticket.project.key}.",
                details={"fields": {name: ["Not a ticket of the target column."]}},
            )
        neighbours.append(other)
    before, after = neighbours
    project_id = ticket.project_id
    if before is not None and after is not None:
        following, hi = next_in_column(project_id, before.rank, ticket.pk, status_ids)
        if before.rank >= after.rank or following != after_id:
            raise StalePosition(details={"before_id": before_id, "after_id": after_id})
        gap: tuple[str | None, str | None] | None = (before.rank, hi)
    elif before is not None:
        gap = (before.rank, rank_after(project_id, before.rank, ticket.pk))
    elif after is not None:
        gap = (rank_before(project_id, after.rank, ticket.pk), after.rank)
    elif keep_place_in_column and old_column is not None and old_column == new_column:
        gap = None
    else:
        gap = bottom_of(project_id, status_ids, exclude_id=ticket.pk)
    check_wip(ticket, layout, old_column, new_column, status_ids)
    return gap


def current_position(ticket: Ticket, layout: ColumnLayout | None) -> dict[str, Any]:
    """Where the ticket is on the board now: its status, column and neighbours in board order."""
    layout = layout or ColumnLayout.of(ticket.project_id)
    column_id, status_ids = layout.column_statuses(ticket.status_id)
    column = Ticket.objects.filter(
        project_id=ticket.project_id, status_id__in=status_ids, is_archived=False
    ).exclude(pk=ticket.pk)
    return {
        "status": ticket.status.key,
        "column": column_id,
        "before": column.filter(rank__lt=ticket.rank)
        .order_by("-rank")
        .values_list("pk", flat=True)
        .first(),
        "after": column.filter(rank__gt=ticket.rank)
        .order_by("rank")
        .values_list("pk", flat=True)
        .first(),
    }
