"""Issue 5: commit -> received by 200 board sockets (p50/p99), and RSS of 1,000 idle sockets.

One uvicorn process serves the sockets; the clients (notifications.client.BoardClient) run in a
separate process so their parsing does not steal the writer's CPU. The writer commits real ticket
edits through `update_ticket`; t0 is taken by an on-commit hook registered before the service's
own, so it is the moment COMMIT returned. Each event is sent alone (a pause between events), so a
sample is one delivery, not a queue. Samples: every (event, client) pair.

Floor in the same run: a raw Redis PUBLISH -> SUBSCRIBE round trip on loopback (what the channel
layer cannot beat), and the cost of the push itself in the writer process.

    python bench/bench_realtime.py            # 200 clients x 100 events, 1,000 idle sockets
    python bench/bench_realtime.py --full     # 200 clients x 500 events, 2,000 idle sockets
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

PREFIX = "helpline-bench"  # pub/sub ignores the Redis db number: keep off a running desk's groups
os.environ["CHANNELS_PREFIX"] = PREFIX
# services.env exports the desk's REDIS_URL; presence keys must not land in the desk's database.
os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def uvicorn() -> Server:
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
    ]
    return Server(argv, port, child_env(CHANNELS_PREFIX=PREFIX))


# --- the clients' process ------------------------------------------------------------------------


def clients_main(
    conn: Connection, ws_url: str, token: str, n: int, start: int, events: int
) -> None:
    """Open n board sockets at `start`, report ready, then return every arrival time."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from notifications.client import BoardClient

    async def run() -> None:
        clients = []
        for _ in range(n):
            client = BoardClient(api_url="http://unused", ws_url=ws_url, project="RTB", token=token)
            client.board.load({"seq": start, "columns": []})
            clients.append(client)
        gate = asyncio.Semaphore(50)

        async def open_one(client: BoardClient) -> None:
            async with gate:
                await client.connect()
                await client.wait_until(lambda: client.presence is not None, timeout=60)

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


def idle_main(conn: Connection, ws_url: str, token: str, n: int, start: int) -> None:
    """Open n board sockets and hold them until told to stop."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from notifications.client import BoardClient

    async def run() -> None:
        clients = []
        gate = asyncio.Semaphore(100)

        async def open_one() -> None:
            client = BoardClient(api_url="http://unused", ws_url=ws_url, project="RTB", token=token)
            client.board.load({"seq": start, "columns": []})
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
    project: Any, agent: Any, ticket_id: int, events: int
) -> tuple[list[int], list[float]]:
    """Commit `events` ticket edits one at a time; returns their commit times and push costs."""
    from django.db import transaction

    from tickets.services.tickets import update_ticket

    committed, push_ms = [], []
    for i in range(events):
        stamps: list[int] = []
        with transaction.atomic():
            # Registered before the service's own hooks, so it runs first after COMMIT.
            transaction.on_commit(lambda stamps=stamps: stamps.append(time.monotonic_ns()))
            update_ticket(actor=agent, ticket_id=ticket_id, changes={"title": f"bench {i}"})
        push_ms.append((time.monotonic_ns() - stamps[0]) / 1e6)
        committed.append(stamps[0])
        time.sleep(0.03)  # deliveries measured one at a time, not as a queue
    return committed, push_ms


def delivery(
    server: Server, token: str, project: Any, agent: Any, clients: int, events: int
) -> dict[str, Any]:
    from notifications.services import current_seq
    from tests_support.factories import make_ticket

    ticket = make_ticket(project, agent, title="bench")
    start = current_seq(project.pk)
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    ws_url = f"ws://127.0.0.1:{server.port}"
    proc = ctx.Process(target=clients_main, args=(child, ws_url, token, clients, start, events))
    proc.start()
    assert parent.poll(120), "clients never connected"
    assert parent.recv() == "ready"
    time.sleep(0.5)
    committed, push_ms = write_events(project, agent, ticket.pk, events)
    arrivals: list[dict[int, int]] = parent.recv()
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
        "events": events,
        "missing_deliveries": missing,
        "commit_to_received": summarise(samples),
        "commit_to_last_client": summarise(last_per_event),
        "push_in_writer": summarise(push_ms),
    }


def idle_rss(token: str, project: Any, n: int) -> dict[str, Any]:
    from notifications.services import current_seq

    server = uvicorn()
    try:
        time.sleep(1.0)
        baseline = server.rss_kb()
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        ws_url = f"ws://127.0.0.1:{server.port}"
        proc = ctx.Process(
            target=idle_main, args=(child, ws_url, token, n, current_seq(project.pk))
        )
        proc.start()
        assert parent.poll(300), "idle sockets never connected"
        open_sockets = parent.recv()
        time.sleep(3.0)  # settle: heartbeats scheduled, buffers allocated
        loaded = server.rss_kb()
        parent.send("stop")
        proc.join(60)
        return {
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
    args = parser.parse_args()
    events, idle = (500, 2000) if args.full else (100, 1000)

    setup_django()
    RESULTS.mkdir(parents=True, exist_ok=True)
    from bench.seed import reset_project

    project, agent = reset_project("RTB")
    token = api_token(agent.username)
    figures: dict[str, Any] = {"size": "full" if args.full else "default"}
    figures["floor_redis_pubsub"] = redis_floor()
    server = uvicorn()
    try:
        figures["delivery"] = delivery(server, token, project, agent, args.clients, events)
    finally:
        server.stop()
    figures["idle"] = idle_rss(token, project, idle)
    figures["targets"] = {
        "commit_to_received_p50_ms": 5,
        "commit_to_received_p99_ms": 50,
        "idle_1000_rss_mb": 200,
    }
    delivered = figures["delivery"]["commit_to_received"]
    print(
        f"commit->received ({args.clients} clients x {events} events): "
        f"p50 {delivered['p50_ms']:.2f} ms, p99 {delivered['p99_ms']:.2f} ms "
        f"(floor: redis pub/sub p50 {figures['floor_redis_pubsub']['p50_ms']:.3f} ms); "
        f"{idle} idle sockets: RSS {figures['idle']['rss_mb']} MB"
    )
    write_results("realtime", figures)


if __name__ == "__main__":
    main()
