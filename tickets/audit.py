"""The audit writer: one append-only row per change, in the caller's transaction."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from config.context import current_request
from tickets.models import AuditLog


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def record_audit(
    *,
    actor: Any,
    action: str,
    project_id: int | None,
    ticket_id: int | None = None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> AuditLog:
    """Write the audit row for a change (the IP and request id come from the request context)."""
    facts = current_request.get()
    return AuditLog.objects.create(
        actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        action=action,
        project_id=project_id,
        ticket_id=ticket_id,
        payload={"old": _jsonable(old or {}), "new": _jsonable(new or {})},
        ip_address=facts.ip_address,
        request_id=facts.request_id,
    )
