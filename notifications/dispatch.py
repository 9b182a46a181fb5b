"""Turning ticket changes into notifications, e-mails and webhook deliveries.

Interim: the entry point exists with its final signature; the notifications issue fills it in
(in-app rows, e-mail tasks and the webhook outbox, all written in the caller's transaction).
"""

from __future__ import annotations

from typing import Any

from tickets.models import Ticket


def notify_ticket_event(*, kind: str, ticket: Ticket, actor: Any, **extra: Any) -> None:
    """Record who should hear about `kind` on `ticket` (called inside the service's transaction)."""
