"""The board socket end to end: real uvicorn and gunicorn, the real Redis channel layer, real
`websockets` clients (notifications.client.BoardClient) and concurrent writers on their own
database connections. Every test ends with each client's board equal to a fresh `GET board`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings
from rest_framework.authtoken.models import Token
from structlog.testing import capture_logs

from notifications.client import BoardClient
from notifications.models import BoardEvent
from notifications.services import current_seq, push_board_event, record_board_event
from tests_support.contention import lock_waiters
from tests_support.factories import make_ticket
from tests_support.live import asgi_server, gunicorn_server

pytestmark = [
    pytest.mark.live,
    # Transactional: the servers are other processes and must see committed rows.
    pytest.mark.django_db(transaction=True),
]

T = TypeVar("T")


def channels_prefix() -> str:
    """Pub/sub channels ignore the Redis database number: keep this suite's pushes to itself."""
    return f"helpline-test-{settings.REDIS_URL.rsplit('/', 1)[-1]}"


# Fast timings so heartbeats, presence expiry and indicator expiry happen within a test.
LIVE_ENV = {
    "BOARD_HEARTBEAT_SECONDS": "0.5",
    "BOARD_PRESENCE_TTL_SECONDS": "1.5",
    "BOARD_INDICATOR_TTL_SECONDS": "1.0",
}


@dataclass
class Live:
    api: str
    ws: str


@pytest.fixture(scope="module")
def live(django_db_setup: None) -> Iterator[Live]:
    """One gunicorn (the API) and one uvicorn (the sockets) for the module, on the test database."""
    env = {**LIVE_ENV, "CHANNELS_PREFIX": channels_prefix()}
    with gunicorn_server(workers=2, **env) as api, asgi_server(**env) as ws:
        yield Live(api=api, ws=ws)


@pytest.fixture(autouse=True)
def _same_channel_layer_as_the_servers() -> Iterator[None]:
    default: dict[str, Any] = dict(settings.CHANNEL_LAYERS["default"])
    default["CONFIG"] = {**default["CONFIG"], "prefix": channels_prefix()}
    with override_settings(CHANNEL_LAYERS={"default": default}):
        yield


@contextmanager
def dead_channel_layer() -> Iterator[None]:
    """Pushes made inside go to a Redis that is not there: lost, as when Redis blinks."""
    layers = {
        "default": {
            "BACKEND": settings.CHANNEL_LAYERS["default"]["BACKEND"],
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"], "prefix": channels_prefix()},
        }
    }
    with override_settings(CHANNEL_LAYERS=layers):
        yield


async def db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ORM code in a worker thread on its own connection (closed after, so nothing lingers)."""

    def call() -> T:
        try:
            return fn(*args, **kwargs)
        finally:
            connection.close()

    return await asyncio.to_thread(call)


@pytest.fixture
def tokens(desk: dict[str, Any]) -> dict[str, str]:
    """An API token per desk user (made before the event loop: the ORM is sync-only)."""
    return {
        name: Token.objects.get_or_create(user=user)[0].key
        for name, user in desk.items()
        if name != "project"
    }


def board_client(live: Live, token: str, project: str = "DESK") -> BoardClient:
    return BoardClient(api_url=live.api, ws_url=live.ws, project=project, token=token)


async def converge(project_id: int, *clients: BoardClient) -> None:
    """Every client reaches the server's seq and shows exactly the server's board."""
    seq = await db(current_seq, project_id)
    for client in clients:
        await client.wait_for_seq(seq, timeout=10)
    server = await clients[0].server_view()
    for client in clients:
        assert client.board.seq == seq
        assert client.board.view() == server


def writes(project: Any, actor: Any, n: int, *, tag: str) -> None:
    """n board changes through the services: creates, edits and moves, in that rotation."""
    from tickets.services.moves import move_ticket
    from tickets.services.tickets import update_ticket

    created: list[int] = []
    # Not into To Do: a create racing a move for the bottom of one column trips the unique rank.
    statuses = ["in_progress", "in_review", "awaiting_customer", "blocked"]
    for i in range(n):
        if i % 3 == 0 or not created:
            created.append(make_ticket(project, actor, title=f"{tag}-{i}").pk)
        elif i % 3 == 1:
            update_ticket(actor=actor, ticket_id=created[-1], changes={"title": f"{tag}-{i}!"})
        else:
            move_ticket(actor=actor, ticket_id=created[-1], status_key=statuses[i % 4])


async def close_all(*clients: BoardClient) -> None:
    for client in clients:
        await client.close()


# --- delivery ---------------------------------------------------------------------------------


def test_two_clients_see_a_move_made_over_http_and_converge(live, desk, tokens):
    project, agent = desk["project"], desk["agent"]
    tickets = [make_ticket(project, agent, title=f"T{i}") for i in range(3)]
    start = current_seq(project.pk)

    async def scenario() -> None:
        mover, watcher = board_client(live, tokens["agent"]), board_client(live, tokens["lead"])
        await mover.connect()
        await watcher.connect()
        assert watcher.board.seq == start
        response = await mover.http.patch(
            f"{live.api}/api/v1/tickets/{tickets[0].pk}/move/",
            json={"status": "in_progress"},
            headers={"Authorization": f"Token {mover.token}"},
        )
        assert response.status_code == 200, response.text
        await watcher.wait_for_seq(start + 1)
        moved = [m for m in watcher.messages if m.get("type") == "ticket.moved"]
        assert len(moved) == 1
        assert moved[0]["seq"] == start + 1
        assert moved[0]["data"]["id"] == tickets[0].pk
        assert moved[0]["data"]["status"] == "in_progress"
        assert moved[0]["data"]["rank"] == response.json()["rank"]
        assert "description" not in moved[0]["data"]
        await converge(project.pk, mover, watcher)
        assert watcher.socket_seqs == [start + 1] and watcher.http_seqs == []
        await close_all(mover, watcher)

    asyncio.run(scenario())


def test_concurrent_writers_every_client_sees_every_seq_once_in_order(live, desk, tokens):
    from tickets.services.moves import move_ticket
    from tickets.services.tickets import update_ticket

    project = desk["project"]
    writers = [desk["agent"], desk["lead"], desk["manager"], desk["admin"]]
    own = {
        w.pk: [make_ticket(project, w, title=f"{w.username}-{i}").pk for i in range(2)]
        for w in writers
    }
    start = current_seq(project.pk)
    statuses = ["in_progress", "in_review", "awaiting_customer", "blocked", "open"]

    def changes(actor: Any, n: int) -> None:
        """Edits and moves of the writer's own tickets, racing the other writers for the seq."""
        for i in range(n):
            ticket_id = own[actor.pk][i % 2]
            if i % 2:
                update_ticket(actor=actor, ticket_id=ticket_id, changes={"title": f"v{i}"})
            else:
                move_ticket(actor=actor, ticket_id=ticket_id, status_key=statuses[i % 5])

    async def scenario() -> None:
        clients = [board_client(live, tokens[role]) for role in ("agent", "lead", "manager")]
        for client in clients:
            await client.connect()
        await asyncio.gather(*(db(changes, user, 12) for user in writers))
        end = await db(current_seq, project.pk)
        assert end == start + 4 * 12
        await converge(project.pk, *clients)
        for client in clients:
            assert client.socket_seqs == list(range(start + 1, end + 1))
            assert client.applied_seqs == client.socket_seqs
            assert client.http_seqs == [] and client.gaps_noticed == 0
        await close_all(*clients)

    asyncio.run(scenario())


def test_a_transaction_holding_an_earlier_seq_holds_back_the_later_one(live, desk, tokens):
    """The writer that allocated seq N commits last in wall time would be a skip; it cannot happen:
    the second writer blocks on the counter row until the first commits."""
    from tickets.services.tickets import update_ticket

    project, agent = desk["project"], desk["agent"]
    first, second = make_ticket(project, agent), make_ticket(project, agent)
    start = current_seq(project.pk)
    allocated, release = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with transaction.atomic():
            update_ticket(actor=agent, ticket_id=first.pk, changes={"title": "slow"})
            allocated.set()
            release.wait(10)

    def fast_writer() -> None:
        with transaction.atomic():
            update_ticket(actor=agent, ticket_id=second.pk, changes={"title": "fast"})

    async def scenario() -> None:
        client = board_client(live, tokens["lead"])
        await client.connect()
        slow = asyncio.create_task(db(slow_writer))
        await asyncio.to_thread(allocated.wait, 10)
        fast = asyncio.create_task(db(fast_writer))
        deadline = time.monotonic() + 5
        while await db(lock_waiters) < 1:
            assert time.monotonic() < deadline, "the second writer never waited for the counter"
            await asyncio.sleep(0.02)
        # Heartbeats come and go (they read the committed seq); nothing is visible yet.
        await client.wait_until(lambda: len(client.heartbeats) >= 2, timeout=5)
        assert not fast.done()
        assert client.socket_seqs == [] and client.board.seq == start
        assert client.heartbeats and max(client.heartbeats) == start
        release.set()
        await asyncio.gather(slow, fast)
        await converge(project.pk, client)
        assert client.socket_seqs == [start + 1, start + 2]
        titles = [m["data"]["title"] for m in client.messages if m.get("seq", 0) > start]
        assert titles[:2] == ["slow", "fast"]
        assert client.http_seqs == []
        await client.close()

    asyncio.run(scenario())


def test_a_lost_or_late_push_is_filled_in_from_the_table(live, desk, tokens):
    project, agent = desk["project"], desk["agent"]
    ticket = make_ticket(project, agent)
    start = current_seq(project.pk)

    def event(kind: str) -> BoardEvent:
        from tickets.services.events import ticket_event_data

        with transaction.atomic():
            return record_board_event(
                actor=None,
                project_id=project.pk,
                type=kind,
                data=ticket_event_data(ticket),
                ticket_id=ticket.pk,
            )

    async def scenario() -> None:
        client = board_client(live, tokens["lead"])
        await client.connect()
        with capture_logs() as logs, dead_channel_layer():
            lost = await db(event, "ticket.updated")  # committed, push lost
            await client.wait_until(
                lambda: any(e["event"] == "channel_push_failed" for e in logs), timeout=10
            )
        # (The server's heartbeat may fill it in from the table before the next push does.)
        await db(event, "ticket.updated")  # its push arrives with a gap before it
        await client.wait_for_seq(start + 2)
        # The late copy of the first push arrives after both: dropped, not delivered twice.
        await db(push_board_event, lost)
        await db(event, "ticket.updated")
        await converge(project.pk, client)
        assert client.socket_seqs == [start + 1, start + 2, start + 3]
        assert client.gaps_noticed == 0 and client.http_seqs == []
        await client.close()

    asyncio.run(scenario())


# --- catch-up and resync ----------------------------------------------------------------------


def test_an_offline_client_catches_up_by_replay(live, desk, tokens):
    project = desk["project"]
    make_ticket(project, desk["agent"], title="before")

    async def scenario() -> None:
        client, other = board_client(live, tokens["agent"]), board_client(live, tokens["lead"])
        await client.connect()
        await other.connect()
        await client.disconnect()
        left_at = client.board.seq
        assert left_at is not None
        await db(writes, project, desk["manager"], 20, tag="offline")
        await other.wait_for_seq(left_at + 20)
        await client.connect()  # hello {last_seq: left_at}
        await converge(project.pk, client, other)
        assert client.socket_seqs == list(range(left_at + 1, left_at + 21))
        assert client.http_seqs == [] and client.reloads == 1  # only the first load
        await close_all(client, other)

    asyncio.run(scenario())


def test_events_committed_during_a_replay_arrive_once_and_in_order(live, desk, tokens):
    """Subscribe first, then replay: what commits meanwhile comes both ways and is sent once."""
    project = desk["project"]
    make_ticket(project, desk["agent"], title="before")

    async def scenario() -> None:
        client = board_client(live, tokens["agent"])
        await client.connect()
        await client.disconnect()
        left_at = client.board.seq
        assert left_at is not None
        await db(writes, project, desk["manager"], 30, tag="missed")
        # Reconnect while another writer keeps committing.
        writing = asyncio.create_task(db(writes, project, desk["lead"], 30, tag="during"))
        await asyncio.sleep(0.05)
        await client.connect()
        await writing
        await converge(project.pk, client)
        end = client.board.seq
        assert end is not None and end - left_at == 60
        assert client.socket_seqs == list(range(left_at + 1, end + 1))
        assert client.http_seqs == [] and client.gaps_noticed == 0
        await client.close()

    asyncio.run(scenario())


def test_a_client_too_far_behind_or_ahead_is_told_to_resync(live, desk, tokens):
    from datetime import timedelta

    from django.utils import timezone

    from notifications.services import prune_board_events

    project = desk["project"]

    async def scenario() -> None:
        client = board_client(live, tokens["agent"])
        await client.connect()
        await client.disconnect()
        left_at = client.board.seq
        assert left_at is not None
        await db(writes, project, desk["manager"], 12, tag="gone")
        await db(
            prune_board_events, older_than=timezone.now() - timedelta(days=1), keep_per_project=3
        )
        await client.connect()
        await client.wait_until(lambda: client.reloads == 2)
        current = await db(current_seq, project.pk)
        assert {"type": "resync_required", "seq": current} in client.messages
        assert client.socket_seqs == []
        await converge(project.pk, client)
        await client.disconnect()

        # A board from the future (a restored database) is reloaded as well.
        client.board.seq = current + 50
        await client.connect()
        await client.wait_until(lambda: client.reloads == 3)
        await converge(project.pk, client)
        await client.close()

    asyncio.run(scenario())


def test_flushing_redis_clients_notice_by_heartbeat_and_converge(live, desk, tokens):
    """Redis loses everything (keys and subscriber connections) and the pushes made meanwhile:
    each client notices through the seq in a heartbeat, fetches what it missed, and converges."""
    from config.redis import get_redis

    project, agent = desk["project"], desk["agent"]
    redis = get_redis()
    db_number = int(settings.REDIS_URL.rsplit("/", 1)[-1])

    def redis_loses_everything() -> int:
        redis.flushdb()
        killed = 0
        for client in redis.client_list():
            # Only this suite's subscribers: other suites share the Redis server.
            if int(client.get("db", -1)) == db_number and int(client.get("sub", 0)) > 0:
                killed += redis.client_kill_filter(_id=client["id"])
        return killed

    async def scenario() -> None:
        clients = [board_client(live, tokens["agent"]), board_client(live, tokens["lead"])]
        for client in clients:
            await client.connect()
        await clients[0].wait_until(lambda: len(clients[0].presence or []) == 2)
        before = clients[0].board.seq
        assert before is not None
        assert await db(redis_loses_everything) >= 1
        assert redis.zcard(f"board:people:{project.pk}") == 0
        with dead_channel_layer():
            await db(writes, project, agent, 3, tag="dark")
        for client in clients:
            await client.wait_for_seq(before + 3, timeout=5)
            assert client.gaps_noticed >= 1
            assert client.http_seqs == [before + 1, before + 2, before + 3]
            assert client.socket_seqs == []
        await converge(project.pk, *clients)
        # Heartbeats put the sockets back on the board's presence...
        await clients[0].wait_until(
            lambda: redis.zcard(f"board:people:{project.pk}") == 2, timeout=5
        )
        # ...and live pushes flow again once the layer has re-subscribed.
        await db(writes, project, agent, 1, tag="light")
        for client in clients:

            def heard_live(c: BoardClient = client) -> bool:
                return c.socket_seqs != []

            await client.wait_until(heard_live, timeout=5)
        await converge(project.pk, *clients)
        await close_all(*clients)

    asyncio.run(scenario())


def test_ping_pong_and_the_me_socket_still_welcome(live, desk, tokens):
    import json

    import websockets

    async def scenario() -> None:
        client = board_client(live, tokens["agent"])
        await client.connect()
        await client.send({"type": "ping"})
        await client.wait_until(lambda: client.pongs == 1)
        await client.send({"type": "dance"})
        await client.wait_until(lambda: bool(client.errors))
        assert client.errors[0]["code"] == "validation_error"
        await converge(desk["project"].pk, client)
        await client.close()
        async with websockets.connect(f"{live.ws}/ws/me/?token={client.token}") as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {
                "type": "welcome",
                "user": "agent",
            }

    asyncio.run(scenario())
