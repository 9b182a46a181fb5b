"""Shared pieces of the per-ticket clock: scheduling due instants, settling, recording events.

Callers hold the ticket's row lock and then lock the `TicketSla` row: ticket first, SLA state
second, escalation rows last, everywhere, so no two writers deadlock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q

from sla.clock import BusinessCalendar, add_business_time, business_seconds_between
from sla.models import METRICS, EventKind, Metric, SlaEscalation, SlaEvent, SlaPolicy, TicketSla
from sla.services.policies import business_calendar
from tickets.models import Ticket

PREFIX: dict[str, str] = {Metric.FIRST_RESPONSE: "fr", Metric.RESOLUTION: "res"}
OUTBOX_KINDS = (EventKind.WARNED, EventKind.BREACHED)
LABEL: dict[str, str] = {Metric.FIRST_RESPONSE: "first response", Metric.RESOLUTION: "resolution"}


@dataclass(frozen=True)
class Context:
    """The policy in force for a ticket and its business calendar."""

    policy: SlaPolicy | None
    cal: BusinessCalendar

    @property
    def chain(self) -> list[dict[str, Any]]:
        return list(self.policy.escalation_chain) if self.policy else []

    def target_seconds(self, metric: str) -> int | None:
        if self.policy is None:
            return None
        minutes = (
            self.policy.first_response_minutes
            if metric == Metric.FIRST_RESPONSE
            else self.policy.resolution_minutes
        )
        return int(minutes) * 60


def policy_for(project_id: int, priority: str) -> SlaPolicy | None:
    """The project's policy for a priority (with its calendar), or None."""
    return (
        SlaPolicy.objects.select_related("calendar")
        .filter(project_id=project_id, priority=priority)
        .first()
    )


def context_for(policy: SlaPolicy | None) -> Context:
    """The context of a policy (None: no SLA, measured on a 24x7 calendar)."""
    return Context(policy=policy, cal=business_calendar(policy.calendar if policy else None))


def lock_state(ticket: Ticket) -> TicketSla | None:
    """The ticket's SLA row, locked until the transaction ends (the caller holds the ticket lock),
    with its policy and calendar (read, not locked: every hook needs them for its context).

    The locked row is also set as the ticket's `sla_state`, so a response built from the ticket
    shows the clock as this write leaves it, not as an earlier read of the ticket saw it."""
    state = (
        TicketSla.objects.select_related("policy__calendar")
        .select_for_update(of=("self",))
        .filter(ticket_id=ticket.pk)
        .first()
    )
    if state is not None:
        ticket.sla_state = state
    return state


def get(state: TicketSla, metric: str, field: str) -> Any:
    return getattr(state, f"{PREFIX[metric]}_{field}")


def put(state: TicketSla, metric: str, field: str, value: Any) -> None:
    setattr(state, f"{PREFIX[metric]}_{field}", value)


def running(state: TicketSla, metric: str) -> bool:
    """The metric has a target and is not met (it may be paused)."""
    return (
        state.stopped_at is None
        and state.policy_id is not None
        and get(state, metric, "due_at") is not None
        and get(state, metric, "met_at") is None
    )


def ticking(state: TicketSla, metric: str) -> bool:
    """Running and not paused: its time passes now."""
    return running(state, metric) and state.paused_at is None


def warn_offset(target: int, ratio: float) -> int:
    """Business seconds after the start at which less than `ratio` of the target is left."""
    return max(0, target - int(target * ratio))


def schedule(state: TicketSla, metric: str, ctx: Context) -> None:
    """Recompute a running metric's warn and due instants, and level 1 of its chain if not breached."""
    started = get(state, metric, "started_at")
    target = get(state, metric, "target_seconds")
    paused = get(state, metric, "paused_seconds")
    ratio = ctx.policy.near_breach_ratio if ctx.policy else 0.2
    due = add_business_time(ctx.cal, started, target + paused)
    put(state, metric, "due_at", due)
    put(
        state,
        metric,
        "warn_at",
        add_business_time(ctx.cal, started, warn_offset(target, ratio) + paused),
    )
    if get(state, metric, "breached_at") is None:
        put(
            state,
            metric,
            "next_esc_at",
            next_escalation_at(ctx, due, get(state, metric, "esc_level")),
        )


def next_escalation_at(ctx: Context, base: datetime, level_reached: int) -> datetime | None:
    """When the level after `level_reached` fires, counted from `base` (None past the chain)."""
    chain = ctx.chain
    if level_reached >= len(chain):
        return None
    return add_business_time(ctx.cal, base, int(chain[level_reached]["after_minutes"]) * 60)


def refresh_next(state: TicketSla) -> None:
    """Recompute next_check_at (earliest pending instant) and next_due_at (earliest running due)."""
    checks: list[datetime] = []
    dues: list[datetime] = []
    for metric in METRICS:
        if not ticking(state, metric):
            continue
        dues.append(get(state, metric, "due_at"))
        if get(state, metric, "warned_at") is None:
            checks.append(get(state, metric, "warn_at"))
        if get(state, metric, "breached_at") is None:
            checks.append(get(state, metric, "due_at"))
        if get(state, metric, "next_esc_at") is not None:
            checks.append(get(state, metric, "next_esc_at"))
    state.next_check_at = min(checks) if checks else None
    state.next_due_at = min(dues) if dues else None


def add_event(
    state: TicketSla,
    *,
    kind: str,
    at: datetime,
    metric: str = "",
    reason: str = "",
    level: int | None = None,
    actor: Any = None,
    data: dict[str, Any] | None = None,
    delivered_at: datetime | None = None,
    ctx: Context | None = None,
    save: bool = True,
) -> SlaEvent:
    """Append a timeline row (delivered_at None leaves it to the relay; save=False: caller bulk-saves)."""
    policy = ctx.policy if ctx else None
    if kind not in OUTBOX_KINDS:
        delivered_at = delivered_at or at  # only warnings and breaches wait for the relay
    event = SlaEvent(
        ticket_id=state.ticket_id,
        project_id=state.project_id,
        kind=kind,
        metric=metric,
        cycle=state.cycle,
        level=level,
        at=at,
        reason=reason[:300],
        policy=policy,
        policy_version=policy.version if policy else state.policy_version,
        actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        data=data or {},
        delivered_at=delivered_at,
    )
    if save:
        event.save(force_insert=True)
    return event


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def settle(state: TicketSla, ticket: Ticket, ctx: Context, now: datetime) -> list[int]:
    """Record what fell due by `now` and was not yet recorded; returns escalation ids queued.

    Warnings and breaches are delivered at once (the caller's transaction carries the board
    event); escalations are queued for the processor, as the scan would.
    """
    from sla.services.outbox import deliver_events

    events: list[SlaEvent] = []
    queued: list[int] = []
    for metric in METRICS:
        if not ticking(state, metric):
            continue
        due = get(state, metric, "due_at")
        if get(state, metric, "warned_at") is None and get(state, metric, "warn_at") <= now:
            put(state, metric, "warned_at", now)
            events.append(
                add_event(
                    state,
                    kind=EventKind.WARNED,
                    metric=metric,
                    at=get(state, metric, "warn_at"),
                    reason=f"{LABEL[metric]} due at {iso(due)}: near breach",
                    data={"due_at": iso(due)},
                    ctx=ctx,
                )
            )
        if get(state, metric, "breached_at") is None and due <= now:
            put(state, metric, "breached_at", due)
            state.ever_breached = True
            events.append(
                add_event(
                    state,
                    kind=EventKind.BREACHED,
                    metric=metric,
                    at=due,
                    reason=f"{LABEL[metric]} target of {get(state, metric, 'target_seconds') // 60} business minutes passed",
                    data={"due_at": iso(due)},
                    ctx=ctx,
                )
            )
        esc_at = get(state, metric, "next_esc_at")
        if esc_at is not None and esc_at <= now and get(state, metric, "breached_at") is not None:
            escalation = queue_escalation(state, metric, ctx, due_at=esc_at)
            put(state, metric, "next_esc_at", None)
            if escalation is not None:
                queued.append(escalation.pk)
    if events:
        deliver_events(events, {ticket.pk: ticket}, now=now)
    return queued


def queue_escalation(
    state: TicketSla, metric: str, ctx: Context, *, due_at: datetime
) -> SlaEscalation | None:
    """A pending escalation row for the metric's next level (None if that level already exists)."""
    level = get(state, metric, "esc_level") + 1
    step = level_spec(ctx, level)
    escalation, created = SlaEscalation.objects.get_or_create(
        ticket_id=state.ticket_id,
        metric=metric,
        cycle=state.cycle,
        level=level,
        defaults={
            "project_id": state.project_id,
            "due_at": due_at,
            "role": step["role"],
            "reassign": step["reassign"],
            "reason": "automatic",
        },
    )
    return escalation if created else None


def level_spec(ctx: Context, level: int) -> dict[str, Any]:
    """The chain's level (1-based); past the chain's end, the project's admins."""
    chain = ctx.chain
    if 1 <= level <= len(chain):
        return chain[level - 1]
    return {"after_minutes": 0, "role": "admin", "reassign": False}


def close_pause(state: TicketSla, ctx: Context, now: datetime) -> int:
    """End a pause: each running metric gets the paused business time added; returns it."""
    if state.paused_at is None:
        return 0
    paused = business_seconds_between(ctx.cal, state.paused_at, now)
    for metric in METRICS:
        if running(state, metric):
            put(state, metric, "paused_seconds", get(state, metric, "paused_seconds") + paused)
            schedule(state, metric, ctx)
            esc_at = get(state, metric, "next_esc_at")
            if get(state, metric, "breached_at") is not None and esc_at is not None:
                # A running chain waits out the pause too.
                put(state, metric, "next_esc_at", add_business_time(ctx.cal, esc_at, paused))
    state.paused_at = None
    return paused


def cancel_pending(state: TicketSla, now: datetime, *, metric: str | None = None) -> int:
    """Cancel queued, unprocessed escalations of the current cycle (one metric or all)."""
    filters = Q(ticket_id=state.ticket_id, cycle=state.cycle, processed_at__isnull=True)
    if metric is not None:
        filters &= Q(metric=metric)
    return SlaEscalation.objects.filter(filters).update(processed_at=now, outcome="cancelled")


def enqueue_escalations(ids: list[int]) -> None:
    """Process queued escalations after commit."""
    if ids:
        from sla.tasks import process_sla_escalations_task

        process_sla_escalations_task.delay_on_commit(ids)
