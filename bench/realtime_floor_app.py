"""The floor for bench_realtime: the same fan-out with no framework at all.

A bare ASGI app under the same uvicorn: every socket that says hello is put in one set, and one
Redis subscription writes each published message to every socket. No Channels, no Django, no
per-socket queue or dedup: what uvicorn and loopback Redis cost by themselves.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from redis import asyncio as aioredis

CHANNEL = "bench:floor:board"
_sockets: set[Any] = set()
_listener: asyncio.Task[None] | None = None


async def _listen() -> None:
    client = aioredis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"))
    pubsub = client.pubsub()
    await pubsub.subscribe(CHANNEL)
    async for message in pubsub.listen():
        if message["type"] != "message":
            continue
        text = message["data"].decode()
        for send in list(_sockets):
            await send({"type": "websocket.send", "text": text})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Accept, wait for hello, answer with an empty presence (the client's 'ready'), then fan out."""
    global _listener
    if scope["type"] != "websocket":
        return
    if _listener is None:
        _listener = asyncio.create_task(_listen())
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive":
            if json.loads(message.get("text") or "{}").get("type") == "hello":
                _sockets.add(send)
                await send({"type": "websocket.send", "text": '{"type":"presence","users":[]}'})
        elif message["type"] == "websocket.disconnect":
            _sockets.discard(send)
            return
