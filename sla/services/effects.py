"""Side effects of SLA work written in bulk: watchers, audit rows, notifications, board events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from notifications.bulk import bulk_insert
from notifications.recipients import BatchEvent
from notifications.services import record_board_events
from tickets.audit import audit_row
from tickets.models import AuditLog, Ticket, Watcher


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
        self.audits.append(
            audit_row(
                actor=actor,
                action=action,
                project_id=ticket.project_id,
                ticket_id=ticket.pk,
                old=old,
                new=new,
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
