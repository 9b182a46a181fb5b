"""Delivering warnings and breaches: board event, notifications and audit, once per timeline row.

The scan only marks (one set-based statement per batch); the rows it writes are an outbox that
`relay_events` delivers in its own transaction, marking `delivered_at` with the effects, so a
relay that dies delivers nothing and the next one delivers everything exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from notifications.services import record_board_event
from sla.models import EventKind, SlaEvent
from tickets.audit import record_audit
from tickets.models import Ticket

BOARD_TYPE = {EventKind.WARNED: "sla.warning", EventKind.BREACHED: "sla.breached"}
RELAY_CHUNK = 200


def _notify(kind: str, ticket: Ticket, **extra: Any) -> None:
    from notifications.dispatch import notify_ticket_event

    notify_ticket_event(kind=kind, ticket=ticket, actor=None, **extra)


def deliver_events(
    events: Iterable[SlaEvent], tickets: dict[int, Ticket], *, now: datetime
) -> list[int]:
    """Board event + notification (+ audit for breaches) per warning/breach; marks them delivered."""
    delivered: list[int] = []
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
            record_audit(
                actor=None,
                action="ticket.sla_breached",
                project_id=ticket.project_id,
                ticket_id=ticket.pk,
                new={"metric": event.metric, "due_at": event.data.get("due_at")},
            )
        record_board_event(project_id=ticket.project_id, type=kind, data=data, ticket_id=ticket.pk)
        _notify(kind, ticket, extra_recipients=(), level=0, metric=event.metric)
        delivered.append(event.pk)
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
                for t in Ticket.objects.select_for_update(of=("self",))
                .select_related("project", "status", "assignee", "requester")
                .filter(pk__in={e.ticket_id for e in events})
                .order_by("pk")
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
