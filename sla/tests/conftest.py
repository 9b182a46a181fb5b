"""Fixtures of the SLA tests: tickets with their SLA row, instants relative to creation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from sla.models import TicketSla
from tests_support.factories import make_ticket
from tickets.models import Ticket

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def state_of(ticket: Ticket) -> TicketSla:
    return TicketSla.objects.get(ticket_id=ticket.pk)


def created(ticket: Ticket) -> datetime:
    """The instant the clocks started (the service's `now` at creation)."""
    return state_of(ticket).fr_started_at  # type: ignore[return-value]


@pytest.fixture
def ticket_for(desk: dict[str, Any]) -> Any:
    """Create a DESK ticket as the agent, with a priority."""

    def make(priority: str = "critical", **fields: Any) -> Ticket:
        return make_ticket(desk["project"], desk["agent"], priority=priority, **fields)

    return make


def restart_at(ticket: Ticket, now: datetime) -> TicketSla:
    """Start the ticket's clocks again as if it had been created at `now`."""
    from django.db import transaction

    from sla.models import SlaEvent
    from sla.services import start_ticket_sla

    with transaction.atomic():
        TicketSla.objects.filter(ticket_id=ticket.pk).delete()
        SlaEvent.objects.filter(ticket_id=ticket.pk).delete()
        locked = (
            Ticket.objects.select_for_update().select_related("project", "status").get(pk=ticket.pk)
        )
        start_ticket_sla(ticket=locked, now=now)
    return state_of(ticket)


def move_at(ticket: Ticket, status_key: str, now: datetime) -> Ticket:
    """Change the status the way the ticket services do, with the SLA hook at `now`."""
    from django.db import transaction

    from sla.services import status_changed
    from tickets.models import Status
    from tickets.services.workflow import apply_status

    with transaction.atomic():
        locked = (
            Ticket.objects.select_for_update().select_related("project", "status").get(pk=ticket.pk)
        )
        old = locked.status
        fields = apply_status(locked, Status.objects.get(key=status_key), now=now)
        locked.save(update_fields=fields)
        status_changed(ticket=locked, old_status=old, now=now)
    return locked


def reply_at(ticket: Ticket, now: datetime) -> None:
    """The first public staff reply, at `now`."""
    from django.db import transaction

    from sla.services import first_response

    with transaction.atomic():
        locked = (
            Ticket.objects.select_for_update().select_related("project", "status").get(pk=ticket.pk)
        )
        locked.first_response_at = now
        locked.save(update_fields=["first_response_at"])
        first_response(ticket=locked, now=now)


def set_priority_at(ticket: Ticket, priority: str, now: datetime) -> None:
    """A priority change, at `now`."""
    from django.db import transaction

    from sla.services import retarget_ticket_sla

    with transaction.atomic():
        locked = (
            Ticket.objects.select_for_update().select_related("project", "status").get(pk=ticket.pk)
        )
        locked.priority = priority
        locked.save(update_fields=["priority"])
        retarget_ticket_sla(ticket=locked, now=now)


def kinds(ticket: Ticket) -> list[tuple[str, str]]:
    """The ticket's timeline as (type, metric) pairs, oldest first."""
    from sla.models import SlaEvent

    return list(
        SlaEvent.objects.filter(ticket_id=ticket.pk)
        .order_by("at", "id")
        .values_list("kind", "metric")
    )
