"""The outbox relay's claim: pending rows no task is known to hold, re-stamped so two relays never
hand out the same row at once (shared by e-mail and webhook deliveries)."""

from __future__ import annotations

from typing import Literal

from django.conf import settings
from django.db import connection, transaction

from notifications import sql

OutboxTable = Literal["notifications_emaildelivery", "notifications_webhookdelivery"]


def claim_for_relay(table: OutboxTable, *, limit: int) -> list[int]:
    """Ids of pending rows whose relay time has come, marked as re-queued now."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            sql.claim_for_relay(table),
            {"grace": float(settings.OUTBOX_RELAY_GRACE_SECONDS), "limit": limit},
        )
        return [row[0] for row in cursor.fetchall()]
