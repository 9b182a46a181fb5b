"""Board events: the sequenced, replayable log of what a project's board shows.

`record_board_event` is called by every service that changes what a board shows, inside its
transaction. The counter row stays locked until commit, so events commit in `seq` order and a
reader never sees seq N+1 without N. The push to connected clients happens after commit; the row
is the truth, the channel layer only speeds delivery up.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery

from notifications import sql
from notifications.models import BoardEvent, BoardEventCounter


def project_group(project_id: int) -> str:
    """The channel-layer group of a project's board."""
    return f"board.{project_id}"


def event_actor(actor: Any) -> dict[str, str] | None:
    """The acting user as a board event names them; None for system and beat work."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    return {"username": actor.username, "full_name": actor.full_name}


def record_board_event(
    *,
    project_id: int,
    type: str,
    data: dict[str, Any],
    actor: Any,
    ticket_id: int | None = None,
    client_mutation_id: str | None = None,
) -> BoardEvent:
    """Append an event with the project's next seq (call last in the transaction: it serialises).

    One statement: the counter UPSERT (which keeps the counter row locked until commit) and the
    event insert. The push to connected boards runs after commit.
    """
    payload = json.dumps(data, cls=DjangoJSONEncoder)
    event = BoardEvent(
        project_id=project_id,
        type=type,
        data=json.loads(payload),
        ticket_id=ticket_id,
        actor=event_actor(actor),
        client_mutation_id=client_mutation_id,
    )
    actor_json = json.dumps(event.actor) if event.actor else None
    params: list[Any] = [project_id, project_id, type, payload, ticket_id, actor_json]
    params.append(client_mutation_id)
    with connection.cursor() as cursor:
        cursor.execute(sql.RECORD_EVENT, params)
        event.id, event.seq, event.created_at = cursor.fetchone()
    transaction.on_commit(lambda: push_board_event(event))
    return event


def record_board_events(
    *, project_id: int, events: list[tuple[str, dict[str, Any], int | None]]
) -> list[BoardEvent]:
    """`record_board_event` for many `(type, data, ticket_id)` events of one project, in order.

    One statement takes the next len(events) seqs and inserts the rows; one after-commit hook
    pushes them in seq order. Same rule: call it last in the transaction (it locks the counter).
    """
    if not events:
        return []
    payloads = [json.dumps(data, cls=DjangoJSONEncoder) for _, data, _ in events]
    n = len(events)
    with connection.cursor() as cursor:
        cursor.execute(
            sql.RECORD_EVENTS,
            {
                "project": project_id,
                "n": n,
                # One JSON document rather than three arrays (see notifications.bulk).
                "events": json.dumps(
                    [
                        {"type": type_, "data": data, "ticket_id": ticket_id}
                        for type_, data, ticket_id in events
                    ],
                    cls=DjangoJSONEncoder,
                ),
            },
        )
        rows = sorted(cursor.fetchall(), key=lambda row: row[1])
    out = [
        BoardEvent(
            id=event_id,
            project_id=project_id,
            seq=seq,
            type=type_,
            data=json.loads(payload),
            ticket_id=ticket_id,
            created_at=created_at,
        )
        for (event_id, seq, created_at), (type_, _, ticket_id), payload in zip(
            rows, events, payloads, strict=True
        )
    ]

    transaction.on_commit(lambda: push_board_events(out))
    return out


def current_seq(project_id: int) -> int:
    """The last committed seq of a project's board (0 before the first event)."""
    row = BoardEventCounter.objects.filter(project_id=project_id).values_list("last_seq", flat=True)
    return row.first() or 0


def event_message(event: BoardEvent) -> dict[str, Any]:
    """The wire shape of an event, as pushed and as replayed."""
    return {
        "type": event.type,
        "seq": event.seq,
        "data": event.data,
        "actor": event.actor,
        "client_mutation_id": event.client_mutation_id,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
    }


def push_board_event(event: BoardEvent) -> None:
    """Fan the committed event out to the project's connected boards (best effort)."""
    from notifications.realtime import push_to_group

    def message() -> dict[str, Any]:
        wire = event_message(event)
        # Encoded once here rather than once per socket by every consumer.
        return {"type": "board.event", "event": wire, "text": json.dumps(wire)}

    # Built on the publisher thread: the request that made the event does not wait for it.
    push_to_group(project_group(event.project_id), message)


PUSH_BATCH = 100


def push_board_events(events: list[BoardEvent]) -> None:
    """Fan committed events of one project out in seq order, up to PUSH_BATCH per message.

    One channel-layer message (`board.events`) carries several events; each socket handles them
    one by one exactly as single `board.event` pushes (`BoardConsumer.board_events`).
    """
    for start in range(0, len(events), PUSH_BATCH):
        chunk = events[start : start + PUSH_BATCH]
        if len(chunk) == 1:
            push_board_event(chunk[0])
            continue
        from notifications.realtime import push_to_group

        wires = [event_message(event) for event in chunk]
        push_to_group(
            project_group(chunk[0].project_id),
            {"type": "board.events", "events": wires, "texts": [json.dumps(w) for w in wires]},
        )


def prune_board_events(*, older_than: datetime, keep_per_project: int) -> int:
    """Delete events older than a time or beyond the newest `keep_per_project` of each project."""
    deleted, _ = BoardEvent.objects.filter(created_at__lt=older_than).delete()
    last_seq = BoardEventCounter.objects.filter(project_id=OuterRef("project_id")).values(
        "last_seq"
    )
    beyond, _ = BoardEvent.objects.filter(
        seq__lte=Subquery(last_seq[:1]) - keep_per_project
    ).delete()
    return deleted + beyond


def oldest_retained_seq(project_id: int) -> int | None:
    """The smallest seq still in the log (None when the log is empty)."""
    return (
        BoardEvent.objects.filter(project_id=project_id)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )


def events_between(*, project_id: int, after: int, upto: int) -> list[dict[str, Any]]:
    """The wire shapes of events `after < seq <= upto`, in order.

    Raises ResyncRequired when any of them is no longer in the log (pruned): a client that misses
    one event cannot patch its board, it must reload it.
    """
    from config.api import ResyncRequired

    if upto <= after:
        return []
    rows = list(
        BoardEvent.objects.filter(project_id=project_id, seq__gt=after, seq__lte=upto).order_by(
            "seq"
        )
    )
    # Seqs are unique, so the right count means no hole anywhere in the range.
    if len(rows) != upto - after:
        raise ResyncRequired(
            "Some of the events you missed are no longer retained; reload the board.",
            details={"seq": upto, "after": after, "oldest": oldest_retained_seq(project_id)},
        )
    return [event_message(row) for row in rows]


def missed_events(*, project_id: int, after: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
    """The current seq and up to `limit` events after `after` (ResyncRequired when they are gone).

    `after` beyond the current seq also needs a resync: the client's board is from another log
    (a restored database, another server).
    """
    from config.api import ResyncRequired

    current = current_seq(project_id)
    if after > current:
        raise ResyncRequired(
            "Your board is ahead of the server's event log; reload the board.",
            details={"seq": current, "after": after},
        )
    return current, events_between(
        project_id=project_id, after=after, upto=min(current, after + limit)
    )
