"""Delivering warnings and breaches: board event, notifications and audit, once per timeline row.

The scan only marks (one set-based statement per batch); the rows it writes are an outbox that
`relay_events` delivers in its own transaction, marking `delivered_at` with the effects, so a
relay that dies delivers nothing and the next one delivers everything exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from notifications.recipients import BatchEvent
from sla.models import EventKind, SlaEvent
from sla.services.effects import Effects
from tickets.models import Ticket
from tickets.selectors import locked_tickets

BOARD_TYPE = {EventKind.WARNED: "sla.warning", EventKind.BREACHED: "sla.breached"}
RELAY_CHUNK = 200


def deliver_events(
    events: Iterable[SlaEvent], tickets: dict[int, Ticket], *, now: datetime
) -> list[int]:
    """Board event + notification (+ audit for breaches) per warning/breach; marks them delivered.

    Written in bulk (`Effects`): nothing here changes a ticket, so the batch equals one by one.
    """
    delivered: list[int] = []
    effects = Effects()
    for event in events:
        ticket = tickets.get(event.ticket_id)
        kind = BOARD_TYPE.get(event.kind)  # type: ignore[call-overload]
        if ticket is None or kind is None:
            continue
        key = f"{ticket.project.key}-{ticket.number}"
        data = {
            "id": ticket.pk,
            "key": key,
            "metric": event.metric,
            "due_at": event.data.get("due_at"),
            "cycle": event.cycle,
        }
        if event.kind == EventKind.BREACHED:
            effects.audit(
                actor=None,
                action="ticket.sla_breached",
                ticket=ticket,
                old=None,
                new={"metric": event.metric, "due_at": event.data.get("due_at")},
            )
        effects.board.setdefault(ticket.project_id, []).append((kind, data, ticket.pk))
        effects.notices.append(
            BatchEvent(kind=kind, ticket=ticket, extra={"level": 0, "metric": event.metric})
        )
        delivered.append(event.pk)
    effects.flush()
    if delivered:
        SlaEvent.objects.filter(pk__in=delivered).update(delivered_at=now)
    return delivered


def relay_events(*, event_ids: Sequence[int], now: datetime | None = None) -> int:
    """Deliver the given undelivered warnings/breaches (already delivered ones are skipped)."""
    done = 0
    ids = sorted(set(event_ids))
    for start in range(0, len(ids), RELAY_CHUNK):
        chunk = ids[start : start + RELAY_CHUNK]
        with transaction.atomic():
            # SKIP LOCKED: a twin relay holding a row delivers it; we never wait for it.
            events = list(
                SlaEvent.objects.select_for_update(skip_locked=True)
                .filter(pk__in=chunk, delivered_at__isnull=True)
                .order_by("pk")
            )
            if not events:
                continue
            # Tickets before the board counter, in id order, as every ticket writer locks them:
            # the notification rows' FK checks would otherwise wait on a writer waiting on us.
            tickets = {
                t.pk: t
                for t in locked_tickets(
                    {e.ticket_id for e in events}, "project", "status", "assignee", "requester"
                )
            }
            done += len(deliver_events(events, tickets, now=now or timezone.now()))
    return done


def undelivered_event_ids(*, older_than: datetime, limit: int = 5000) -> list[int]:
    """Warnings/breaches a relay should have delivered by now (a lost task, a crashed worker)."""
    return list(
        SlaEvent.objects.filter(delivered_at__isnull=True, recorded_at__lt=older_than)
        .order_by("recorded_at")
        .values_list("pk", flat=True)[:limit]
    )
