"""The SLA engine's write path, called by ticket services inside their transactions.

Interim (issue 2-4 scope): the hooks exist with their final signatures; manual escalation and
acknowledgement are real (they are part of the lifecycle issue). The SLA issue fills in the clocks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from notifications.services import record_board_event
from tickets.audit import record_audit
from tickets.models import Project, Status, Ticket


def create_default_policies(*, project: Project) -> None:
    """Seed a new project's SLA policies (filled in by the SLA engine)."""


def start_ticket_sla(*, ticket: Ticket, now: datetime) -> None:
    """A ticket was created: start its clocks."""


def retarget_ticket_sla(*, ticket: Ticket, now: datetime) -> None:
    """The priority changed: re-target the due instants."""


def status_changed(*, ticket: Ticket, old_status: Status, now: datetime) -> None:
    """The status changed: pause, resume, meet or restart clocks."""


def first_response(*, ticket: Ticket, now: datetime) -> None:
    """The first public staff reply: the first-response target is met."""


def ticket_archived(*, ticket: Ticket, now: datetime) -> None:
    """An archived ticket stops counting."""


def escalate_manually(*, ticket: Ticket, actor: Any, reason: str, now: datetime) -> None:
    """Raise the ticket one escalation level (caller holds the ticket's row lock)."""
    old = ticket.escalation_level
    ticket.escalation_level = old + 1
    ticket.save(update_fields=["escalation_level", "updated_at"])
    record_audit(
        actor=actor,
        action="ticket.escalated",
        project_id=ticket.project_id,
        ticket_id=ticket.pk,
        old={"escalation_level": old},
        new={"escalation_level": ticket.escalation_level, "reason": reason, "manual": True},
    )
    record_board_event(
        project_id=ticket.project_id,
        type="sla.escalated",
        data={"id": ticket.pk, "key": ticket.key, "level": ticket.escalation_level, "manual": True},
        ticket_id=ticket.pk,
    )


def acknowledge(*, ticket: Ticket, actor: Any, now: datetime) -> None:
    """Stop the escalation chain at its current level."""
    record_audit(
        actor=actor,
        action="ticket.acknowledged",
        project_id=ticket.project_id,
        ticket_id=ticket.pk,
        new={"escalation_level": ticket.escalation_level},
    )
