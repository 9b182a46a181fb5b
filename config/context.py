"""Ambient request facts (client IP, request id) that the audit trail records.

The actor is always passed to services explicitly; the IP and request id are not business inputs,
so the request middleware binds them here and the audit writer reads them.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestFacts:
    ip_address: str | None = None
    request_id: str = ""


_NO_REQUEST = RequestFacts()
current_request: ContextVar[RequestFacts] = ContextVar("current_request", default=_NO_REQUEST)
