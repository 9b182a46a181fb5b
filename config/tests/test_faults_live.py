"""Faults with real processes: the channel layer's Redis restarted under connected boards, and a
database connection terminated in the middle of a request.

(A Celery worker killed with SIGKILL mid-export and mid-escalation is covered next to the code it
tests: exports/tests/test_worker.py and sla/tests/test_live.py.)
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from django.db import connection, transaction
from rest_framework.authtoken.models import Token

from notifications.client import BoardClient
from notifications.services import current_seq
from tests_support.factories import make_ticket
from tests_support.live import ROOT, asgi_server, free_port, gunicorn_process, wait_for_port
from tickets.models import Ticket

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

FAST_BOARD = {
    "BOARD_HEARTBEAT_SECONDS": "0.5",
    "BOARD_PRESENCE_TTL_SECONDS": "1.5",
    "BOARD_INDICATOR_TTL_SECONDS": "1.0",
}


class PrivateRedis:
    """A redis-server of the test's own, in memory only, on a free port; it can die and return."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = ROOT / ".data" / f"redis-{self.port}.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [
                server,
                *("--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
                *("--appendonly", "no", "--logfile", str(self.log)),
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.proc)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    redis.start()
    try:
        yield redis
    finally:
        redis.kill()


@dataclass
class Desk:
    api: str
    ws: str
    redis: PrivateRedis


@pytest.fixture(scope="module")
def servers(django_db_setup: None) -> Iterator[Desk]:
    """gunicorn and uvicorn whose channel layer is a private Redis the tests may restart."""
    with private_redis() as redis:
        env = {**FAST_BOARD, "CHANNEL_REDIS_HOSTS": redis.url}
        with (
            gunicorn_process(1, args=("--no-control-socket",), **env) as (api, _proc),
            asgi_server(**env) as ws,
        ):
            yield Desk(api=api, ws=ws, redis=redis)


def test_a_restarted_channel_layer_redis_leaves_every_board_equal_to_a_fresh_load(
    servers: Desk, desk: dict[str, Any]
) -> None:
    project = desk["project"]
    make_ticket(project, desk["agent"], title="before")
    tokens = {name: Token.objects.create(user=desk[name]).key for name in ("agent", "lead")}
    asyncio.run(restart_scenario(servers.api, servers.ws, tokens, project.pk, servers.redis))


async def restart_scenario(
    api: str, ws: str, tokens: dict[str, str], project_id: int, redis: PrivateRedis
) -> None:
    clients = [
        BoardClient(api_url=api, ws_url=ws, project="DESK", token=token)
        for token in tokens.values()
    ]
    async with httpx.AsyncClient(
        base_url=f"{api}/api/v1", headers={"Authorization": f"Token {tokens['agent']}"}
    ) as http:

        async def create(title: str) -> None:
            response = await http.post("/tickets/", json={"project": "DESK", "title": title})
            assert response.status_code == 201, response.text

        for client in clients:
            await client.connect()
        await create("live")
        for client in clients:
            await client.wait_until(heard_live(client, 0), timeout=10)

        # Redis dies: the write made meanwhile cannot be pushed; each board learns of it from the
        # seq in the socket's heartbeat and fetches it over HTTP.
        redis.kill()
        await create("while redis is down")
        down = await asyncio.to_thread(in_thread, current_seq, project_id)
        for client in clients:
            await client.wait_until(fetched(client, down), timeout=15)
            assert down not in client.socket_seqs
        # It comes back empty on the same port: the layer reconnects and subscribes again.
        redis.start()
        await create("after the restart")
        seq = await asyncio.to_thread(in_thread, current_seq, project_id)
        for client in clients:
            if client.close_code is not None:  # the server dropped the socket: connect again
                await client.connect()
            await client.wait_for_seq(seq, timeout=15)
        server = await clients[0].server_view()
        for client in clients:
            assert client.board.seq == seq
            assert client.board.view() == server
        # Live pushes flow again once the layer has re-subscribed.
        heard = [len(client.socket_seqs) for client in clients]
        await create("live again")
        for client, before in zip(clients, heard, strict=True):
            await client.wait_until(heard_live(client, before), timeout=15)
        assert clients[0].board.view() == await clients[0].server_view()
        for client in clients:
            await client.close()


def heard_live(client: BoardClient, before: int) -> Callable[[], bool]:
    """More than `before` events have come over the client's socket."""
    return lambda: len(client.socket_seqs) > before


def fetched(client: BoardClient, seq: int) -> Callable[[], bool]:
    """The client fetched event `seq` over HTTP."""
    return lambda: seq in client.http_seqs


def in_thread(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    finally:
        connection.close()


def test_a_connection_terminated_mid_request_is_a_clean_503_and_the_next_request_succeeds(
    servers: Desk, desk: dict[str, Any]
) -> None:
    ticket = make_ticket(desk["project"], desk["agent"], title="locked")
    token = Token.objects.create(user=desk["agent"]).key
    headers = {"Authorization": f"Token {token}"}
    url = f"{servers.api}/api/v1/tickets/{ticket.pk}/"
    assert httpx.get(url, headers=headers).status_code == 200
    answers: list[httpx.Response] = []
    with transaction.atomic(), connection.cursor() as cursor:
        # The request's read of the ticket waits on this lock: "mid-request".
        cursor.execute("LOCK TABLE tickets_ticket IN ACCESS EXCLUSIVE MODE")
        request = threading.Thread(
            target=lambda: answers.append(httpx.get(url, headers=headers, timeout=60))
        )
        request.start()
        waiting = wait_for_waiter(cursor)
        cursor.execute("SELECT pg_terminate_backend(%s)", [waiting])
        assert cursor.fetchone() == (True,)
    request.join(60)
    (answer,) = answers
    assert answer.status_code == 503
    error = answer.json()["error"]
    assert (error["code"], error["request_id"]) == (
        "service_unavailable",
        answer.headers["X-Request-ID"],
    )
    assert answer.headers["Retry-After"] == "1"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    after = httpx.get(url, headers=headers)
    assert after.status_code == 200
    assert after.json()["id"] == ticket.pk


def wait_for_waiter(cursor: Any, timeout: float = 30.0) -> int:
    """The backend (of the gunicorn worker) waiting on our lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # We poll inside the lock's transaction, and PostgreSQL keeps one snapshot of
        # pg_stat_activity per transaction: drop it, or a request that starts waiting after our
        # first look is never seen (it was, on a loaded machine).
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        row = cursor.fetchone()
        if row:
            return int(row[0])
        time.sleep(0.02)
    raise AssertionError("no request waited on the lock")


def test_a_request_waiting_on_a_held_row_past_the_lock_timeout_is_a_503_and_then_succeeds(
    desk: dict[str, Any],
) -> None:
    """The web guard (WEB_DB_LOCK_TIMEOUT_MS): a move that waits on a row another session holds
    answers 503 in the envelope after the timeout instead of holding its thread; released, the
    same move succeeds (the control: it failed only because of the held row)."""
    ticket = make_ticket(desk["project"], desk["agent"], title="held")
    token = Token.objects.create(user=desk["agent"]).key
    headers = {"Authorization": f"Token {token}"}
    with gunicorn_process(1, WEB_DB_LOCK_TIMEOUT_MS="300") as (api, _proc):
        url = f"{api}/api/v1/tickets/{ticket.pk}/move/"
        with transaction.atomic():
            Ticket.objects.select_for_update().get(pk=ticket.pk)
            started = time.monotonic()
            answer = httpx.patch(url, headers=headers, json={"status": "in_progress"}, timeout=60)
            waited = time.monotonic() - started
        assert answer.status_code == 503
        error = answer.json()["error"]
        assert error["code"] == "service_unavailable"
        assert error["message"].startswith("The database did not answer in time")
        assert answer.headers["Retry-After"] == "1"
        assert 0.3 <= waited < 10
        assert Ticket.objects.get(pk=ticket.pk).status.key == "new"  # nothing half-written
        after = httpx.patch(url, headers=headers, json={"status": "in_progress"}, timeout=60)
        assert after.status_code == 200
        assert after.json()["status"] == "in_progress"
