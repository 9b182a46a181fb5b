"""Open WebSockets, counted in Redis per ws process, so one scrape of any web process sees all.

An ASGI wrapper counts a socket from its `websocket.accept` until the consumer returns. Each
process keeps its count in `metrics:ws:<host>:<pid>` with a 90-second expiry that a background
task refreshes every 30 seconds while the process lives: a killed process's count disappears on
its own instead of staying in the sum. (The alternative, prometheus-client's multiprocess mode,
only sums processes that share a directory on one host.)
"""

from __future__ import annotations

import asyncio
import os
import socket
from contextlib import suppress
from typing import Any

from django.conf import settings
from redis import asyncio as aioredis
from redis.exceptions import RedisError

KEY_PREFIX = "metrics:ws:"
TTL_SECONDS = 90
REFRESH_SECONDS = 30


class _Counter:
    def __init__(self) -> None:
        self.key = f"{KEY_PREFIX}{socket.gethostname()}:{os.getpid()}"
        self.open = 0
        self.client: aioredis.Redis | None = None
        self.refresher: asyncio.Task[None] | None = None

    def redis(self) -> aioredis.Redis:
        if self.client is None:
            self.client = aioredis.Redis.from_url(
                settings.LOCK_REDIS_URL, socket_connect_timeout=2, socket_timeout=2
            )
        return self.client

    async def change(self, delta: int) -> None:
        self.open += delta
        with suppress(RedisError, OSError):  # the next change or refresh writes it again
            await self.redis().set(self.key, self.open, ex=TTL_SECONDS)
        if self.refresher is None or self.refresher.done():
            self.refresher = asyncio.get_running_loop().create_task(self.refresh())

    async def refresh(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            with suppress(RedisError, OSError):
                await self.redis().set(self.key, self.open, ex=TTL_SECONDS)


_counter = _Counter()


class OpenSocketsMiddleware:
    """ASGI wrapper around the WebSocket router."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        accepted = False

        async def counting_send(message: dict[str, Any]) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                await _counter.change(+1)
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            if accepted:
                await _counter.change(-1)


def open_sockets() -> int:
    """The sum over live ws processes (read by the scrape, synchronously)."""
    from config.redis import get_redis

    client = get_redis()
    keys = list(client.scan_iter(match=f"{KEY_PREFIX}*", count=1000))
    return sum(int(value) for value in client.mget(keys) if value is not None) if keys else 0
