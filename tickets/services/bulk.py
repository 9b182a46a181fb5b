"""Bulk actions: one action on many tickets, each through its own service and transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from config.api import DomainError, Forbidden, InvalidInput
from tickets.models import Role, User
from tickets.permissions import has_role
from tickets.selectors import get_visible_ticket
from tickets.services.tickets import archive_ticket, assign_ticket, update_ticket

BULK_ACTIONS = ("assign", "set_status", "set_priority", "archive")
BULK_MAX = 500


def bulk_update(*, actor: Any, ids: Sequence[Any], action: str, value: Any) -> list[dict[str, Any]]:
    """Apply one action to many tickets; each in its own transaction, so one failure sinks only itself."""
    if action not in BULK_ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(BULK_ACTIONS)}.")
    if not isinstance(ids, list) or not ids:
        raise InvalidInput("ids must be a non-empty list of ticket ids.")
    if len(ids) > BULK_MAX:
        raise InvalidInput(f"At most {BULK_MAX} tickets per bulk request.")
    assignee: User | None = None
    if action == "assign" and value is not None:
        assignee = (
            User.objects.filter(username=value, is_active=True).first()
            if isinstance(value, str)
            else None
        )
        if assignee is None:
            raise InvalidInput(f"Unknown user {value!r}.")
    results: list[dict[str, Any]] = []
    for raw in dict.fromkeys(ids):
        try:
            ticket_id = int(raw)
        except (TypeError, ValueError):
            results.append(
                {
                    "id": raw,
                    "ok": False,
                    "error": {"code": "validation_error", "message": "Not a ticket id."},
                }
            )
            continue
        try:
            ticket = get_visible_ticket(actor, ticket_id)
            if not has_role(actor, ticket.project, Role.LEAD):
                raise Forbidden("Bulk actions are for leads, managers and admins.")
            if action == "assign":
                assign_ticket(actor=actor, ticket_id=ticket_id, assignee=assignee, reason="bulk")
            elif action == "set_status":
                update_ticket(actor=actor, ticket_id=ticket_id, changes={"status": value})
            elif action == "set_priority":
                update_ticket(actor=actor, ticket_id=ticket_id, changes={"priority": value})
            else:
                archive_ticket(actor=actor, ticket_id=ticket_id)
            results.append({"id": ticket_id, "ok": True, "error": None})
        except DomainError as exc:
            results.append(
                {"id": ticket_id, "ok": False, "error": {"code": exc.code, "message": exc.message}}
            )
    return results
