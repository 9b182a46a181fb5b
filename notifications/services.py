"""Board events: the sequenced, replayable log of what a project's board shows.

`record_board_event` is called by every service that changes what a board shows, inside its
transaction. The counter row stays locked until commit, so events commit in `seq` order and a
reader never sees seq N+1 without N. The push to connected clients happens after commit; the row
is the truth, the channel layer only speeds delivery up.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection, transaction

from notifications.models import BoardEvent


def project_group(project_id: int) -> str:
    """The channel-layer group of a project's board."""
    return f"board.{project_id}"


def record_board_event(
    *, project_id: int, type: str, data: dict[str, Any], ticket_id: int | None = None
) -> BoardEvent:
    """Append an event with the project's next seq (call last in the transaction: it serialises)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO notifications_boardeventcounter (project_id, last_seq) VALUES (%s, 1) "
            "ON CONFLICT (project_id) DO UPDATE "
            "SET last_seq = notifications_boardeventcounter.last_seq + 1 RETURNING last_seq",
            [project_id],
        )
        seq = cursor.fetchone()[0]
    event = BoardEvent.objects.create(
        project_id=project_id, seq=seq, type=type, data=data, ticket_id=ticket_id
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

    push_to_group(
        project_group(event.project_id), {"type": "board.event", "event": event_message(event)}
    )


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
