"""Webhook benchmark: the outbox's cost on the write path, and delivered throughput.

    python bench/bench_webhooks.py            # write path (10 rounds x 100 AB pairs) + 1k events x 3 endpoints
    python bench/bench_webhooks.py --full     # the issue's size: 10k events x 3 endpoints
    python bench/bench_webhooks.py --events 0 # write path only

Targets (issue 6): 10k events fanned out to 3 endpoints, delivered throughput; the outbox insert
adds <= 0.3 ms p50 to a move. The write path times the same move service call with no active
endpoint (A) and with 3 (B), interleaved pair by pair (AB, BA, ...) over several rounds: the
difference of the medians, and its spread over the rounds. It also times the outbox step inside
those moves (the figure a busy machine blurs least). Throughput: the events are committed first
(a backlog of 3 x N deliveries), then real Celery workers drain it to a local receiver in its own
process; the receiver counts distinct deliveries, so a duplicate would show. A steady trickle afterwards gives the end-to-end
latency (commit to recorded delivery) when no backlog is in the way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Its own database: other benchmarks' half-migrated schemas never get in the way of this one.
os.environ.setdefault("BENCH_DATABASE_NAME", "helpline_bench_webhooks")

from bench.common import (
    ROOT,
    child_env,
    setup_django,
    summarise,
    write_results,
)

KEY = "WHBENCH"
QUEUE = "bench-webhooks"
STATUSES = ("open", "in_progress")


# --- the receiver (its own process, so it does not compete with the producer for the GIL) -------


def run_receiver(port: int) -> None:
    """A minimal HTTP/1.1 server: answers every POST 200, counts requests and distinct ids."""
    seen: set[str] = set()
    stats = {"requests": 0}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)
            }
            length = int(headers.get("content-length", "0"))
            if length:
                await reader.readexactly(length)
            if lines[0].startswith("GET /stats"):
                body = json.dumps({"requests": stats["requests"], "unique": len(seen)}).encode()
            else:
                stats["requests"] += 1
                seen.add(headers.get("webhook-id", "") + headers.get("host", "") + lines[0])
                body = b"ok"
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s"
                % (len(body), body)
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def receiver_stats(port: int) -> dict[str, int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as response:
        stats: dict[str, int] = json.loads(response.read())
        return stats


# --- set-up -------------------------------------------------------------------------------------


def clean_project() -> None:
    """Remove the bench project and every row that points at it or its tickets (via the catalog)."""
    from django.db import connection

    from tickets.models import Project

    project = Project.objects.filter(key=KEY).first()
    if project is None:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM notifications_webhookattempt WHERE delivery_id IN (SELECT d.id FROM "
            "notifications_webhookdelivery d JOIN notifications_webhook w ON w.id = d.webhook_id "
            "WHERE w.project_id = %s)",
            [project.pk],
        )
        cursor.execute(
            "DELETE FROM notifications_webhookdelivery WHERE webhook_id IN "
            "(SELECT id FROM notifications_webhook WHERE project_id = %s)",
            [project.pk],
        )
        cursor.execute(
            "DELETE FROM notifications_emaildelivery WHERE user_id IN "
            "(SELECT user_id FROM tickets_membership WHERE project_id = %s)",
            [project.pk],
        )
        cursor.execute(
            """
            SELECT cl.relname, att.attname FROM pg_constraint con
            JOIN pg_class cl ON cl.oid = con.conrelid
            JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = con.conkey[1]
            WHERE con.contype = 'f' AND con.confrelid = 'tickets_ticket'::regclass
            """
        )
        for table, column in cursor.fetchall():
            cursor.execute(
                f'DELETE FROM "{table}" WHERE "{column}" IN '
                "(SELECT id FROM tickets_ticket WHERE project_id = %s)",
                [project.pk],
            )
        cursor.execute("DELETE FROM tickets_ticket WHERE project_id = %s", [project.pk])
    project.delete()


def setup_project() -> dict[str, Any]:
    from tests_support.factories import ensure_default_statuses
    from tickets.models import Membership, User
    from tickets.services.projects import create_project

    ensure_default_statuses()
    clean_project()
    project = create_project(actor=None, key=KEY, name="Bench webhooks")
    people = {}
    for name, role in (("lead", "lead"), ("agent", "agent"), ("customer", "customer")):
        user, _ = User.objects.get_or_create(
            username=f"bench-wh-{name}", defaults={"email": f"{name}@bench.local"}
        )
        Membership.objects.create(user=user, project=project, role=role)
        people[name] = user
    return {"project": project, **people}


def add_endpoints(project: Any, base_url: str, *, active: bool) -> list[int]:
    from notifications.models import Webhook
    from notifications.webhooks.signing import generate_secret

    return [
        Webhook.objects.create(
            project=project,
            url=f"{base_url}/{name}",
            events=["*"],
            secret=generate_secret(),
            is_active=active,
        ).pk
        for name in ("a", "b", "c")
    ]


def purge_queue() -> None:
    from config.redis import get_redis

    get_redis().delete(QUEUE)


# --- write path ---------------------------------------------------------------------------------


def write_path(ctx: dict[str, Any], *, rounds: int, pairs: int) -> dict[str, Any]:
    """The added latency of a whole move: the same move service call with 0 vs 3 active endpoints.

    `rounds` rounds of `pairs` pairs; each pair is one move with no active endpoint (A) and one
    with 3 (B), in alternating order (AB, BA, AB, ...) so drift and load land on both alike.
    Per round: median(B) - median(A); reported: the difference of the overall medians and the
    spread of the per-round differences. The outbox step's own time inside the same moves is
    recorded too (the figure a busy machine blurs least).
    """
    import statistics

    from django.db import transaction

    from notifications import dispatch
    from notifications.models import Webhook, WebhookDelivery
    from notifications.webhooks.outbox import record_webhook_event
    from tests_support.factories import make_ticket
    from tickets.services.moves import move_ticket

    project = ctx["project"]
    # A realistic ticket: requester and assignee hear of every move (in-app), in every variant.
    ticket = make_ticket(
        project, ctx["lead"], requester=ctx["customer"], assignee=ctx["agent"], title="Hot ticket"
    )
    hooks = add_endpoints(project, "http://127.0.0.1:9", active=False)
    real_outbox = dispatch.record_webhook_event
    step_ms: dict[str, list[float]] = {"A": [], "B": []}
    current = {"variant": "A"}

    def timed_outbox(**kwargs: Any) -> list[int]:
        started = time.perf_counter()
        ids = real_outbox(**kwargs)
        step_ms[current["variant"]].append((time.perf_counter() - started) * 1000)
        return ids

    dispatch.record_webhook_event = timed_outbox
    moves = 0
    all_ms: dict[str, list[float]] = {"A": [], "B": []}
    per_round: list[dict[str, float]] = []
    try:
        for r in range(rounds + 1):  # round 0 warms caches and connections, and is dropped
            round_ms: dict[str, list[float]] = {"A": [], "B": []}
            for i in range(pairs):
                for variant in "AB" if i % 2 == 0 else "BA":
                    Webhook.objects.filter(pk__in=hooks).update(is_active=variant == "B")
                    current["variant"] = variant
                    moves += 1
                    started = time.perf_counter()
                    move_ticket(
                        actor=ctx["lead"], ticket_id=ticket.pk, status_key=STATUSES[moves % 2]
                    )
                    round_ms[variant].append((time.perf_counter() - started) * 1000)
                if i % 50 == 0:
                    purge_queue()
            if r == 0:
                step_ms = {"A": [], "B": []}
                continue
            a, b = statistics.median(round_ms["A"]), statistics.median(round_ms["B"])
            per_round.append({"a_p50_ms": round(a, 4), "b_p50_ms": round(b, 4), "diff": b - a})
            all_ms["A"] += round_ms["A"]
            all_ms["B"] += round_ms["B"]
    finally:
        dispatch.record_webhook_event = real_outbox
    rows = WebhookDelivery.objects.filter(webhook_id__in=hooks).count()

    Webhook.objects.filter(pk__in=hooks).update(is_active=True)
    insert_samples: list[float] = []
    for i in range(rounds * pairs + 5):
        with transaction.atomic():
            started = time.perf_counter()
            record_webhook_event(project_id=project.pk, kind="ticket.moved", data={"id": ticket.pk})
            elapsed = (time.perf_counter() - started) * 1000
        if i >= 5:
            insert_samples.append(elapsed)
    server_ms = _server_time(project.pk, 200)
    Webhook.objects.filter(pk__in=hooks).delete()
    purge_queue()

    diffs = sorted(x["diff"] for x in per_round)
    # Resampling the moves: how far the difference of the medians moves with the sample.
    rng = random.Random(7)
    boot = sorted(
        statistics.median(rng.choices(all_ms["B"], k=len(all_ms["B"])))
        - statistics.median(rng.choices(all_ms["A"], k=len(all_ms["A"])))
        for _ in range(1000)
    )
    # Each pair's two moves ran back to back: their difference cancels slower drift.
    paired = [b - a for a, b in zip(all_ms["A"], all_ms["B"], strict=True)]
    a50 = statistics.median(all_ms["A"])
    b50 = statistics.median(all_ms["B"])
    quartiles = statistics.quantiles(diffs, n=4) if len(diffs) >= 2 else [diffs[0]] * 3
    return {
        "method": f"{rounds} rounds x {pairs} pairs of the same move_ticket call, alternating "
        "AB/BA; A = no active endpoint, B = 3 active endpoints (events ['*'])",
        "move_no_endpoints": summarise(all_ms["A"]),
        "move_three_endpoints": summarise(all_ms["B"]),
        "added_p50_ms": round(b50 - a50, 4),
        "added_p50_ms_bootstrap_95ci": [round(boot[25], 4), round(boot[974], 4)],
        "median_of_paired_differences_ms": round(statistics.median(paired), 4),
        "added_p50_ms_per_round": {
            "median": round(statistics.median(diffs), 4),
            "q1": round(quartiles[0], 4),
            "q3": round(quartiles[2], 4),
            "min": round(diffs[0], 4),
            "max": round(diffs[-1], 4),
            "rounds": [round(d, 4) for d in (x["diff"] for x in per_round)],
        },
        "outbox_step_inside_moves": {
            "no_endpoints": summarise(step_ms["A"]),
            "three_endpoints": summarise(step_ms["B"]),
            "added_p50_ms": round(
                statistics.median(step_ms["B"]) - statistics.median(step_ms["A"]), 4
            ),
        },
        "outbox_insert_alone_3_endpoints": summarise(insert_samples),
        "outbox_statement_server_time_3_endpoints": summarise(server_ms),
        "delivery_rows_written": rows,
        "target_added_p50_ms": 0.3,
        "target_met": b50 - a50 <= 0.3,
    }


def _server_time(project_id: int, n: int) -> list[float]:
    """Planning + execution time PostgreSQL reports for the outbox statement (3 rows, rolled back).

    The database's own share of the cost, which a busy client machine inflates the least.
    """
    from django.db import connection, transaction

    from notifications.sql import WEBHOOK_DELIVERIES as _INSERT_DELIVERIES

    out: list[float] = []
    with transaction.atomic(), connection.cursor() as cursor:
        for i in range(n + 5):
            cursor.execute(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + _INSERT_DELIVERIES,
                {
                    "msg_id": f"msg_server_time_{i}",
                    "kind": "ticket.moved",
                    "body": "x" * 1000,
                    "grace": 120.0,
                    "project_id": project_id,
                },
            )
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            if i >= 5:
                out.append(plan[0]["Planning Time"] + plan[0]["Execution Time"])
        transaction.set_rollback(True)
    return out


# --- throughput ---------------------------------------------------------------------------------


def start_workers(concurrency: int) -> subprocess.Popen[bytes]:
    log = (ROOT / ".data" / "bench-webhooks-worker.log").open("wb")
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "worker",
            "--loglevel",
            "WARNING",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--queues",
            QUEUE,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"bench-webhooks-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=child_env(
            CELERY_QUEUE=QUEUE,
            WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
            DJANGO_SETTINGS_MODULE="config.settings",
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _produce(project_id: int, ticket_id: int, count: int, *, rate: float | None = None) -> float:
    """`count` events through the real dispatch path, each in its own transaction; seconds taken.

    `notify_project_event` writes the outbox rows and queues one dispatch task after commit, as a
    ticket change does (the move itself is what the write-path figures time).
    """
    from django.db import transaction

    from notifications.dispatch import notify_project_event

    started = time.perf_counter()
    for i in range(count):
        with transaction.atomic():
            notify_project_event(
                kind="ticket.moved",
                project_id=project_id,
                data={"ticket": {"id": ticket_id, "key": f"{KEY}-1"}, "n": i, "note": "x" * 400},
            )
        if rate is not None:
            time.sleep(max(0.0, started + (i + 1) / rate - time.perf_counter()))
    return time.perf_counter() - started


def _wait_delivered(hooks: list[int], expected: int, timeout: float) -> int:
    from notifications.models import WebhookDelivery

    deadline = time.monotonic() + timeout
    done = 0
    while time.monotonic() < deadline:
        done = WebhookDelivery.objects.filter(webhook_id__in=hooks, status="succeeded").count()
        if done >= expected:
            break
        time.sleep(0.25)
    return done


def throughput(ctx: dict[str, Any], *, events: int, concurrency: int) -> dict[str, Any]:
    """Drain a backlog of `events` x 3 deliveries with real workers; then end-to-end latency."""
    from django.db.models import F, Max, Min

    from notifications.models import WebhookDelivery
    from tests_support.live import free_port, wait_for_port

    project = ctx["project"]
    port = free_port()
    receiver = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--receiver", str(port)], cwd=ROOT
    )
    wait_for_port(port, receiver)
    hooks = add_endpoints(project, f"http://127.0.0.1:{port}", active=True)
    purge_queue()
    # 1. The backlog: every event committed (and its task queued) before any worker runs.
    produced = _produce(project.pk, 1, events)
    expected = 3 * events
    workers = start_workers(concurrency)
    try:
        done = _wait_delivered(hooks, expected, max(300.0, events * 0.2))
        drained = WebhookDelivery.objects.filter(webhook_id__in=hooks, status="succeeded")
        span = drained.aggregate(first=Min("succeeded_at"), last=Max("succeeded_at"))
        drain_seconds = (span["last"] - span["first"]).total_seconds() if done > 1 else None
        attempt_ms = list(drained.values_list("duration_ms", flat=True))
        stats = receiver_stats(port)
        failed = (
            WebhookDelivery.objects.filter(webhook_id__in=hooks).exclude(status="succeeded").count()
        )
        # 2. Latency when nobody is behind: a steady trickle of events, idle workers.
        WebhookDelivery.objects.filter(webhook_id__in=hooks).delete()
        trickle = min(300, max(60, events // 20))
        _produce(project.pk, 1, trickle, rate=20.0)
        trickle_done = _wait_delivered(hooks, 3 * trickle, 120.0)
        latencies = [
            delta.total_seconds() * 1000
            for delta in WebhookDelivery.objects.filter(webhook_id__in=hooks, status="succeeded")
            .annotate(latency=F("succeeded_at") - F("created_at"))
            .values_list("latency", flat=True)
        ]
    finally:
        os.killpg(workers.pid, signal.SIGTERM)
        workers.wait(30)
        receiver.terminate()
        receiver.wait(10)
    purge_queue()
    return {
        "events": events,
        "endpoints": 3,
        "worker_processes": concurrency,
        "produce_seconds": round(produced, 2),
        "events_per_second_written": round(events / produced, 1),
        "backlog": {
            "deliveries_expected": expected,
            "deliveries_succeeded": done,
            "deliveries_not_succeeded": failed,
            "receiver_requests": stats["requests"],
            "receiver_distinct": stats["unique"],
            "drain_seconds_first_to_last": round(drain_seconds, 2) if drain_seconds else None,
            "deliveries_per_second": round((done - 1) / drain_seconds, 1)
            if drain_seconds
            else None,
            "http_attempt": summarise([float(ms) for ms in attempt_ms if ms is not None]),
        },
        "steady_20_events_per_second": {
            "events": trickle,
            "deliveries_succeeded": trickle_done,
            "commit_to_delivered": summarise(latencies) if latencies else None,
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="10k events (the issue's size)")
    parser.add_argument("--events", type=int, default=None, help="events for the throughput run")
    parser.add_argument("--rounds", type=int, default=10, help="rounds of the write-path test")
    parser.add_argument("--pairs", type=int, default=100, help="A/B pairs of moves per round")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--receiver", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver is not None:
        run_receiver(args.receiver)
        return 0
    events = args.events if args.events is not None else (10_000 if args.full else 1_000)
    os.environ["CELERY_QUEUE"] = QUEUE
    os.environ.setdefault("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only")
    setup_django()
    ctx = setup_project()
    figures: dict[str, Any] = {
        "size": "full" if events >= 10_000 else ("default" if events else "write-path-only"),
        # Everything here is wall-clock: a busy machine inflates it, so the load is recorded.
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    print("write path ...", flush=True)
    figures["write_path_move"] = write_path(ctx, rounds=args.rounds, pairs=args.pairs)
    wp = figures["write_path_move"]
    print(
        json.dumps(
            {
                "added_p50_ms": wp["added_p50_ms"],
                "ci95": wp["added_p50_ms_bootstrap_95ci"],
                "paired": wp["median_of_paired_differences_ms"],
                **wp["added_p50_ms_per_round"],
            }
        )
    )
    print(json.dumps(wp["outbox_step_inside_moves"]), flush=True)
    if events:
        print(f"throughput: {events} events x 3 endpoints ...", flush=True)
        figures["throughput"] = throughput(ctx, events=events, concurrency=args.concurrency)
        print(json.dumps(figures["throughput"]), flush=True)
    figures["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    clean_project()
    if not events:
        # Write path only: keep the last throughput figures, labelled with when they were taken.
        from bench.common import RESULTS

        previous = RESULTS / "webhooks.json"
        if previous.exists():
            old = json.loads(previous.read_text())
            kept = old.get("figures", {})
            if "throughput" in kept:
                figures["throughput"] = {**kept["throughput"], "measured_at": old["measured_at"]}
    write_results("webhooks", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
