"""Channel-layer pushes from synchronous code (services' on-commit hooks, tasks)."""

from __future__ import annotations

from typing import Any

import structlog
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = structlog.get_logger(__name__)


def push_to_group(group: str, message: dict[str, Any]) -> None:
    """Send to a channel-layer group; a failure is logged, never raised (clients replay)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        logger.warning("channel_push_failed", group=group, exc_info=True)


def user_group(user_id: int) -> str:
    """The channel-layer group of one user's sockets (/ws/me/ and revocation)."""
    return f"user.{user_id}"


def push_to_user(user_id: int, payload: dict[str, Any]) -> None:
    """Send a message to every open `/ws/me/` socket of a user."""
    push_to_group(user_group(user_id), {"type": "user.message", "payload": payload})
