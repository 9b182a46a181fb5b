"""The client's address, as far as the deployment's trusted proxies vouch for it.

`TRUSTED_PROXY_COUNT` (default 0) is the number of reverse proxies in front of the app that append
the address they saw to `X-Forwarded-For`. With 0 the header is ignored: anyone can send it. With
N, the N-th address from the right is the client (what the outermost trusted proxy saw); anything
further left was written by the client and is not believed. DRF's `NUM_PROXIES` follows the same
rule (the settings set it from the same value), so every throttle, the audit trail and the log
agree on one address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from django.conf import settings


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def client_address(meta: Mapping[str, Any]) -> str | None:
    """The client address for a request's META (`REMOTE_ADDR` unless proxies are trusted)."""
    remote = meta.get("REMOTE_ADDR") or None
    proxies = int(settings.TRUSTED_PROXY_COUNT)
    forwarded = str(meta.get("HTTP_X_FORWARDED_FOR") or "")
    if proxies <= 0 or not forwarded.strip():
        return remote
    hops = [hop.strip() for hop in forwarded.split(",")]
    candidate = hops[-min(proxies, len(hops))]
    # A misconfigured proxy passing garbage on: the connecting address, never a bad audit row.
    return candidate if _is_address(candidate) else remote
