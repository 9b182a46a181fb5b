"""The audit writer: one append-only row per change, in the caller's transaction."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from config.context import current_request
from tickets.models import AuditLog

_PLAIN = (str, int, float, bool, type(None))


def _jsonable(value: Any) -> Any:
    """What a JSON round trip gives; plain flat dicts (most audit payloads) are copied as is."""
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, _PLAIN) for k, v in value.items()
    ):
        return dict(value)
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def audit_row(
    *,
    actor: Any,
    action: str,
    project_id: int | None,
    ticket_id: int | None = None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> AuditLog:
    """The (unsaved) audit row of a change; the IP and request id come from the request context.
    Batch writers (SLA escalations) insert many of these at once; `record_audit` writes one."""
    facts = current_request.get()
    return AuditLog(
        actor_id=actor.pk
        if actor is not None and getattr(actor, "is_authenticated", False)
        else None,
        action=action,
        project_id=project_id,
        ticket_id=ticket_id,
        payload={"old": _jsonable(old or {}), "new": _jsonable(new or {})},
        ip_address=facts.ip_address,
        request_id=facts.request_id,
        created_at=timezone.now(),
    )


def record_audit(
    *,
    actor: Any,
    action: str,
    project_id: int | None,
    ticket_id: int | None = None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> None:
    """Write the audit row for a change in the caller's transaction (through the ORM, so every
    field of the model is written)."""
    audit_row(
        actor=actor, action=action, project_id=project_id, ticket_id=ticket_id, old=old, new=new
    ).save(force_insert=True)
