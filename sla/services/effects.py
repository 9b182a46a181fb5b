"""Side effects of SLA work written in bulk: watchers, audit rows, notifications, board events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from config.context import current_request
from notifications.bulk import bulk_insert
from notifications.recipients import BatchEvent
from notifications.services import record_board_events
from tickets.models import AuditLog, Ticket, Watcher

_PLAIN = (str, int, float, bool, type(None))


def _jsonable(value: Any) -> Any:
    """What a JSON round trip (as record_audit does it) gives; plain flat dicts are copied as is."""
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, _PLAIN) for k, v in value.items()
    ):
        return dict(value)
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


@dataclass
class Effects:
    """What processed levels cause beyond their own rows, written together by `flush`.

    New watchers, audit rows, notifications (`notify_ticket_events`) and board events (one
    statement per project, last: it locks the board counter). When the work changes tickets (escalations), a batch must
    hold at most one change per ticket (`process_escalations` splits a chunk into such waves), so
    that writing a ticket's effects at the end of the batch gives what writing them one by one gave.
    """

    watchers: list[Watcher] = field(default_factory=list)
    audits: list[AuditLog] = field(default_factory=list)
    notices: list[BatchEvent] = field(default_factory=list)
    board: dict[int, list[tuple[str, dict[str, Any], int | None]]] = field(default_factory=dict)

    def audit(self, *, actor: Any, action: str, ticket: Ticket, old: Any, new: Any) -> None:
        # As tickets.audit.record_audit writes it (IP and request id from the request context).
        facts = current_request.get()
        self.audits.append(
            AuditLog(
                actor=actor
                if actor is not None and getattr(actor, "is_authenticated", False)
                else None,
                action=action,
                project_id=ticket.project_id,
                ticket_id=ticket.pk,
                payload={"old": _jsonable(old or {}), "new": _jsonable(new or {})},
                ip_address=facts.ip_address,
                request_id=facts.request_id,
            )
        )

    def flush(self) -> None:
        from notifications.dispatch import notify_ticket_events

        if self.watchers:
            Watcher.objects.bulk_create(self.watchers, ignore_conflicts=True)
        bulk_insert(self.audits)
        notify_ticket_events(self.notices)
        for project_id in sorted(self.board):
            record_board_events(project_id=project_id, events=self.board[project_id])
        self.watchers, self.audits, self.notices, self.board = [], [], [], {}
