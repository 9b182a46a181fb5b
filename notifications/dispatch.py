"""Turning ticket changes into in-app notifications, e-mails and webhook deliveries.

Interim: the entry points exist with their final signatures; the notifications issue fills them in
(in-app rows, e-mail tasks and the webhook outbox, all written in the caller's transaction).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tickets.models import Ticket, User


def notify_ticket_event(
    *,
    kind: str,
    ticket: Ticket,
    actor: Any,
    extra_recipients: Iterable[User] = (),
    **extra: Any,
) -> None:
    """Record who should hear about `kind` on `ticket` (called inside the service's transaction).

    `kind` is an event of the catalogue (`ticket.created`, `ticket.commented`, `sla.breached`, ...);
    `ticket.noted` is an internal note: staff only, never webhooks or customers.
    `extra_recipients` adds people beyond watchers/assignee/requester (e.g. an escalation role).
    """


def notify_project_event(*, kind: str, project_id: int, data: dict[str, Any], actor: Any = None) -> None:
    """A project-level event with no ticket (e.g. `export.succeeded`) for webhooks and admins."""
