"""Issue 5: commit -> received by 200 board sockets (p50/p99), and RSS of 1,000 idle sockets.

One uvicorn process serves the sockets; the clients (notifications.client.BoardClient) run in
separate processes (`--procs`, 2) so their parsing does not steal the writer's CPU. The writer
commits real ticket edits through `update_ticket`; t0 is taken by an on-commit hook registered
before the service's own, so it is the moment COMMIT returned (CLOCK_MONOTONIC is system-wide, so
the clients' arrival times compare). Events are 250 ms apart, so a sample is one delivery, not
time queued behind the previous one. Samples: every (event, client) pair.

Floors in the same run: the same clients against a bare ASGI app under the same uvicorn that
writes each Redis message to every socket (bench/realtime_floor_app.py: no Channels, no Django),
and a Redis PUBLISH -> SUBSCRIBE round trip. The load average is recorded: on a shared machine it
moves every figure, floors included.

    python bench/bench_realtime.py            # 200 clients x 100 events, 1,000 idle sockets
    python bench/bench_realtime.py --full     # 500 events, 2,000 idle sockets, and the idle
                                              # sockets again with per-message deflate on
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    RESULTS,
    Server,
    api_token,
    child_env,
    free_port,
    setup_django,
    summarise,
    write_results,
)

# Between two commits: long enough for one event's fan-out to finish before the next, so a
# sample is one delivery's latency, not time spent queued behind the previous event.
SPACING = 0.25
PREFIX = "helpline-bench"  # pub/sub ignores the Redis db number: keep off a running desk's groups
os.environ["CHANNELS_PREFIX"] = PREFIX
# services.env exports the desk's REDIS_URL; presence keys must not land in the desk's database.
os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def floor_uvicorn() -> Server:
    """The same uvicorn serving bench/realtime_floor_app.py (fan-out with no framework)."""
    port = free_port()
    venv = Path(sys.executable).parent
    argv = [
        str(venv / "uvicorn"),
        "bench.realtime_floor_app:app",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--ws-per-message-deflate",
        "false",
    ]
    return Server(argv, port, child_env())


def uvicorn(*, deflate: bool = False) -> Server:
    """The WebSocket server as docs/realtime.md recommends running it (no per-message deflate:
    a zlib context per socket is ~40 KB of the ~90 KB a socket costs, for ~200-byte messages)."""
    port = free_port()
    venv = Path(sys.executable).parent
    argv = [
        str(venv / "uvicorn"),
        "config.asgi:application",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--ws-per-message-deflate",
        "true" if deflate else "false",
    ]
    return Server(argv, port, child_env(CHANNELS_PREFIX=PREFIX))


# --- the clients' process ------------------------------------------------------------------------


def board_client(ws_url: str, key: str, token: str, start: int, http: Any) -> Any:
    """A client already holding the board at `start` (the benchmark needs no snapshot)."""
    from notifications.client import BoardClient

    client = BoardClient(
        api_url="http://127.0.0.1:9",
        ws_url=ws_url,
        project=key,
        token=token,
        http=http,
        open_timeout=120,
    )
    client.board.load({"seq": start, "columns": []})
    return client


def clients_main(
    conn: Connection, ws_url: str, key: str, token: str, n: int, start: int, events: int
) -> None:
    """Open n board sockets at `start`, report ready, then return every arrival time."""
    import httpx

    http = httpx.AsyncClient()

    async def run() -> None:
        clients = [board_client(ws_url, key, token, start, http) for _ in range(n)]
        gate = asyncio.Semaphore(20)

        async def open_one(client: Any) -> None:
            async with gate:
                await client.connect()
                await client.wait_until(lambda: client.presence is not None, timeout=120)

        await asyncio.gather(*(open_one(c) for c in clients))
        conn.send("ready")
        deadline = time.monotonic() + 60 + events * 0.1
        while any((c.board.seq or 0) < start + events for c in clients):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        conn.send([c.received_at for c in clients])
        for client in clients:
            await client.close()

    asyncio.run(run())


def idle_main(conn: Connection, ws_url: str, key: str, token: str, n: int, start: int) -> None:
    """Open n board sockets and hold them until told to stop."""
    import httpx

    http = httpx.AsyncClient()

    async def run() -> None:
        clients = []
        gate = asyncio.Semaphore(20)

        async def open_one() -> None:
            client = board_client(ws_url, key, token, start, http)
            async with gate:
                await client.connect()
                await client.wait_until(lambda: client.presence is not None, timeout=120)
            clients.append(client)

        await asyncio.gather(*(open_one() for _ in range(n)))
        conn.send(len([c for c in clients if c.close_code is None]))
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        for client in clients:
            await client.close()

    asyncio.run(run())


def fresh_project() -> tuple[Any, Any]:
    """A new project for this run (a random key: nothing of an earlier run to delete) and its agent."""
    import random
    import string

    from tests_support.factories import ensure_default_statuses
    from tickets.models import Membership, User
    from tickets.services.projects import create_project

    ensure_default_statuses()
    key = "RT" + "".join(random.choices(string.ascii_uppercase, k=8))
    project = create_project(actor=None, key=key, name=f"Realtime bench {key}")
    agent, _ = User.objects.get_or_create(username="bench-realtime", defaults={"is_active": True})
    Membership.objects.create(user=agent, project=project, role="agent")
    return project, agent


# --- measurements --------------------------------------------------------------------------------


def redis_floor(samples: int = 500) -> dict[str, float]:
    """PUBLISH -> message received by a subscriber, loopback, same process (ms)."""
    from config.redis import get_redis

    redis = get_redis()
    pubsub = redis.pubsub()
    pubsub.subscribe("bench:floor")
    pubsub.get_message(timeout=1)  # the subscribe confirmation
    out = []
    for _ in range(samples + 20):
        started = time.perf_counter_ns()
        redis.publish("bench:floor", b"x" * 200)
        while pubsub.get_message(timeout=1) is None:
            pass
        out.append((time.perf_counter_ns() - started) / 1e6)
    pubsub.close()
    return summarise(out[20:])


def write_events(
    project: Any, agent: Any, ticket_id: int, events: int, *, spacing: float
) -> tuple[list[int], list[float]]:
    """Commit `events` ticket edits one at a time; returns their commit times and push costs."""
    from django.db import transaction

    from tickets.services.tickets import update_ticket

    committed, push_ms = [], []
    for i in range(events):
        stamps: list[int] = []
        with transaction.atomic():
            # Registered before the service's own hooks, so it runs first after COMMIT.
            def stamp(into: list[int] = stamps) -> None:
                into.append(time.monotonic_ns())

            transaction.on_commit(stamp)
            update_ticket(actor=agent, ticket_id=ticket_id, changes={"title": f"bench {i}"})
        push_ms.append((time.monotonic_ns() - stamps[0]) / 1e6)
        committed.append(stamps[0])
        # Each delivery measured alone: the fan-out of one event is over before the next.
        time.sleep(spacing)
    return committed, push_ms


def publish_events(start: int, events: int, *, spacing: float) -> tuple[list[int], list[float]]:
    """The floor's writer: the same JSON straight onto the floor app's Redis channel."""
    import json

    from config.redis import get_redis

    redis = get_redis()
    sent, cost = [], []
    for i in range(events):
        text = json.dumps({"type": "ticket.updated", "seq": start + i + 1, "data": {"id": 1}})
        t0 = time.monotonic_ns()
        redis.publish("bench:floor:board", text)
        cost.append((time.monotonic_ns() - t0) / 1e6)
        sent.append(t0)
        time.sleep(spacing)
    return sent, cost


def delivery(
    server: Server,
    token: str,
    project: Any,
    agent: Any,
    *,
    clients: int,
    events: int,
    procs: int,
    spacing: float,
    floor: bool = False,
) -> dict[str, Any]:
    """Connect `clients` sockets, commit `events` changes, and time each (event, socket)."""
    from notifications.services import current_seq
    from tests_support.factories import make_ticket

    ticket = make_ticket(project, agent, title="bench")
    start = 0 if floor else current_seq(project.pk)
    ctx = mp.get_context("spawn")
    ws_url = f"ws://127.0.0.1:{server.port}"
    workers = []
    for i in range(procs):
        share = clients // procs + (1 if i < clients % procs else 0)
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=clients_main, args=(child, ws_url, project.key, token, share, start, events)
        )
        proc.start()
        workers.append((proc, parent))
    for _, parent in workers:
        assert parent.poll(180), "clients never connected"
        assert parent.recv() == "ready"
    time.sleep(0.5)
    if floor:
        committed, push_ms = publish_events(start, events, spacing=spacing)
    else:
        committed, push_ms = write_events(project, agent, ticket.pk, events, spacing=spacing)
    arrivals: list[dict[int, int]] = []
    for proc, parent in workers:
        arrivals += parent.recv()
        proc.join(30)
    samples, last_per_event, missing = [], [], 0
    for offset, t0 in enumerate(committed):
        seq = start + offset + 1
        per_event = []
        for received in arrivals:
            if seq in received:
                per_event.append((received[seq] - t0) / 1e6)
            else:
                missing += 1
        samples += per_event
        if per_event:
            last_per_event.append(max(per_event))
    return {
        "clients": clients,
        "client_processes": procs,
        "events": events,
        "spacing_ms": spacing * 1000,
        "missing_deliveries": missing,
        "commit_to_received": summarise(samples),
        "commit_to_last_client": summarise(last_per_event),
        "push_in_writer": summarise(push_ms),
    }


def idle_rss(token: str, project: Any, n: int, *, deflate: bool = False) -> dict[str, Any]:
    from notifications.services import current_seq

    server = uvicorn(deflate=deflate)
    try:
        time.sleep(1.0)
        baseline = server.rss_kb()
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        ws_url = f"ws://127.0.0.1:{server.port}"
        proc = ctx.Process(
            target=idle_main, args=(child, ws_url, project.key, token, n, current_seq(project.pk))
        )
        proc.start()
        assert parent.poll(300), "idle sockets never connected"
        open_sockets = parent.recv()
        time.sleep(3.0)  # settle: heartbeats scheduled, buffers allocated
        loaded = server.rss_kb()
        parent.send("stop")
        proc.join(60)
        return {
            "per_message_deflate": deflate,
            "sockets": n,
            "open": open_sockets,
            "rss_baseline_mb": round(baseline / 1024, 1),
            "rss_mb": round(loaded / 1024, 1),
            "per_socket_kb": round((loaded - baseline) / max(1, n), 1),
        }
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="500 events, 2,000 idle sockets")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument(
        "--procs", type=int, default=2, help="client processes (their parsing is not the server's)"
    )
    args = parser.parse_args()
    events, idle = (500, 2000) if args.full else (100, 1000)

    setup_django()
    RESULTS.mkdir(parents=True, exist_ok=True)
    project, agent = fresh_project()
    token = api_token(agent.username)
    figures: dict[str, Any] = {"size": "full" if args.full else "default"}
    figures["load_average_before"] = os.getloadavg()
    figures["floor_redis_pubsub"] = redis_floor()
    floor = floor_uvicorn()
    try:
        figures["floor_bare_asgi_fanout"] = delivery(
            floor,
            token,
            project,
            agent,
            clients=args.clients,
            events=events,
            procs=args.procs,
            spacing=SPACING,
            floor=True,
        )
    finally:
        floor.stop()
    server = uvicorn()
    try:
        # One socket first: the path's own latency, with no fan-out in it.
        figures["delivery_1_client"] = delivery(
            server, token, project, agent, clients=1, events=50, procs=1, spacing=0.05
        )
        figures["delivery"] = delivery(
            server,
            token,
            project,
            agent,
            clients=args.clients,
            events=events,
            procs=args.procs,
            spacing=SPACING,
        )
    finally:
        server.stop()
    started = time.monotonic()
    figures["idle"] = idle_rss(token, project, idle)
    figures["idle"]["open_seconds"] = round(time.monotonic() - started, 1)
    if args.full:
        figures["idle_with_deflate"] = idle_rss(token, project, idle, deflate=True)
    figures["load_average_after"] = os.getloadavg()
    figures["targets"] = {
        "commit_to_received_p50_ms": 5,
        "commit_to_received_p99_ms": 50,
        "idle_1000_rss_mb": 200,
    }
    delivered = figures["delivery"]["commit_to_received"]
    print(
        f"commit->received ({args.clients} clients x {events} events): "
        f"p50 {delivered['p50_ms']:.2f} ms, p99 {delivered['p99_ms']:.2f} ms "
        f"(floor, bare ASGI fan-out: p50 "
        f"{figures['floor_bare_asgi_fanout']['commit_to_received']['p50_ms']:.2f} ms, p99 "
        f"{figures['floor_bare_asgi_fanout']['commit_to_received']['p99_ms']:.2f} ms; "
        f"redis pub/sub p50 {figures['floor_redis_pubsub']['p50_ms']:.3f} ms); "
        f"{idle} idle sockets: RSS {figures['idle']['rss_mb']} MB"
    )
    write_results("realtime", figures)


if __name__ == "__main__":
    main()
