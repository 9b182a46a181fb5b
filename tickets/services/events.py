"""What a ticket change tells the board and the notification pipeline."""

from __future__ import annotations

from typing import Any

from tickets.models import Ticket


def ticket_event_data(ticket: Ticket) -> dict[str, Any]:
    """The small, safe board-event payload of a ticket (no description, no conversation)."""
    return {
        "id": ticket.pk,
        "key": f"{ticket.project.key}-{ticket.number}",
        "title": ticket.title,
        "status": ticket.status.key,
        "status_category": ticket.status.category,
        "rank": ticket.rank,
        "priority": ticket.priority,
        "category": ticket.category,
        "assignee": ticket.assignee.username if ticket.assignee_id and ticket.assignee else None,
        "is_archived": ticket.is_archived,
        "escalation_level": ticket.escalation_level,
        "updated_at": ticket.updated_at.isoformat().replace("+00:00", "Z")
        if ticket.updated_at
        else None,
    }


def notify(kind: str, ticket: Ticket, actor: Any, **extra: Any) -> None:
    """Hand a ticket event to the notification pipeline (in-app, e-mail, webhooks)."""
    from notifications.dispatch import notify_ticket_event

    notify_ticket_event(kind=kind, ticket=ticket, actor=actor, **extra)
