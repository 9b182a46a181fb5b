"""Webhook benchmark: the outbox's cost on the write path, and delivered throughput.

    python bench/bench_webhooks.py            # write path (3 variants x 400 moves) + 2k events x 3 endpoints
    python bench/bench_webhooks.py --full     # the issue's size: 10k events x 3 endpoints
    python bench/bench_webhooks.py --events 0 # write path only

Targets (issue 6): 10k events fanned out to 3 endpoints, delivered throughput; the outbox insert
adds <= 0.3 ms p50 to a move. The write path is measured in interleaved rounds against two floors
from the same run: a move with the outbox step removed entirely, and a move in a project with no
endpoints. Throughput runs real Celery workers against a local receiver in its own process; every
event is produced by a real `move_ticket` and counted once it is recorded as delivered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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
    percentile,
    setup_django,
    summarise,
    time_calls,
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


def write_path(ctx: dict[str, Any], *, rounds: int, per_round: int) -> dict[str, Any]:
    """Move latency with the outbox removed, with no endpoints, and with 3 endpoints (interleaved)."""
    from django.db import transaction

    from notifications import dispatch
    from notifications.models import Webhook, WebhookDelivery
    from notifications.webhooks.outbox import record_webhook_event
    from tests_support.factories import make_ticket
    from tickets.services.tickets import move_ticket

    project = ctx["project"]
    ticket = make_ticket(
        project, ctx["lead"], requester=ctx["customer"], assignee=ctx["agent"], title="Hot ticket"
    )
    hooks = add_endpoints(project, "http://127.0.0.1:9", active=False)
    state = {"i": 0}

    def move() -> None:
        state["i"] += 1
        move_ticket(actor=ctx["lead"], ticket_id=ticket.pk, status_key=STATUSES[state["i"] % 2])

    real_outbox = dispatch.record_webhook_event

    def no_outbox(**kwargs: Any) -> list[int]:
        return []

    samples: dict[str, list[float]] = {
        "floor_no_outbox": [],
        "no_endpoints": [],
        "three_endpoints": [],
    }
    for _ in range(rounds):
        for variant in samples:
            dispatch.record_webhook_event = (
                no_outbox if variant == "floor_no_outbox" else real_outbox
            )  # type: ignore[assignment]
            Webhook.objects.filter(pk__in=hooks).update(is_active=variant == "three_endpoints")
            samples[variant] += time_calls(move, per_round, warmup=3)
        purge_queue()
    dispatch.record_webhook_event = real_outbox  # type: ignore[assignment]
    rows = WebhookDelivery.objects.filter(webhook_id__in=hooks).count()

    Webhook.objects.filter(pk__in=hooks).update(is_active=True)

    def insert_only() -> None:
        with transaction.atomic():
            record_webhook_event(project_id=project.pk, kind="ticket.moved", data={"id": ticket.pk})

    insert_samples = time_calls(insert_only, rounds * per_round, warmup=10)
    Webhook.objects.filter(pk__in=hooks).delete()
    purge_queue()

    figures: dict[str, Any] = {name: summarise(values) for name, values in samples.items()}
    figures["outbox_insert_alone_3_endpoints"] = summarise(insert_samples)
    floor = figures["floor_no_outbox"]["p50_ms"]
    figures["added_p50_ms_vs_floor"] = {
        "no_endpoints": round(figures["no_endpoints"]["p50_ms"] - floor, 4),
        "three_endpoints": round(figures["three_endpoints"]["p50_ms"] - floor, 4),
    }
    figures["delivery_rows_written_in_three_endpoint_rounds"] = rows
    figures["target_added_p50_ms"] = 0.3
    return figures


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


def throughput(ctx: dict[str, Any], *, events: int, concurrency: int) -> dict[str, Any]:
    """`events` moves, each fanned out to 3 endpoints, delivered by real workers to a receiver."""
    from django.db.models import F

    from notifications.models import WebhookDelivery
    from tests_support.factories import make_ticket
    from tests_support.live import free_port, wait_for_port
    from tickets.services.tickets import move_ticket

    project = ctx["project"]
    # Only the actor relates to this ticket: every event produces webhook deliveries and nothing else.
    ticket = make_ticket(project, ctx["lead"], requester=ctx["lead"], title="Busy ticket")
    port = free_port()
    receiver = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--receiver", str(port)], cwd=ROOT
    )
    wait_for_port(port, receiver)
    hooks = add_endpoints(project, f"http://127.0.0.1:{port}", active=True)
    purge_queue()
    workers = start_workers(concurrency)
    time.sleep(4)  # let the workers come up before the clock starts
    try:
        started = time.perf_counter()
        for i in range(events):
            move_ticket(actor=ctx["lead"], ticket_id=ticket.pk, status_key=STATUSES[i % 2])
        produced = time.perf_counter() - started
        expected = 3 * events
        deadline = time.monotonic() + max(120.0, events * 0.05)
        done = 0
        while time.monotonic() < deadline:
            done = WebhookDelivery.objects.filter(webhook_id__in=hooks, status="succeeded").count()
            if done >= expected:
                break
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
        stats = receiver_stats(port)
    finally:
        os.killpg(workers.pid, signal.SIGTERM)
        workers.wait(30)
        receiver.terminate()
        receiver.wait(10)
    latencies = [
        delta.total_seconds() * 1000
        for delta in WebhookDelivery.objects.filter(webhook_id__in=hooks, status="succeeded")
        .annotate(latency=F("succeeded_at") - F("created_at"))
        .values_list("latency", flat=True)
    ]
    failed = (
        WebhookDelivery.objects.filter(webhook_id__in=hooks).exclude(status="succeeded").count()
    )
    purge_queue()
    return {
        "events": events,
        "endpoints": 3,
        "worker_processes": concurrency,
        "deliveries_expected": expected,
        "deliveries_succeeded": done,
        "deliveries_not_succeeded": failed,
        "receiver_requests": stats["requests"],
        "receiver_distinct_deliveries": stats["unique"],
        "produce_seconds": round(produced, 2),
        "events_per_second_produced": round(events / produced, 1),
        "total_seconds": round(elapsed, 2),
        "deliveries_per_second": round(done / elapsed, 1),
        "commit_to_delivered_ms": {
            "p50_ms": round(percentile(latencies, 50), 1),
            "p90_ms": round(percentile(latencies, 90), 1),
            "p99_ms": round(percentile(latencies, 99), 1),
            "max_ms": round(max(latencies), 1) if latencies else None,
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="10k events (the issue's size)")
    parser.add_argument("--events", type=int, default=None, help="events for the throughput run")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--per-round", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--receiver", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver is not None:
        run_receiver(args.receiver)
        return 0
    events = args.events if args.events is not None else (10_000 if args.full else 2_000)
    os.environ["CELERY_QUEUE"] = QUEUE
    os.environ.setdefault("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only")
    setup_django()
    ctx = setup_project()
    figures: dict[str, Any] = {
        "size": "full" if events >= 10_000 else ("default" if events else "write-path-only")
    }
    print("write path ...", flush=True)
    figures["write_path_move"] = write_path(ctx, rounds=args.rounds, per_round=args.per_round)
    print(json.dumps(figures["write_path_move"]["added_p50_ms_vs_floor"]), flush=True)
    if events:
        print(f"throughput: {events} events x 3 endpoints ...", flush=True)
        figures["throughput"] = throughput(ctx, events=events, concurrency=args.concurrency)
        print(json.dumps(figures["throughput"]), flush=True)
    clean_project()
    write_results("webhooks", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
