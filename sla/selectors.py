"""SLA reads used by the ticket API, list filters, ordering and stats, and the timeline.

The state is computed from stored columns and `now`, in Python for one ticket (`sla_object`) and
as SQL conditions for many (`filter_sla_state`, `sla_stats`); `state_conditions` is the one
definition both follow, and a test checks they agree.

States, in precedence order: no_sla (no policy, or archived) > breached (a breach recorded in the
current cycle, or a ticking target past due) > paused > met (nothing left running) >
near_breach > on_track.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, DateTimeField, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from sla.models import METRICS, SlaEvent, TicketSla
from sla.services.state import get, iso, running
from tickets.models import Ticket

SLA_STATES = ("on_track", "near_breach", "breached", "paused", "met", "no_sla")


def state_conditions(now: datetime, prefix: str = "sla_state__") -> dict[str, Q]:
    """One Q per state (mutually exclusive) plus `has_sla`, over TicketSla columns via `prefix`."""

    def q(**kwargs: Any) -> Q:
        return Q(**{f"{prefix}{k}": v for k, v in kwargs.items()})

    has_sla = q(pk__isnull=False) & q(policy_id__isnull=False) & q(stopped_at__isnull=True)
    no_sla = q(pk__isnull=True) | q(policy_id__isnull=True) | q(stopped_at__isnull=False)
    if prefix:
        # Through the ticket: an archived ticket has no SLA even before its row is stopped.
        has_sla &= Q(is_archived=False)
        no_sla |= Q(is_archived=True)
    unpaused = q(paused_at__isnull=True)
    run = {m: q(**{f"{p}_due_at__isnull": False, f"{p}_met_at__isnull": True}) for m, p in _P}
    idle = {
        m: q(**{f"{p}_due_at__isnull": True}) | q(**{f"{p}_met_at__isnull": False}) for m, p in _P
    }
    overdue = {m: run[m] & q(**{f"{p}_due_at__lte": now}) for m, p in _P}
    not_overdue = {m: idle[m] | q(**{f"{p}_due_at__gt": now}) for m, p in _P}
    near = {m: run[m] & q(**{f"{p}_warn_at__lte": now}) for m, p in _P}
    not_near = {m: idle[m] | q(**{f"{p}_warn_at__gt": now}) for m, p in _P}
    recorded = (q(fr_breached_at__isnull=False) & q(cycle=1)) | q(res_breached_at__isnull=False)
    not_recorded = (q(fr_breached_at__isnull=True) | q(cycle__gt=1)) & q(
        res_breached_at__isnull=True
    )
    fr, res = METRICS
    breached = has_sla & (recorded | (unpaused & (overdue[fr] | overdue[res])))
    clean = has_sla & not_recorded
    paused = clean & q(paused_at__isnull=False)
    live = clean & unpaused & not_overdue[fr] & not_overdue[res]
    return {
        "has_sla": has_sla,
        "no_sla": no_sla,
        "breached": breached,
        "paused": paused,
        "met": live & idle[fr] & idle[res],
        "near_breach": live & (near[fr] | near[res]),
        "on_track": live & (run[fr] | run[res]) & not_near[fr] & not_near[res],
    }


_P = (("first_response", "fr"), ("resolution", "res"))


def with_sla(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Join the SLA row so `sla_object` needs no query per ticket."""
    return queryset.select_related("sla_state")


def _state_row(ticket: Ticket) -> TicketSla | None:
    relation = Ticket.sla_state.related
    if relation.is_cached(ticket):
        # Known absent rows are cached as None; the accessor would raise (and building that
        # exception costs more than the rest of a board card).
        cached = relation.get_cached_value(ticket)
        return cached if isinstance(cached, TicketSla) else None
    try:
        return ticket.sla_state
    except TicketSla.DoesNotExist:
        return None


def state_of(ticket: Ticket, state: TicketSla | None, *, now: datetime) -> str:
    """The ticket's SLA state at `now` (same rules as `state_conditions`)."""
    if state is None or state.policy_id is None or state.stopped_at or ticket.is_archived:
        return "no_sla"
    recorded = (state.fr_breached_at is not None and state.cycle == 1) or (
        state.res_breached_at is not None
    )
    ticking = [m for m in METRICS if running(state, m)]
    if recorded or (
        state.paused_at is None and any(get(state, m, "due_at") <= now for m in ticking)
    ):
        return "breached"
    if state.paused_at is not None:
        return "paused"
    if not ticking:
        return "met"
    if any(get(state, m, "warn_at") <= now for m in ticking):
        return "near_breach"
    return "on_track"


def sla_object(ticket: Ticket, *, now: datetime) -> dict[str, Any]:
    """The ticket's `sla` object of the contract; `policy` is the policy id (null: no SLA)."""
    state = _state_row(ticket)
    current = state_of(ticket, state, now=now)
    has = current != "no_sla" and state is not None
    return {
        "policy": state.policy_id if has and state else None,
        "state": current,
        "first_response_due_at": iso(state.fr_due_at) if has and state else None,
        "resolution_due_at": iso(state.res_due_at) if has and state else None,
        "paused": bool(has and state and state.paused_at is not None),
        "escalation_level": ticket.escalation_level,
        "breached": current == "breached" or bool(state and state.ever_breached),
    }


def filter_sla_state(
    queryset: QuerySet[Ticket], states: list[str], *, now: datetime
) -> QuerySet[Ticket]:
    """Tickets whose SLA state at `now` is one of `states` (unknown names match nothing)."""
    conditions = state_conditions(now)
    wanted = Q(pk__in=[])
    for name in states:
        if name in SLA_STATES:
            wanted |= conditions[name]
    return queryset.filter(wanted)


def order_by_sla_due(queryset: QuerySet[Ticket], *, descending: bool) -> QuerySet[Ticket]:
    """Order by the next running due instant (tickets without one last), then id."""
    due = F("sla_state__next_due_at")
    if descending:
        return queryset.order_by(due.desc(nulls_last=True), "-id")
    return queryset.order_by(due.asc(nulls_last=True), "id")


#: Sorts after every real due instant, so the cursor paginator never meets a NULL.
NO_DUE = datetime(9999, 12, 31, tzinfo=UTC)


def annotate_sla_due(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Annotate `sla_due_sort`: the next running due instant, never null (far future when none)."""
    return queryset.annotate(
        sla_due_sort=Coalesce(
            F("sla_state__next_due_at"), Value(NO_DUE, output_field=DateTimeField())
        )
    )


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def sla_stats(queryset: QuerySet[Ticket], *, now: datetime) -> dict[str, Any]:
    """The `sla` block of the stats endpoint: one aggregate query."""
    c = state_conditions(now)
    has_sla = c["has_sla"]
    fr_on_time = Q(sla_state__fr_met_at__isnull=False, sla_state__fr_breached_at__isnull=True)
    fr_missed = Q(sla_state__fr_breached_at__isnull=False) | (
        Q(sla_state__paused_at__isnull=True)
        & Q(sla_state__fr_met_at__isnull=True, sla_state__fr_due_at__lte=now)
    )
    res_on_time = Q(sla_state__res_met_at__isnull=False, sla_state__res_breached_at__isnull=True)
    res_missed = Q(sla_state__res_breached_at__isnull=False) | (
        Q(sla_state__paused_at__isnull=True)
        & Q(sla_state__res_met_at__isnull=True, sla_state__res_due_at__lte=now)
    )
    row = queryset.aggregate(
        on_track=Count("pk", filter=c["on_track"]),
        near_breach=Count("pk", filter=c["near_breach"]),
        breached=Count("pk", filter=c["breached"]),
        paused=Count("pk", filter=c["paused"]),
        fr_on_time=Count("pk", filter=has_sla & fr_on_time),
        fr_missed=Count("pk", filter=has_sla & fr_missed),
        res_on_time=Count("pk", filter=has_sla & res_on_time),
        res_missed=Count("pk", filter=has_sla & res_missed),
    )
    return {
        "on_track": row["on_track"],
        "near_breach": row["near_breach"],
        "breached": row["breached"],
        "paused": row["paused"],
        "first_response_met_pct": _pct(row["fr_on_time"], row["fr_on_time"] + row["fr_missed"]),
        "resolution_met_pct": _pct(row["res_on_time"], row["res_on_time"] + row["res_missed"]),
    }


def timeline(ticket: Ticket) -> QuerySet[SlaEvent]:
    """The ticket's SLA timeline, oldest first."""
    return SlaEvent.objects.filter(ticket_id=ticket.pk).select_related("actor").order_by("at", "id")
