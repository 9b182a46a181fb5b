"""The audit writer: one append-only row per change, in the caller's transaction."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from config.context import current_request
from config.rawsql import execute

_INSERT = """
INSERT INTO tickets_auditlog
    (project_id, ticket_id, actor_id, action, payload, ip_address, request_id, created_at)
VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s, %s)
"""


def record_audit(
    *,
    actor: Any,
    action: str,
    project_id: int | None,
    ticket_id: int | None = None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> None:
    """Write the audit row for a change (the IP and request id come from the request context).

    Every change writes one, so it is a single hand-written INSERT (see config/rawsql.py).
    """
    facts = current_request.get()
    actor_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    payload = json.dumps({"old": old or {}, "new": new or {}}, cls=DjangoJSONEncoder)
    execute(
        _INSERT,
        [
            project_id,
            ticket_id,
            actor_id,
            action,
            payload,
            facts.ip_address,
            facts.request_id,
            timezone.now(),
        ],
    )
