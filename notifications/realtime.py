"""Channel-layer pushes from synchronous code (services' on-commit hooks, tasks).

A push must not cost the request that caused it: `async_to_sync` would start an event loop and a
fresh Redis connection per call (~8 ms). Instead each process keeps one publisher thread with its
own loop (and so one channel-layer connection), and pushes are handed to it without waiting.
Delivery is best effort by design: the event row is the truth and clients replay what they miss.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import structlog
from channels.layers import get_channel_layer

logger = structlog.get_logger(__name__)

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None


def _publisher_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid
    with _lock:
        # A forked worker (gunicorn, Celery prefork) must not reuse its parent's thread.
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="channel-publisher", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def _log_failure(future: Future[Any], group: str) -> None:
    exc = future.exception()
    if exc is not None:
        logger.warning("channel_push_failed", group=group, error=repr(exc))


Message = dict[str, Any] | Callable[[], dict[str, Any]]


async def _send(layer: Any, group: str, message: Message) -> None:
    await layer.group_send(group, message() if callable(message) else message)


def push_to_group(group: str, message: Message) -> None:
    """Send to a channel-layer group without blocking the caller.

    `message` may be a function building it (encoding an event, say): it then runs on the
    publisher thread, after the caller has moved on (a request has sent its response).
    """
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        future = asyncio.run_coroutine_threadsafe(_send(layer, group, message), _publisher_loop())
    except RuntimeError:
        logger.warning("channel_push_failed", group=group, exc_info=True)
        return
    future.add_done_callback(lambda f: _log_failure(f, group))


def user_group(user_id: int) -> str:
    """The channel-layer group of one user's sockets (/ws/me/ and revocation)."""
    return f"user.{user_id}"


def push_to_user(user_id: int, payload: dict[str, Any]) -> None:
    """Send a message to every open `/ws/me/` socket of a user."""
    push_to_group(user_group(user_id), {"type": "user.message", "payload": payload})
