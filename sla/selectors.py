"""SLA reads used by the ticket API, list filters, ordering and stats.

Interim (until the SLA engine lands): every ticket reports `no_sla`. The signatures are final;
the ticket API calls these and nothing else of the SLA app.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from tickets.models import Ticket

SLA_STATES = ("on_track", "near_breach", "breached", "paused", "met", "no_sla")


def with_sla(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Add what `sla_object` needs (select_related/prefetch) so lists keep a fixed query count."""
    return queryset


def sla_object(ticket: Ticket, *, now: datetime) -> dict[str, Any]:
    """The ticket's `sla` object of the contract."""
    return {
        "policy": None,
        "state": "no_sla",
        "first_response_due_at": None,
        "resolution_due_at": None,
        "paused": False,
        "escalation_level": ticket.escalation_level,
        "breached": False,
    }


def filter_sla_state(queryset: QuerySet[Ticket], states: list[str], *, now: datetime) -> QuerySet[Ticket]:
    """Tickets whose SLA state is one of `states`."""
    return queryset if "no_sla" in states else queryset.none()


def order_by_sla_due(queryset: QuerySet[Ticket], *, descending: bool) -> QuerySet[Ticket]:
    """Order by the next due instant (nulls last), then id."""
    return queryset.order_by("-id" if descending else "id")


def sla_stats(queryset: QuerySet[Ticket], *, now: datetime) -> dict[str, Any]:
    """The `sla` block of the stats endpoint, by database aggregation."""
    return {
        "on_track": 0,
        "near_breach": 0,
        "breached": 0,
        "paused": 0,
        "first_response_met_pct": None,
        "resolution_met_pct": None,
    }


def annotate_sla_due(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Annotate `sla_due_sort`: the next due instant, never null (far future when none), for ordering."""
    from datetime import UTC
    from datetime import datetime as dt

    from django.db.models import DateTimeField, Value

    return queryset.annotate(sla_due_sort=Value(dt(9999, 12, 31, tzinfo=UTC), output_field=DateTimeField()))
