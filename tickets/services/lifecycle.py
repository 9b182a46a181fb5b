"""Resolve with a summary and reopen: the ticket page's two lifecycle actions, each one
`update_ticket` (the workflow, WIP, SLA, audit, events and notifications all apply) plus the
rules of the action itself, in one transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from config.api import DomainError, InvalidInput
from tickets.audit import record_audit
from tickets.models import Role, StatusCategory, Ticket
from tickets.permissions import require_role
from tickets.selectors import get_visible_ticket
from tickets.services.tickets import update_ticket
from tickets.services.workflow import status_by_key

SUMMARY_MAX = 20_000


def _field_error(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", details={"fields": {field: [message]}})


def _target(key: str, *, done: bool) -> None:
    try:
        status = status_by_key(key)
    except InvalidInput:
        raise _field_error("status", f"Unknown status {key!r}.") from None
    if (status.category == StatusCategory.DONE) != done:
        kind = "a done" if done else "an open (not done)"
        raise _field_error("status", f"{status.key} is not {kind} status.")


def resolve_ticket(*, actor: Any, ticket_id: int, summary: str, status: str = "resolved") -> Ticket:
    """Move the ticket to a done status with its resolution summary (agents and up)."""
    summary = (summary or "").strip()
    if not summary:
        raise _field_error("summary", "Say how the ticket was resolved.")
    if len(summary) > SUMMARY_MAX:
        raise _field_error("summary", f"At most {SUMMARY_MAX} characters.")
    _target(status, done=True)
    ticket = get_visible_ticket(actor, ticket_id)
    require_role(actor, ticket.project, Role.AGENT, "resolve tickets")
    if ticket.status.category == StatusCategory.DONE:
        raise DomainError(f"{ticket.key} is already {ticket.status.name}; reopen it first.")
    return update_ticket(
        actor=actor,
        ticket_id=ticket.pk,
        changes={"status": status, "resolution_summary": summary},
    )


def reopen_ticket(*, actor: Any, ticket_id: int, reason: str = "", status: str = "open") -> Ticket:
    """Bring a done ticket back to an open status (agents and up), with the reason audited."""
    _target(status, done=False)
    ticket = get_visible_ticket(actor, ticket_id)
    require_role(actor, ticket.project, Role.AGENT, "reopen tickets")
    if ticket.status.category != StatusCategory.DONE:
        raise DomainError(f"{ticket.key} is not resolved ({ticket.status.name}).")
    old_status = ticket.status.key
    with transaction.atomic():
        ticket = update_ticket(actor=actor, ticket_id=ticket.pk, changes={"status": status})
        record_audit(
            actor=actor,
            action="ticket.reopened",
            project_id=ticket.project_id,
            ticket_id=ticket.pk,
            old={"status": old_status},
            new={"status": ticket.status.key, "reason": (reason or "").strip()[:500]},
        )
    return ticket
