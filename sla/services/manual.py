"""Escalation by hand: jump one level now, or acknowledge to stop the chain.

Both run inside the ticket service's transaction, with the ticket row locked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from notifications.services import record_board_event
from sla.models import METRICS, EventKind, Metric, SlaEscalation, TicketSla
from sla.services.escalations import Effects, EscalationCaches, apply_escalation
from sla.services.state import (
    add_event,
    context_for,
    get,
    level_spec,
    lock_state,
    put,
    refresh_next,
)
from tickets.audit import record_audit
from tickets.models import Ticket


def _chain_metric(state: TicketSla | None) -> str:
    """The metric a manual escalation raises: the highest chain, else the latest breach."""
    if state is None:
        return Metric.RESOLUTION

    def rank(metric: str) -> tuple[int, datetime | None, int]:
        breached = get(state, metric, "breached_at")
        return (
            get(state, metric, "esc_level"),
            breached,
            1 if metric == Metric.RESOLUTION else 0,
        )

    def key(metric: str) -> tuple[int, float, int]:
        level, breached, tie = rank(metric)
        return (level, breached.timestamp() if breached else 0.0, tie)

    return max(METRICS, key=key)


def escalate_manually(*, ticket: Ticket, actor: Any, reason: str, now: datetime) -> None:
    """Raise the ticket one escalation level now (caller holds the ticket's row lock)."""
    state = lock_state(ticket)
    metric = _chain_metric(state)
    cycle = state.cycle if state else 1
    level = ticket.escalation_level + 1
    if state is not None:
        level = max(level, get(state, metric, "esc_level") + 1)
    caches = EscalationCaches()
    ctx = caches.context(state.policy if state else None)
    spec = level_spec(ctx, level)
    escalation = (
        SlaEscalation.objects.select_for_update()
        .filter(ticket_id=ticket.pk, metric=metric, cycle=cycle, level=level)
        .first()
    )
    if escalation is not None and escalation.processed_at is not None:
        # Only reachable when the ticket's level lags its chain; move past it.
        level = (
            SlaEscalation.objects.filter(ticket_id=ticket.pk, metric=metric, cycle=cycle)
            .order_by("-level")
            .values_list("level", flat=True)
            .first()
            or 0
        ) + 1
        spec, escalation = level_spec(ctx, level), None
    if escalation is None:
        escalation = SlaEscalation(
            ticket_id=ticket.pk,
            project_id=ticket.project_id,
            metric=metric,
            cycle=cycle,
            level=level,
            due_at=now,
            role=spec["role"],
            reassign=spec["reassign"],
        )
    # A queued automatic level is taken over: it happens once, now, by hand.
    escalation.manual = True
    escalation.actor = actor if getattr(actor, "is_authenticated", False) else None
    escalation.reason = reason[:300]
    effects = Effects()
    fields, event = apply_escalation(escalation, ticket, state, caches, now, effects, actor=actor)
    effects.flush()
    if fields:
        ticket.save(update_fields=[*fields, "updated_at"])
    if event is not None:
        event.save(force_insert=True)
    escalation.save()
    if state is not None:
        state.save()


def acknowledge(*, ticket: Ticket, actor: Any, now: datetime) -> None:
    """Stop the running escalation chains at their current level (queued levels are cancelled)."""
    state = lock_state(ticket)
    cancelled = 0
    if state is not None:
        for metric in METRICS:
            if get(state, metric, "breached_at") is not None:
                put(state, metric, "next_esc_at", None)
        cancelled = SlaEscalation.objects.filter(
            ticket_id=ticket.pk, cycle=state.cycle, processed_at__isnull=True
        ).update(processed_at=now, outcome="cancelled")
        state.acknowledged_at = now
        refresh_next(state)
        state.save()
        add_event(
            state,
            kind=EventKind.ACKNOWLEDGED,
            at=now,
            level=ticket.escalation_level,
            actor=actor,
            reason=f"escalation chain stopped at level {ticket.escalation_level}",
            data={"cancelled": cancelled},
            ctx=context_for(state.policy),
        )
    record_audit(
        actor=actor,
        action="ticket.acknowledged",
        project_id=ticket.project_id,
        ticket_id=ticket.pk,
        new={"escalation_level": ticket.escalation_level, "cancelled": cancelled},
    )
    record_board_event(
        actor=actor,
        project_id=ticket.project_id,
        type="sla.acknowledged",
        data={
            "id": ticket.pk,
            "key": f"{ticket.project.key}-{ticket.number}",
            "level": ticket.escalation_level,
        },
        ticket_id=ticket.pk,
    )
