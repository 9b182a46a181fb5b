"""The webhook outbox: delivery rows written in the transaction of the change they report.

One statement per event inserts a row for every active endpoint of the project whose filter takes
the event, so the write path pays one round trip whatever the number of endpoints, and nothing
when a project has none. The body is serialised once and stored: every retry sends (and signs)
the same bytes under the same `webhook-id`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from config.rawsql import fetch_all
from notifications import sql
from notifications.models import Webhook, WebhookDelivery
from notifications.payloads import iso
from notifications.webhooks.signing import new_message_id


def event_body(*, msg_id: str, kind: str, occurred_at: datetime, data: dict[str, Any]) -> str:
    """The JSON body of a delivery: `{"id", "type", "timestamp", "data"}`."""
    return json.dumps(
        {"id": msg_id, "type": kind, "timestamp": iso(occurred_at), "data": data},
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def record_webhook_event(
    *, project_id: int, kind: str, data: dict[str, Any], occurred_at: datetime | None = None
) -> list[int]:
    """Write the deliveries of one event (in the caller's transaction); returns their ids."""
    msg_id = new_message_id()
    body = event_body(
        msg_id=msg_id, kind=kind, occurred_at=occurred_at or timezone.now(), data=data
    )
    rows = fetch_all(
        sql.WEBHOOK_DELIVERIES,
        {
            "msg_id": msg_id,
            "kind": kind,
            "body": body,
            "grace": float(settings.OUTBOX_RELAY_GRACE_SECONDS),
            "project_id": project_id,
        },
    )
    return [row[0] for row in rows]


def record_webhook_events(
    events: list[tuple[int, str, dict[str, Any]]], *, occurred_at: datetime | None = None
) -> list[int]:
    """`record_webhook_event` for many `(project_id, kind, data)` events: one statement.

    Each event gets its own message id and body, as one call per event would give it. The
    events travel as one JSON document (see `notifications.bulk`).
    """
    if not events:
        return []
    # Bodies are only worth building for projects with an active endpoint (one small query).
    hooked = set(
        Webhook.objects.filter(
            project_id__in={project_id for project_id, _, _ in events}, is_active=True
        ).values_list("project_id", flat=True)
    )
    events = [event for event in events if event[0] in hooked]
    if not events:
        return []
    at = occurred_at or timezone.now()
    rows = []
    for project_id, kind, data in events:
        msg_id = new_message_id()
        body = event_body(msg_id=msg_id, kind=kind, occurred_at=at, data=data)
        rows.append({"project_id": project_id, "msg_id": msg_id, "kind": kind, "body": body})
    with connection.cursor() as cursor:
        cursor.execute(
            sql.WEBHOOK_DELIVERIES_MANY,
            {
                "grace": float(settings.OUTBOX_RELAY_GRACE_SECONDS),
                "events": json.dumps(rows, ensure_ascii=False),
            },
        )
        return sorted(row[0] for row in cursor.fetchall())


def record_test_ping(*, webhook: Webhook, actor: Any) -> WebhookDelivery:
    """A `webhook.test` delivery for one endpoint, whatever its filter says."""
    now = timezone.now()
    msg_id = new_message_id()
    data = {
        "webhook": webhook.pk,
        "project": webhook.project.key,
        "requested_by": getattr(actor, "username", None),
        "message": "A test event from Helpline. Verify the signature, answer 2xx.",
    }
    return WebhookDelivery.objects.create(
        webhook=webhook,
        message_id=msg_id,
        event_type="webhook.test",
        payload=event_body(msg_id=msg_id, kind="webhook.test", occurred_at=now, data=data),
        next_attempt_at=now,
        relay_after=now + timedelta(seconds=settings.OUTBOX_RELAY_GRACE_SECONDS),
        created_at=now,
    )
