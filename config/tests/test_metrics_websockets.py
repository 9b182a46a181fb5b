"""Open WebSockets, counted by the real ws process (uvicorn) and read by a scrape elsewhere."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets
from rest_framework.authtoken.models import Token

from config.metrics.websockets import open_sockets
from tests_support.live import ROOT, asgi_server


def wait_for_count(expected: int) -> int:
    deadline = time.monotonic() + 10
    while (count := open_sockets()) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return count


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_the_ws_process_counts_its_open_sockets_and_logs_only_json(desk):
    token = Token.objects.get_or_create(user=desk["agent"])[0].key
    with asgi_server() as base:
        assert open_sockets() == 0

        async def scenario() -> tuple[int, int, int]:
            url = f"{base}/ws/me/?token={token}"
            async with websockets.connect(url) as first, websockets.connect(url) as second:
                for ws in (first, second):
                    assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "welcome"
                two = await asyncio.to_thread(wait_for_count, 2)
                await second.close()
                one = await asyncio.to_thread(wait_for_count, 1)
            return two, one, await asyncio.to_thread(wait_for_count, 0)

        assert asyncio.run(scenario()) == (2, 1, 0)

        assert open_sockets() == 0
    logs = sorted((ROOT / ".data").glob("uvicorn-*.log"), key=lambda p: p.stat().st_mtime)
    records = [json.loads(line) for line in logs[-1].read_text().splitlines() if line.strip()]
    assert {"uvicorn.error"} <= {record["logger"] for record in records}
