"""Escalation chains: processing queued levels, manual escalation, acknowledgement.

A level is a `SlaEscalation` row, unique per (ticket, metric, cycle, level). Processing one
notifies the members holding the level's role, optionally reassigns the ticket to the least
loaded of them, audits it, pushes a board event and writes the timeline row, all in the
transaction that sets `processed_at`: a worker killed mid-batch leaves its chunk unprocessed, and
the redelivered task processes each level exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from notifications.bulk import bulk_insert
from notifications.recipients import BatchEvent
from sla.models import EventKind, SlaEscalation, SlaEvent, SlaPolicy, TicketSla
from sla.services.effects import Effects
from sla.services.state import (
    LABEL,
    Context,
    add_event,
    context_for,
    get,
    next_escalation_at,
    put,
    refresh_next,
)
from tickets.models import Project, StatusCategory, Ticket, User, Watcher
from tickets.selectors import locked_tickets

ESCALATION_CHUNK = 100


@dataclass
class EscalationCaches:
    """Per-run lookups shared by the levels of one batch."""

    members: dict[tuple[int, str], list[User]] = field(default_factory=dict)
    loads: dict[int, dict[int, int]] = field(default_factory=dict)
    contexts: dict[int, Context] = field(default_factory=dict)
    policies: dict[int, SlaPolicy] = field(default_factory=dict)

    def members_of(self, project_id: int, role: str) -> list[User]:
        key = (project_id, role)
        if key not in self.members:
            self.members[key] = list(
                User.objects.filter(
                    is_active=True, memberships__project_id=project_id, memberships__role=role
                ).order_by("pk")
            )
        return self.members[key]

    def load_of(self, project_id: int, users: list[User]) -> dict[int, int]:
        loads = self.loads.setdefault(project_id, {})
        missing = [u.pk for u in users if u.pk not in loads]
        if missing:
            counts = dict(
                Ticket.objects.filter(
                    project_id=project_id, assignee_id__in=missing, is_archived=False
                )
                .exclude(status__category=StatusCategory.DONE)
                .values("assignee_id")
                .annotate(n=Count("pk"))
                .values_list("assignee_id", "n")
            )
            for user_id in missing:
                loads[user_id] = counts.get(user_id, 0)
        return loads

    def policies_for(self, ids: set[int | None]) -> dict[int, SlaPolicy]:
        missing = {i for i in ids if i is not None and i not in self.policies}
        if missing:
            for policy in SlaPolicy.objects.select_related("calendar").filter(pk__in=missing):
                self.policies[policy.pk] = policy
        return self.policies

    def context(self, policy: SlaPolicy | None) -> Context:
        if policy is None:
            return context_for(None)
        if policy.pk not in self.contexts:
            self.contexts[policy.pk] = context_for(policy)
        return self.contexts[policy.pk]


def members_with_exact_role(project: Project | int, role: str) -> list[User]:
    """Active members holding exactly `role` in the project."""
    project_id = project if isinstance(project, int) else project.pk
    return EscalationCaches().members_of(project_id, role)


def _least_loaded(project_id: int, members: list[User], caches: EscalationCaches) -> User | None:
    if not members:
        return None
    loads = caches.load_of(project_id, members)
    return min(members, key=lambda u: (loads.get(u.pk, 0), u.pk))


def apply_escalation(
    escalation: SlaEscalation,
    ticket: Ticket,
    state: TicketSla | None,
    caches: EscalationCaches,
    now: datetime,
    effects: Effects,
    *,
    actor: Any = None,
) -> tuple[list[str], SlaEvent | None]:
    """Carry out one escalation level (the caller holds the ticket and SLA row locks).

    Returns the ticket fields changed and the timeline row, unsaved: the caller writes them
    (one bulk statement per chunk in the processor). Watcher, audit, notifications and board
    event go to `effects`, which the caller flushes.
    """
    members = caches.members_of(ticket.project_id, escalation.role)
    old_level = ticket.escalation_level
    old_assignee = ticket.assignee
    fields = []
    if escalation.level > ticket.escalation_level:
        ticket.escalation_level = escalation.level
        fields.append("escalation_level")
    chosen = _least_loaded(ticket.project_id, members, caches) if escalation.reassign else None
    if chosen is not None and chosen.pk != ticket.assignee_id:
        loads = caches.loads[ticket.project_id]
        if ticket.assignee_id in loads:
            loads[ticket.assignee_id] -= 1
        loads[chosen.pk] = loads.get(chosen.pk, 0) + 1
        ticket.assignee = chosen
        fields.append("assignee")
        effects.watchers.append(Watcher(ticket=ticket, user=chosen))
    else:
        chosen = None
    metric = escalation.metric
    ctx = caches.context(state.policy if state else None)
    if state is not None and state.cycle == escalation.cycle:
        put(state, metric, "esc_level", max(get(state, metric, "esc_level"), escalation.level))
        breached = get(state, metric, "breached_at") is not None
        if breached and get(state, metric, "met_at") is None and state.stopped_at is None:
            base = now if escalation.manual else escalation.due_at
            put(state, metric, "next_esc_at", next_escalation_at(ctx, base, escalation.level))
        refresh_next(state)
    assignee = ticket.assignee.username if ticket.assignee_id and ticket.assignee else None
    effects.audit(
        actor=actor,
        action="ticket.escalated",
        ticket=ticket,
        old={
            "escalation_level": old_level,
            "assignee": old_assignee.username if old_assignee else None,
        },
        new={
            "escalation_level": ticket.escalation_level,
            "level": escalation.level,
            "metric": metric,
            "role": escalation.role,
            "assignee": assignee,
            "reason": escalation.reason,
            "manual": escalation.manual,
        },
    )
    effects.board.setdefault(ticket.project_id, []).append(
        (
            "sla.escalated",
            {
                "id": ticket.pk,
                "key": f"{ticket.project.key}-{ticket.number}",
                "level": escalation.level,
                "metric": metric,
                "role": escalation.role,
                "assignee": assignee,
                "manual": escalation.manual,
            },
            ticket.pk,
        )
    )
    effects.notices.append(
        BatchEvent(
            kind="sla.escalated",
            ticket=ticket,
            actor=actor,
            extra_recipients=members,
            extra={"level": escalation.level, "metric": metric},
        )
    )
    event = None
    if state is not None:
        reassigned = f"; reassigned to {chosen.username}" if chosen else ""
        event = add_event(
            state,
            kind=EventKind.ESCALATED,
            metric=metric,
            level=escalation.level,
            at=now,
            actor=actor,
            reason=(
                f"level {escalation.level} ({escalation.role}) for the {LABEL[metric]} target"
                f"{' by hand: ' + escalation.reason if escalation.manual else ''}{reassigned}"
            ),
            data={"role": escalation.role, "notified": [u.pk for u in members]},
            ctx=ctx,
            save=False,
        )
    escalation.processed_at = now
    escalation.outcome = "escalated"
    escalation.notified = [u.pk for u in members]
    escalation.reassigned_to = chosen
    if fields:
        ticket.updated_at = now
    return fields, event


def _write_chunk(rows: list[SlaEscalation], states: list[TicketSla], tickets: list[Ticket]) -> None:
    """Write a chunk's escalation, SLA and ticket rows, one UPDATE ... FROM unnest() per table.

    (Django's bulk_update builds CASE expressions whose compilation cost more than the writes.)
    """
    with connection.cursor() as cursor:
        if rows:
            cursor.execute(
                "UPDATE sla_slaescalation e SET processed_at = v.at, outcome = v.outcome, "
                "notified = v.notified::jsonb, reassigned_to_id = v.reassigned "
                "FROM unnest(%s::bigint[], %s::timestamptz[], %s::text[], %s::text[], %s::bigint[]) "
                "AS v(id, at, outcome, notified, reassigned) WHERE e.id = v.id",
                [
                    [r.pk for r in rows],
                    [r.processed_at for r in rows],
                    [r.outcome for r in rows],
                    [json.dumps(r.notified) for r in rows],
                    [r.reassigned_to_id for r in rows],
                ],
            )
        if states:
            cursor.execute(
                "UPDATE sla_ticketsla s SET fr_esc_level = v.fl, fr_next_esc_at = v.fn, "
                "res_esc_level = v.rl, res_next_esc_at = v.rn, next_check_at = v.nc, "
                "next_due_at = v.nd, updated_at = now() "
                "FROM unnest(%s::bigint[], %s::int[], %s::timestamptz[], %s::int[], "
                "%s::timestamptz[], %s::timestamptz[], %s::timestamptz[]) "
                "AS v(id, fl, fn, rl, rn, nc, nd) WHERE s.ticket_id = v.id",
                [
                    [s.ticket_id for s in states],
                    [s.fr_esc_level for s in states],
                    [s.fr_next_esc_at for s in states],
                    [s.res_esc_level for s in states],
                    [s.res_next_esc_at for s in states],
                    [s.next_check_at for s in states],
                    [s.next_due_at for s in states],
                ],
            )
        if tickets:
            cursor.execute(
                "UPDATE tickets_ticket t SET escalation_level = v.level, assignee_id = v.assignee, "
                "updated_at = v.at FROM unnest(%s::bigint[], %s::int[], %s::bigint[], "
                "%s::timestamptz[]) AS v(id, level, assignee, at) WHERE t.id = v.id",
                [
                    [t.pk for t in tickets],
                    [t.escalation_level for t in tickets],
                    [t.assignee_id for t in tickets],
                    [t.updated_at for t in tickets],
                ],
            )


def process_escalations(
    *,
    escalation_ids: Sequence[int],
    now: datetime | None = None,
    chunk_size: int = ESCALATION_CHUNK,
) -> dict[str, int]:
    """Process queued escalation levels, a chunk per transaction; processed ones are skipped."""
    ids = sorted(set(escalation_ids))
    caches = EscalationCaches()
    escalated = skipped = 0
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size]
        with transaction.atomic():
            ticket_ids = set(
                SlaEscalation.objects.filter(pk__in=chunk, processed_at__isnull=True).values_list(
                    "ticket_id", flat=True
                )
            )
            if not ticket_ids:
                continue
            # Lock order: tickets (id order), SLA rows, then escalation rows.
            tickets = {
                t.pk: t
                for t in locked_tickets(ticket_ids, "project", "status", "assignee", "requester")
            }
            states = {
                s.ticket_id: s
                for s in TicketSla.objects.select_for_update()
                .filter(ticket_id__in=ticket_ids)
                .order_by("ticket_id")
            }
            # A handful of policies serve the whole chunk: loaded once, not joined per row.
            policies = caches.policies_for({s.policy_id for s in states.values()})
            for locked in states.values():
                locked.policy = policies.get(locked.policy_id) if locked.policy_id else None
            rows = list(
                SlaEscalation.objects.select_for_update()
                .filter(pk__in=chunk, processed_at__isnull=True)
                .order_by("pk")
            )
            at = now or timezone.now()
            events: list[SlaEvent] = []
            changed: dict[int, set[str]] = {}
            effects = Effects()
            in_wave: set[int] = set()
            for escalation in rows:
                ticket = tickets.get(escalation.ticket_id)
                state = states.get(escalation.ticket_id)
                if ticket is None or ticket.is_archived or (state and state.stopped_at):
                    escalation.processed_at, escalation.outcome = at, "skipped"
                    skipped += 1
                    continue
                if ticket.pk in in_wave:
                    # A second level of the same ticket: the first one's effects go out first.
                    effects.flush()
                    in_wave.clear()
                in_wave.add(ticket.pk)
                fields, event = apply_escalation(escalation, ticket, state, caches, at, effects)
                changed.setdefault(ticket.pk, set()).update(fields)
                if event is not None:
                    events.append(event)
                escalated += 1
            bulk_insert(events)
            dirty = [tickets[pk] for pk, fields in changed.items() if fields]
            _write_chunk(rows, list(states.values()), dirty)
            # Last: the board events lock the project's counter until the commit.
            effects.flush()
    return {"escalated": escalated, "skipped": skipped}


def pending_escalation_ids(*, older_than: datetime, limit: int = 10_000) -> list[int]:
    """Queued levels nobody processed in time (a lost message, a crashed worker)."""
    return list(
        SlaEscalation.objects.filter(processed_at__isnull=True, created_at__lt=older_than)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
