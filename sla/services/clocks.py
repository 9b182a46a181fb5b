"""The ticket services' SLA hooks: start, re-target, pause/resume, meet, restart, stop; recompute.

Each hook runs inside the ticket service's transaction with the ticket row locked, and writes
only SLA rows (TicketSla, SlaEvent, SlaEscalation) plus, through delivered breaches, board events:
a move still writes exactly one ticket row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction

from sla.models import METRICS, EventKind, Metric, SlaPolicy, TicketSla
from sla.services.state import (
    LABEL,
    Context,
    add_event,
    cancel_pending,
    close_pause,
    context_for,
    enqueue_escalations,
    get,
    iso,
    lock_state,
    policy_for,
    put,
    refresh_next,
    running,
    schedule,
    settle,
)
from tickets.models import Status, StatusCategory, Ticket
from tickets.selectors import locked_tickets


def _start_metric(state: TicketSla, metric: str, ctx: Context, now: datetime) -> None:
    target = ctx.target_seconds(metric)
    put(state, metric, "started_at", now)
    put(state, metric, "target_seconds", target)
    put(state, metric, "paused_seconds", 0)
    for field in ("warned_at", "breached_at", "met_at", "next_esc_at", "warn_at", "due_at"):
        put(state, metric, field, None)
    put(state, metric, "esc_level", 0)
    if target is not None:
        schedule(state, metric, ctx)


def _dues(state: TicketSla) -> dict[str, str | None]:
    return {metric: iso(get(state, metric, "due_at")) for metric in METRICS}


def start_ticket_sla(*, ticket: Ticket, now: datetime) -> None:
    """A ticket was created: start its first-response and resolution clocks under its policy."""
    policy = policy_for(ticket.project_id, ticket.priority)
    ctx = context_for(policy)
    state = TicketSla(
        ticket_id=ticket.pk,
        project_id=ticket.project_id,
        policy=policy,
        policy_version=policy.version if policy else 0,
    )
    if policy is not None:
        for metric in METRICS:
            _start_metric(state, metric, ctx, now)
        if ticket.status.category == StatusCategory.DONE:
            state.fr_met_at = state.res_met_at = now
        elif ticket.status.pauses_sla:
            state.paused_at = now
    refresh_next(state)
    state.save(force_insert=True)
    ticket.sla_state = state  # the response built from this ticket shows the new clocks
    if policy is not None:
        add_event(
            state,
            kind=EventKind.STARTED,
            at=now,
            reason=f"ticket created with priority {ticket.priority}",
            data=_dues(state),
            ctx=ctx,
        )


def _ensure_state(ticket: Ticket, now: datetime) -> TicketSla:
    state = lock_state(ticket)
    if state is None:
        # Tickets created before the SLA engine: start them as of now.
        start_ticket_sla(ticket=ticket, now=now)
        state = lock_state(ticket)
        assert state is not None
    return state


def apply_policy(
    state: TicketSla, ticket: Ticket, now: datetime, *, reason: str, policy: SlaPolicy | None
) -> bool:
    """Re-target the running clocks to `policy` (current calendar too); True if a due instant moved."""
    if state.stopped_at is not None:
        return False
    old_ctx = context_for(state.policy)
    queued = settle(state, ticket, old_ctx, now) if state.policy_id else []
    before = _dues(state)
    ctx = context_for(policy)
    state.policy = policy
    state.policy_version = policy.version if policy else 0
    done = ticket.status.category == StatusCategory.DONE
    for metric in METRICS:
        if policy is None:
            for field in ("due_at", "warn_at", "next_esc_at"):
                put(state, metric, field, None)
            continue
        met = get(state, metric, "met_at") is not None
        if get(state, metric, "started_at") is None or (
            get(state, metric, "due_at") is None and not met
        ):
            if done or (metric == Metric.FIRST_RESPONSE and ticket.first_response_at):
                continue
            _start_metric(state, metric, ctx, now)
        elif not met:
            put(state, metric, "target_seconds", ctx.target_seconds(metric))
            schedule(state, metric, ctx)
    if state.paused_at is None and not done and ticket.status.pauses_sla and policy is not None:
        state.paused_at = now
    if policy is not None:
        queued += settle(state, ticket, ctx, now)
    refresh_next(state)
    after = _dues(state)
    changed = before != after
    if changed:
        add_event(
            state,
            kind=EventKind.RETARGETED,
            at=now,
            reason=reason,
            data={"before": before, "after": after},
            ctx=ctx,
        )
    enqueue_escalations(queued)
    return changed


def retarget_ticket_sla(*, ticket: Ticket, now: datetime) -> None:
    """The priority changed: re-target the due instants to that priority's policy."""
    state = _ensure_state(ticket, now)
    old = state.policy.priority if state.policy else None
    apply_policy(
        state,
        ticket,
        now,
        reason=f"priority changed from {old or 'none'} to {ticket.priority}",
        policy=policy_for(ticket.project_id, ticket.priority),
    )
    state.save()


def status_changed(*, ticket: Ticket, old_status: Status, now: datetime) -> None:
    """The status changed: pause, resume, meet, or (on reopen) restart the resolution clock."""
    state = _ensure_state(ticket, now)
    if state.stopped_at is not None or state.policy_id is None:
        return
    new = ticket.status
    ctx = context_for(state.policy)
    queued = settle(state, ticket, ctx, now)
    entering_done = (
        new.category == StatusCategory.DONE and old_status.category != StatusCategory.DONE
    )
    leaving_done = (
        old_status.category == StatusCategory.DONE and new.category != StatusCategory.DONE
    )
    if entering_done:
        close_pause(state, ctx, now)
        for metric in METRICS:
            if running(state, metric):
                _meet(state, metric, ctx, now, reason=f"ticket moved to {new.key}")
    elif leaving_done:
        state.cycle += 1
        state.acknowledged_at = None
        _start_metric(state, Metric.RESOLUTION, ctx, now)
        add_event(
            state,
            kind=EventKind.RESTARTED,
            metric=Metric.RESOLUTION,
            at=now,
            reason=f"reopened: {old_status.key} -> {new.key}",
            data={"due_at": iso(state.res_due_at)},
            ctx=ctx,
        )
        if new.pauses_sla:
            _pause(state, ctx, now, reason=f"status {new.key} pauses the SLA")
    elif new.pauses_sla and state.paused_at is None:
        _pause(state, ctx, now, reason=f"status {new.key} pauses the SLA")
    elif not new.pauses_sla and state.paused_at is not None:
        paused = close_pause(state, ctx, now)
        add_event(
            state,
            kind=EventKind.RESUMED,
            at=now,
            reason=f"status {new.key}; {paused} business seconds paused added",
            data={"paused_seconds": paused, **_dues(state)},
            ctx=ctx,
        )
    refresh_next(state)
    state.save()
    enqueue_escalations(queued)


def _pause(state: TicketSla, ctx: Context, now: datetime, *, reason: str) -> None:
    if not any(running(state, m) for m in METRICS):
        return
    state.paused_at = now
    add_event(state, kind=EventKind.PAUSED, at=now, reason=reason, ctx=ctx)


def _meet(state: TicketSla, metric: str, ctx: Context, now: datetime, *, reason: str) -> None:
    on_time = get(state, metric, "breached_at") is None
    put(state, metric, "met_at", now)
    put(state, metric, "next_esc_at", None)
    cancel_pending(state, now, metric=metric)
    add_event(
        state,
        kind=EventKind.MET,
        metric=metric,
        at=now,
        reason=f"{LABEL[metric]} {'met' if on_time else 'met late'}: {reason}",
        data={"on_time": on_time, "due_at": iso(get(state, metric, "due_at"))},
        ctx=ctx,
    )


def first_response(*, ticket: Ticket, now: datetime) -> None:
    """The first public staff reply: the first-response target is met."""
    state = _ensure_state(ticket, now)
    if state.policy_id is None or not running(state, Metric.FIRST_RESPONSE):
        return
    ctx = context_for(state.policy)
    queued = settle(state, ticket, ctx, now)
    _meet(state, Metric.FIRST_RESPONSE, ctx, now, reason="first public reply")
    refresh_next(state)
    state.save()
    enqueue_escalations(queued)


def ticket_archived(*, ticket: Ticket, now: datetime) -> None:
    """An archived ticket stops counting: no more warnings, breaches or escalations."""
    state = lock_state(ticket)
    if state is None or state.stopped_at is not None:
        return
    ctx = context_for(state.policy)
    queued = settle(state, ticket, ctx, now) if state.policy_id else []
    close_pause(state, ctx, now)
    state.stopped_at = now
    cancel_pending(state, now)
    state.fr_next_esc_at = state.res_next_esc_at = None
    refresh_next(state)
    state.save()
    if state.policy_id:
        add_event(state, kind=EventKind.STOPPED, at=now, reason="ticket archived", ctx=ctx)
    enqueue_escalations(queued)


def recompute_tickets(
    *, ticket_ids: Iterable[int], now: datetime, reason: str = "policy or calendar changed"
) -> dict[str, int]:
    """Apply the current policy and calendar to open tickets; counts checked and changed ones.

    Locks each batch's ticket rows (in id order) before their SLA rows, like every writer.
    """
    ids = sorted(set(ticket_ids))
    checked = changed = 0
    policies: dict[tuple[int, str], Any] = {}
    for start in range(0, len(ids), 200):
        with transaction.atomic():
            tickets = locked_tickets(
                ids[start : start + 200], "project", "status", is_archived=False
            )
            for ticket in tickets:
                key = (ticket.project_id, ticket.priority)
                if key not in policies:
                    policies[key] = policy_for(*key)
                state = _ensure_state(ticket, now)
                checked += 1
                if apply_policy(state, ticket, now, reason=reason, policy=policies[key]):
                    changed += 1
                state.save()
    return {"checked": checked, "changed": changed}


def open_ticket_ids(project_id: int | None = None) -> list[int]:
    """Ids of non-archived tickets (of one project) whose clocks may need recomputing."""
    qs = Ticket.objects.filter(is_archived=False).exclude(status__category=StatusCategory.DONE)
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    return list(qs.order_by("pk").values_list("pk", flat=True))


def count_running_dues(project_id: int | None = None, *, now: datetime) -> dict[str, int]:
    """Running targets per metric, and rows ticking past a due instant (the recompute summary)."""
    qs = TicketSla.objects.filter(stopped_at__isnull=True, policy__isnull=False)
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    return {
        "first_response": qs.filter(fr_due_at__isnull=False, fr_met_at__isnull=True).count(),
        "resolution": qs.filter(res_due_at__isnull=False, res_met_at__isnull=True).count(),
        "overdue": qs.filter(next_due_at__lte=now).count(),
    }
