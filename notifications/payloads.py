"""What an event says about a ticket, in-app, by e-mail and in a webhook body.

Only what a customer of the ticket may see goes into these shapes: internal notes never do (the
`ticket.noted` kind carries a note only to staff in-app, see `notifications.dispatch`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import models

from tickets.models import Message, Ticket, User

EXCERPT_CHARS = 280


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, as the API writes timestamps."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def username_of(ticket: Ticket, field: str, known: Mapping[int, User]) -> str | None:
    """The username behind a ticket's user field without a query when the user is at hand."""
    user_id = getattr(ticket, f"{field}_id")
    if user_id is None:
        return None
    descriptor = getattr(Ticket, field)
    if descriptor.is_cached(ticket):
        user = getattr(ticket, field)
        return user.username if user is not None else None
    if user_id in known:
        return known[user_id].username
    return User.objects.filter(pk=user_id).values_list("username", flat=True).first()


def ticket_payload(ticket: Ticket, known_users: Mapping[int, User] | None = None) -> dict[str, Any]:
    """A ticket as events describe it (no description, no conversation)."""
    known = known_users or {}
    return {
        "id": ticket.pk,
        "key": f"{ticket.project.key}-{ticket.number}",
        "project": ticket.project.key,
        "number": ticket.number,
        "title": ticket.title,
        "status": ticket.status.key,
        "status_name": ticket.status.name,
        "status_category": ticket.status.category,
        "priority": ticket.priority,
        "category": ticket.category,
        "tags": list(ticket.tags or []),
        "assignee": username_of(ticket, "assignee", known),
        "requester": username_of(ticket, "requester", known),
        "is_archived": ticket.is_archived,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
    }


def message_payload(message: Message, *, excerpt: bool = False) -> dict[str, Any]:
    """A public message (callers never pass an internal note to a customer-visible channel)."""
    body = message.body
    if excerpt and len(body) > EXCERPT_CHARS:
        body = body[: EXCERPT_CHARS - 1] + "\u2026"
    author = message.author if Message.author.is_cached(message) else None
    return {
        "id": message.pk,
        "body": body,
        "author": author.username if author is not None else None,
        "internal": message.internal,
        "created_at": iso(message.created_at),
    }


def jsonable(value: Any) -> Any:
    """Extra event fields made JSON-safe: users become usernames, rows their ids."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, User):
        return value.username
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)
