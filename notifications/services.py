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

from notifications.models import BoardEvent


def project_group(project_id: int) -> str:
    """The channel-layer group of a project's board."""
    return f"board.{project_id}"


def record_board_event(
    *, project_id: int, type: str, data: dict[str, Any], ticket_id: int | None = None
) -> BoardEvent:
    """Append an event with the project's next seq (call last in the transaction: it serialises).

    One round trip: the counter UPSERT (which keeps the counter row locked until commit) and the
    event insert are a single statement.
    """
    payload = json.dumps(data, cls=DjangoJSONEncoder)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH next AS (
                INSERT INTO notifications_boardeventcounter (project_id, last_seq) VALUES (%s, 1)
                ON CONFLICT (project_id) DO UPDATE
                SET last_seq = notifications_boardeventcounter.last_seq + 1
                RETURNING last_seq
            )
            INSERT INTO notifications_boardevent (project_id, seq, type, data, ticket_id, created_at)
            SELECT %s, next.last_seq, %s, %s::jsonb, %s, now() FROM next
            RETURNING id, seq, created_at
            """,
            [project_id, project_id, type, payload, ticket_id],
        )
        event_id, seq, created_at = cursor.fetchone()
    event = BoardEvent(
        id=event_id,
        project_id=project_id,
        seq=seq,
        type=type,
        data=json.loads(payload),
        ticket_id=ticket_id,
        created_at=created_at,
    )
    transaction.on_commit(lambda: push_board_event(event))
    return event


def current_seq(project_id: int) -> int:
    """The last committed seq of a project's board (0 before the first event)."""
    from notifications.models import BoardEventCounter

    row = BoardEventCounter.objects.filter(project_id=project_id).values_list("last_seq", flat=True)
    return row.first() or 0


def event_message(event: BoardEvent) -> dict[str, Any]:
    """The wire shape of an event, as pushed and as replayed."""
    return {
        "type": event.type,
        "seq": event.seq,
        "data": event.data,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
    }


def push_board_event(event: BoardEvent) -> None:
    """Fan the committed event out to the project's connected boards (best effort)."""
    from notifications.realtime import push_to_group

    wire = event_message(event)
    # Encoded once here rather than once per socket by every consumer.
    message = {"type": "board.event", "event": wire, "text": json.dumps(wire)}
    push_to_group(project_group(event.project_id), message)


def prune_board_events(*, older_than: datetime, keep_per_project: int) -> int:
    """Delete events older than a time or beyond the newest `keep_per_project` of each project."""
    deleted, _ = BoardEvent.objects.filter(created_at__lt=older_than).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            DELETE FROM notifications_boardevent e
            USING notifications_boardeventcounter c
            WHERE e.project_id = c.project_id AND e.seq <= c.last_seq - %s
            """,
            [keep_per_project],
        )
        deleted += cursor.rowcount
    return deleted


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
