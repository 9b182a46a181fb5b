"""Moving a ticket: to a status and/or between two neighbours of the target column.

A move writes one ticket row (its rank, and its status fields if the status changes), its audit
row and board event, and reads everything it needs in one flight (ADR 0003, 0006, 0008).
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from config.api import DomainError, InvalidInput, NotFound
from config.rawsql import Later, later, write_behind
from notifications.recipients import prefetch_candidates
from notifications.services import record_board_event
from sla import services as sla_services
from tickets import ranking
from tickets.audit import record_audit
from tickets.models import MAX_ID, Role, StatusCategory, Ticket
from tickets.permissions import require_role
from tickets.selectors import FULL_TICKET_SQL, FullTicketBuilder
from tickets.services.ranks import RANK_SPACE_LOCK, queue_move_gap, rank_for_gap
from tickets.services.tickets import (
    MOVE_ATTEMPTS,
    ColumnLayout,
    StalePosition,
    apply_status,
    check_transition,
    check_wip,
    notify,
    queue_status_read,
    status_by_key,
    ticket_event_data,
    write_columns,
)


class _RebalanceFirst(Exception):  # control flow only: never leaves move_ticket
    def __init__(self, project_id: int) -> None:
        super().__init__(project_id)
        self.project_id = project_id


def move_ticket(
    *,
    actor: Any,
    ticket_id: int,
    status_key: str | None = None,
    before_id: int | None = None,
    after_id: int | None = None,
) -> Ticket:
    """Move a ticket to a status and/or between two neighbours of the target column.

    Writes exactly one ticket row. Locks the moved ticket and the neighbours given (in id order,
    so two moves never deadlock), re-reads the neighbours' current order, then chooses a rank in
    the project-wide gap. The unique (project, rank) constraint is the safety net: a concurrent
    move that took the same key makes this one retry with a fresh read.

    Round trips (config/db/base.py, ADR 0006 and 0008): BEGIN, the context, the status, the locks,
    the gap and the people to notify go out in one flight; the writes (ticket row, audit, board
    event, notifications, outbox) are write-behind and ride with the COMMIT.
    """
    for attempt in range(MOVE_ATTEMPTS):
        try:
            with transaction.atomic(), write_behind():
                ticket, rank_to_check = _move_once(
                    actor=actor,
                    ticket_id=ticket_id,
                    status_key=status_key,
                    before_id=before_id,
                    after_id=after_id,
                )
        except IntegrityError:
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
        if rank_to_check is not None and ranking.needs_rebalance(rank_to_check):
            from tickets.tasks import queue_rebalance

            queue_rebalance(ticket.project_id)
        return ticket
    raise AssertionError("unreachable")


# The move's own reads are hand-written statements (why: config/rawsql.py): its context (role,
# column layout, the shared rank-space lock) and the locked rows; the status, gap and people reads
# come from tickets.services.tickets, .ranks and notifications.recipients.
_MOVE_CONTEXT_SQL = f"""
SELECT t.requester_id, t.created_by_id, m.role, t.project_id,
       pg_advisory_xact_lock_shared({RANK_SPACE_LOCK}, t.project_id::int)::text,
       ({ColumnLayout.SQL.format(project="t.project_id")})
FROM tickets_ticket t
LEFT JOIN tickets_membership m ON m.project_id = t.project_id AND m.user_id = %(user)s
WHERE t.id = %(ticket)s
"""  # noqa: S608 - constants only, values are parameters
# The moved ticket and its neighbours, fully loaded, locked in id order (two moves never deadlock).
# It travels with the context statement, before the checks: so it locks only rows of the moved
# ticket's project (whose rank-space lock the context statement has just taken, ADR 0003) and
# only for staff of that project; for anyone else, or a ticket that does not exist, nothing.
_MOVE_LOCK_SQL = f"""{FULL_TICKET_SQL}
WHERE t.id = ANY(%(ids)s) AND t.project_id = (
    SELECT x.project_id FROM tickets_ticket x
    WHERE x.id = %(ticket)s AND (%(superuser)s OR EXISTS (
        SELECT 1 FROM tickets_membership m
        WHERE m.project_id = x.project_id AND m.user_id = %(user)s AND m.role <> '{Role.CUSTOMER}')))
ORDER BY t.id FOR UPDATE OF t"""  # noqa: S608 - constants only, values are parameters


def _move_context(actor: Any, context: Later) -> tuple[int, ColumnLayout]:
    """The moved ticket's project id and column layout, once the actor may move it (404 / 403
    as `get_visible_ticket` + `require_role` answer), from the context statement (which took
    the shared rank-space lock)."""
    row = context.one()
    if row is None or not actor.is_active:
        raise NotFound("No such ticket.")
    requester_id, created_by_id, role, project_id, _lock, layout_rows = row
    role = Role.ADMIN if actor.is_superuser else role
    actor.__dict__.setdefault("_helpline_roles", {})[project_id] = role
    if role is None or (role == Role.CUSTOMER and actor.pk not in (requester_id, created_by_id)):
        raise NotFound("No such ticket.")
    require_role(actor, project_id, Role.AGENT, "move tickets")
    return project_id, ColumnLayout.from_rows(layout_rows)


def _lock_for_move(actor: Any, ticket_id: int, ids: list[int]) -> Later:
    """Queue the lock of the tickets `ids` of the moved ticket's project, FOR UPDATE, fully
    loaded (status, people, SLA row); none unless `actor` is staff there (`_locked` builds them)."""
    params = {
        "ids": ids,
        "ticket": ticket_id,
        "superuser": bool(getattr(actor, "is_superuser", False)),
        "user": getattr(actor, "pk", None),
    }
    return later(_MOVE_LOCK_SQL, params)


def _locked(found: Later) -> dict[int, Ticket]:
    builder = FullTicketBuilder()
    return {t.pk: t for t in (builder.build(row) for row in found.rows)}


def _move_once(
    *,
    actor: Any,
    ticket_id: int,
    status_key: str | None,
    before_id: int | None,
    after_id: int | None,
) -> tuple[Ticket, str | None]:
    try:
        ticket_id = int(ticket_id)
    except (TypeError, ValueError):
        raise NotFound("No such ticket.") from None
    if not 0 < ticket_id <= MAX_ID:
        raise NotFound("No such ticket.")
    before_id = int(before_id) if before_id is not None else None
    after_id = int(after_id) if after_id is not None else None
    # One flight: the context (visibility, role, layout, the shared rank-space lock first), the
    # target status, the locked rows, then the gap and the people to notify, read after the
    # locks from the locked rows themselves; then checked in that order.
    context = later(_MOVE_CONTEXT_SQL, {"user": getattr(actor, "pk", None), "ticket": ticket_id})
    found = queue_status_read(status_key)
    locked = _lock_for_move(
        actor, ticket_id, sorted({ticket_id, *(x for x in (before_id, after_id) if x is not None)})
    )
    gap = queue_move_gap(
        ticket_id=ticket_id,
        status_key=status_key if isinstance(status_key, str) else None,
        before_id=before_id,
        after_id=after_id,
    )
    people = prefetch_candidates(ticket_id)
    project_id, layout = _move_context(actor, context)
    for name, value in (("before_id", before_id), ("after_id", after_id)):
        if value == ticket_id:
            raise InvalidInput(f"{name} cannot be the moved ticket itself.")
    target = status_by_key(status_key, found) if status_key is not None else None
    tickets = _locked(locked)
    ticket = tickets.get(ticket_id)
    if ticket is None or ticket.project_id != project_id:
        raise NotFound("No such ticket.")
    project = ticket.project
    if ticket.is_archived:
        raise DomainError("Archived tickets cannot be moved.")
    target = target or ticket.status
    check_transition(project, ticket.status, target)
    old_column, _ = layout.column_statuses(ticket.status)
    new_column, status_ids = layout.column_statuses(target)
    neighbours: dict[str, Ticket | None] = {}
    for name, value in (("before_id", before_id), ("after_id", after_id)):
        if value is None:
            neighbours[name] = None
            continue
        other = tickets.get(value)
        if (
            other is None
            or other.project_id != project.pk
            or other.is_archived
            or other.status_id not in status_ids
        ):
            raise InvalidInput(
                f"{name} must be a ticket in the target column of {project.key}.",
                details={"fields": {name: ["Not a ticket of the target column."]}},
            )
        neighbours[name] = other
    before, after = neighbours["before_id"], neighbours["after_id"]
    lo, hi = _gap(gap, before, after)
    check_wip(ticket, layout, old_column, new_column, status_ids)
    now = timezone.now()
    old = {"status": ticket.status.key, "rank": ticket.rank}
    old_status = ticket.status
    fields = apply_status(ticket, target, now=now)
    new_rank = rank_for_gap(lo, hi, bucket=project.rank_bucket)
    if ranking.must_rebalance(new_rank):
        raise _RebalanceFirst(project.pk)
    ticket.rank = new_rank
    ticket.updated_at = now
    write_columns(ticket, [*fields, "rank", "updated_at"])
    record_audit(
        actor=actor,
        action="ticket.moved",
        project_id=project.pk,
        ticket_id=ticket.pk,
        old=old,
        new={"status": ticket.status.key, "rank": ticket.rank},
    )
    if fields:
        sla_services.status_changed(ticket=ticket, old_status=old_status, now=now)
        # The SLA hook rewrote the clocks: the response reads them afresh.
        Ticket.sla_state.related.delete_cached_value(ticket)
    record_board_event(
        project_id=project.pk,
        type="ticket.moved",
        data=ticket_event_data(ticket),
        ticket_id=ticket.pk,
    )
    notify("ticket.moved", ticket, actor, prefetched=people, from_status=old["status"])
    if fields and ticket.status.category == StatusCategory.DONE:
        notify("ticket.resolved", ticket, actor, prefetched=people)
    return ticket, new_rank


def _gap(
    found: Later, before: Ticket | None, after: Ticket | None
) -> tuple[str | None, str | None]:
    """The project-wide gap the ticket goes into, from the move's gap read (ranks.queue_move_gap);
    StalePosition when the neighbours moved apart."""
    row = found.one()
    assert row is not None  # every case answers one row
    if before is not None and after is not None:
        following, hi = row
        if before.rank >= after.rank or following != after.pk:
            raise StalePosition(details={"before_id": before.pk, "after_id": after.pk})
        return before.rank, hi
    if before is not None:
        return before.rank, row[0]
    if after is not None:
        return row[0], after.rank
    return row[0], row[1]
