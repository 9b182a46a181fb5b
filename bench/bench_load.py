"""Issue 18: a mixed load of 50 clients (list, detail, move, comment) against gunicorn + Celery.

The desk: one project of `--tickets` tickets seeded by COPY (realistic text), 10 agents with
tokens, and 500 "working" tickets created through the service (SLA rows, assignee and requester
watching, so a move or a comment notifies people and a Celery `dispatch_event_task` fans the
e-mails out; every write also records a board event pushed on the channel layer).

Per configuration (`--grid sync:2:1,gthread:2:8,...` = worker class : workers : threads, with
`--celery N` prefork processes): gunicorn runs with the project's gunicorn.conf.py (DEBUG off)
and a real Celery worker consumes the default queue; the load client runs in its OWN process
(this file with `--client`, asyncio and a minimal HTTP/1.1 client over keep-alive connections,
reconnecting when the server closes as sync workers do) with `--clients` concurrent clients for
`--duration` seconds after `--warmup` seconds. Mix: 40% list (a page of 50, newest first, of the
project, by status or by priority), 30% detail, 15% move (status change to another column),
15% comment (a public reply).

Two modes: closed loop (`--rate 0`, each client sends its next request when the previous one
answers: the saturation throughput, and Little's law makes latency = clients / throughput), and
open loop (`--rate R`: requests are due at R per second, spread over the clients; latency counts
from the moment a request was due, so a server that falls behind is charged the queueing, no
coordinated omission).

Recorded: throughput, p50/p90/p99 overall and per kind, errors, and CPU seconds over the measured
window of gunicorn (master + workers), the Celery worker (+ its children), this database's
PostgreSQL backends (pids of pg_stat_activity), the load client, and the whole machine (others'
processes included, from /proc/stat), with the load average.

    python bench/bench_load.py --grid sync:2:1,sync:4:1,gthread:2:8 --celery 2 --rate 0
    python bench/bench_load.py --grid gthread:2:8 --rate 100 --name load-rate100

Environment: BENCH_DATABASE_NAME (default helpline_load_bench) and BENCH_REDIS_DB (default 10).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("BENCH_DATABASE_NAME", "helpline_load_bench")
os.environ.setdefault("BENCH_REDIS_DB", "10")

from bench.common import (
    RESULTS,
    ROOT,
    Server,
    child_env,
    free_port,
    percentile,
    summarise,
    write_results,
)

PROJECT = "BLOAD"
AGENTS = 10
WORKING = 500
CLK_TCK = os.sysconf("SC_CLK_TCK")
MIX = (("list", 0.40), ("detail", 0.30), ("move", 0.15), ("comment", 0.15))
STATUSES = ["new", "in_progress", "awaiting_customer", "in_review", "resolved"]


# --- the desk ----------------------------------------------------------------------------------
def seed(n: int, reseed: bool) -> dict[str, Any]:
    """The project (reused when it has the right size), agents with tokens, working tickets."""
    from rest_framework.authtoken.models import Token

    from bench.seed import copy_tickets, reset_project
    from tickets.models import Membership, Project, Ticket, User
    from tickets.services.tickets import create_ticket

    project = Project.objects.filter(key=PROJECT).first()
    seeded = (
        project is not None
        and not reseed
        and Ticket.objects.filter(project=project).count() == n + WORKING
    )
    if not seeded:
        project, _ = reset_project(PROJECT)
        copy_tickets(project, n, status_keys=STATUSES, text=True)
    assert project is not None
    agents = []
    for i in range(AGENTS):
        user, _ = User.objects.get_or_create(
            username=f"load-agent-{i}", defaults={"is_active": True}
        )
        Membership.objects.get_or_create(user=user, project=project, defaults={"role": "agent"})
        agents.append(user)
    customer, _ = User.objects.get_or_create(username="load-customer", defaults={"is_active": True})
    Membership.objects.get_or_create(user=customer, project=project, defaults={"role": "customer"})
    if not seeded:
        for i in range(WORKING):
            create_ticket(
                actor=agents[i % AGENTS],
                project=project,
                title=f"Working ticket {i}: printer offline after update",
                description="The printer on floor 3 stops after the driver update.",
                assignee=agents[(i + 1) % AGENTS],
                requester=customer,
            )
    working = list(
        Ticket.objects.filter(project=project, number__gt=n)
        .order_by("number")
        .values_list("pk", "status__key")
    )
    assert len(working) == WORKING, len(working)
    sample = list(
        Ticket.objects.filter(project=project, number__lte=n).values_list("pk", flat=True)[
            :: max(1, n // 2000)
        ]
    )
    tokens = [Token.objects.get_or_create(user=agent)[0].key for agent in agents]
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {"working": working, "sample": sample, "tokens": tokens}


# --- processes and CPU -------------------------------------------------------------------------
def proc_cpu(pid: int) -> float:
    """utime + stime of a process so far, in seconds (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def tree(pid: int) -> list[int]:
    """The process and its descendants."""
    out = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = task / "children"
        if children.exists():
            for child in children.read_text().split():
                out += tree(int(child))
    return out


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLK_TCK, sum(values) / CLK_TCK


def pg_backends() -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


class Snapshot:
    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.at = time.monotonic()
        self.cpu = {name: {pid: proc_cpu(pid) for pid in pids} for name, pids in groups.items()}
        self.machine = machine_busy()

    def since(self, before: Snapshot) -> dict[str, float]:
        """CPU seconds per group between two snapshots (a pid new in this one counts in full)."""
        out = {}
        for name, pids in self.cpu.items():
            out[name] = round(
                sum(cpu - before.cpu.get(name, {}).get(pid, 0.0) for pid, cpu in pids.items()), 2
            )
        busy = self.machine[0] - before.machine[0]
        out["others"] = round(busy - sum(out.values()), 2)  # other tenants, Redis, the kernel
        out["machine_busy"] = round(busy, 2)
        out["machine_capacity"] = round(self.machine[1] - before.machine[1], 2)
        return out


def start_gunicorn(worker_class: str, workers: int, threads: int, extra: dict[str, str]) -> Server:
    port = free_port()
    env = child_env(
        API_PORT=str(port),
        HOST="127.0.0.1",
        WEB_WORKERS=str(workers),
        WEB_THREADS=str(threads),
        **extra,
    )
    conf = "bench/load_profile_conf.py" if "BENCH_PROFILE_DIR" in extra else "gunicorn.conf.py"
    argv = [str(Path(sys.executable).parent / "gunicorn"), "-c", conf]
    if worker_class == "sync" and threads > 1:
        raise SystemExit("sync with threads > 1 is gthread")
    if worker_class == "gthread" and threads == 1:
        argv += ["--worker-class", "gthread"]
    return Server(argv, port, env)


def wait_for_workers(server: Server, workers: int, seconds: float = 120) -> None:
    """Until every worker has imported the URLconf (gunicorn.conf.py's post_worker_init, the last
    step before it accepts connections): its memory maps scikit-learn then. On a loaded machine
    that takes several seconds, which the warm-up alone did not always cover."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pids = tree(server.proc.pid)[1:]
        ready = [pid for pid in pids if "/sklearn/" in Path(f"/proc/{pid}/maps").read_text()]
        if len(ready) >= workers:
            return
        time.sleep(0.2)
    raise TimeoutError("the gunicorn workers did not get ready")


def start_celery(concurrency: int, extra: dict[str, str]) -> subprocess.Popen[bytes]:
    log = (RESULTS / ".celery-load.log").open("wb")
    proc = subprocess.Popen(
        [
            *(str(Path(sys.executable).parent / "celery"), "-A", "config", "--quiet", "worker"),
            *("--loglevel", "WARNING", "--concurrency", str(concurrency)),
            *("--queues", "helpline", "--hostname", f"load-{os.getpid()}@%h", "--without-gossip"),
            *("--without-mingle", "--without-heartbeat"),
        ],
        cwd=ROOT,
        env=child_env(**extra),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    time.sleep(4)  # the prefork children start
    assert proc.poll() is None, (RESULTS / ".celery-load.log").read_text()[-2000:]
    return proc


def queue_length(*, purge: bool = False) -> int:
    """Tasks waiting on the default queue (purged first when asked: seeding enqueues some)."""
    import redis
    from django.conf import settings

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    if purge:
        broker.delete("helpline")
    return int(broker.llen("helpline"))


# --- one configuration -------------------------------------------------------------------------
def run_one(config: str, desk: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    worker_class, workers, threads = config.split(":")
    extra = {
        # The e-mails the dispatch task fans out are rendered and "sent" in memory.
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "DB_CONN_MAX_AGE": str(args.conn_max_age),
    }
    if args.profile_dir:
        extra["BENCH_PROFILE_DIR"] = args.profile_dir
    queue_length(purge=True)
    server = start_gunicorn(worker_class, int(workers), int(threads), extra)
    celery = start_celery(args.celery, extra)
    wait_for_workers(server, int(workers))
    spec = {
        "base_port": server.port,
        "tokens": desk["tokens"],
        "working": desk["working"],
        "sample": desk["sample"],
        "clients": args.clients,
        "duration": args.duration,
        "warmup": args.warmup,
        "rate": args.rate,
        "seed": args.seed,
    }
    spec_path = RESULTS / ".load-spec.json"
    out_path = RESULTS / ".load-samples.json"
    spec_path.write_text(json.dumps(spec))
    client = subprocess.Popen(
        [sys.executable, __file__, "--client", str(spec_path), "--client-out", str(out_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert client.stdout is not None
        assert client.stdout.readline().strip() == "measure", "the client did not start"
        groups = {
            "gunicorn": tree(server.proc.pid),
            "celery": tree(celery.pid),
            "postgres": pg_backends(),
            "client": [client.pid],
        }
        start = Snapshot(groups)
        load_start = os.getloadavg()
        assert client.stdout.readline().strip() == "done", "the client did not finish"
        groups["postgres"] = sorted(set(groups["postgres"]) | set(pg_backends()))
        groups["gunicorn"] = sorted(set(groups["gunicorn"]) | set(tree(server.proc.pid)))
        end = Snapshot(groups)
        backlog = queue_length()
        client.wait(60)
    finally:
        if client.poll() is None:
            client.kill()
        server.stop()
        celery.terminate()
        try:
            celery.wait(20)
        except subprocess.TimeoutExpired:
            celery.kill()
    found = json.loads(out_path.read_text())
    samples, unserved = found["samples"], found["unserved"]
    seconds = end.at - start.at
    cpu = end.since(start)
    ok = [s for s in samples if s[2] < 400]
    errors = [s for s in samples if s[2] >= 400]
    latencies = [s[1] for s in samples]
    result: dict[str, Any] = {
        "config": config,
        "celery_concurrency": args.celery,
        "mode": f"open loop at {args.rate}/s" if args.rate else "closed loop",
        "seconds": round(seconds, 2),
        "requests": len(samples),
        "rps": round(len(ok) / seconds, 1),
        "errors": len(errors),
        "unserved_at_end": unserved,
        "error_statuses": sorted({s[2] for s in errors}),
        "error_examples": dict(list(found["errors"].items())[:5]),
        **{k: round(v, 1) for k, v in summarise(latencies).items() if k != "n"},
        "by_kind": {
            kind: {
                "n": len(found),
                "p50_ms": round(statistics.median(found), 1),
                "p99_ms": round(percentile(found, 99), 1),
            }
            for kind, _ in MIX
            if (found := [s[1] for s in samples if s[0] == kind])
        },
        "cpu_seconds": cpu,
        "cpu_ms_per_request": {
            k: round(v * 1000 / max(1, len(samples)), 2)
            for k, v in cpu.items()
            if k != "machine_capacity"
        },
        "client_cpu_share_of_machine_busy": round(
            cpu["client"] / max(cpu["machine_busy"], 1e-9), 3
        ),
        "celery_backlog_at_end": backlog,
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
    }
    return result


def show(result: dict[str, Any]) -> None:
    cpu = result["cpu_seconds"]
    print(
        f"{result['config']:<14} c{result['celery_concurrency']} {result['mode']:<18} "
        f"{result['rps']:6.1f} req/s  p50 {result['p50_ms']:6.1f}  p90 {result['p90_ms']:6.1f}  "
        f"p99 {result['p99_ms']:6.1f} ms  err {result['errors']}  cpu s: gunicorn {cpu['gunicorn']} "
        f"celery {cpu['celery']} pg {cpu['postgres']} client {cpu['client']} "
        f"others {cpu['others']} machine {cpu['machine_busy']}/{cpu['machine_capacity']}  "
        f"load {result['load_average_start'][0]}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grid", default="sync:2:1,sync:4:1,gthread:2:4,gthread:2:8,gthread:3:8")
    parser.add_argument("--celery", type=int, default=2, help="Celery prefork concurrency")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--rate", type=float, default=0, help="0: closed loop; R: open loop R/s")
    parser.add_argument("--repeat", type=int, default=1, help="runs of the whole grid, interleaved")
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--conn-max-age", type=int, default=60)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--name", default="load", help="bench/results/<name>.json")
    parser.add_argument("--profile-dir", default="", help="cProfile each gunicorn worker there")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--client-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(load_client(json.loads(Path(args.client).read_text()), Path(args.client_out)))
        return
    from bench.common import setup_django

    setup_django()
    desk = seed(args.tickets, args.reseed)
    runs: list[dict[str, Any]] = []
    for _ in range(args.repeat):
        for config in args.grid.split(","):
            result = run_one(config, desk, args)
            show(result)
            runs.append(result)
    summary = {}
    for config in args.grid.split(","):
        mine = [r for r in runs if r["config"] == config]
        summary[config] = {
            key: statistics.median(r[key] for r in mine)
            for key in ("rps", "p50_ms", "p90_ms", "p99_ms", "errors")
        } | {
            "cpu_seconds": {
                k: statistics.median(r["cpu_seconds"][k] for r in mine)
                for k in mine[0]["cpu_seconds"]
            }
        }
    write_results(
        args.name,
        {
            "tickets": args.tickets,
            "working_tickets": WORKING,
            "agents": AGENTS,
            "clients": args.clients,
            "mix": dict(MIX),
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "rate": args.rate,
            "celery_concurrency": args.celery,
            "conn_max_age": args.conn_max_age,
            "medians": summary,
            "runs": runs,
        },
    )


# --- the load client (its own process) ---------------------------------------------------------
class Connection:
    """One keep-alive HTTP/1.1 connection; reopened when the server closes it."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.head = f"Host: 127.0.0.1:{port}\r\nAuthorization: Token {token}\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    last_error = b""

    async def request(self, method: str, path: str, body: Any = None) -> int:
        payload = json.dumps(body).encode() if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\n{self.head}"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            assert self.reader is not None
            try:
                self.writer.write(head.encode() + b"\r\n" + payload)
                raw = await self.reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError):
                # A kept-alive connection the server closed meanwhile: one retry on a new one.
                self.close()
                if attempt == 2:
                    raise
                continue
            lines = raw.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip().lower()
            if "content-length" in headers:
                data = await self.reader.readexactly(int(headers["content-length"]))
                if status >= 400:
                    Connection.last_error = f"{method} {path} {status} ".encode() + data[:300]
            elif headers.get("transfer-encoding") == "chunked":
                while True:
                    size = int((await self.reader.readline()).strip(), 16)
                    await self.reader.readexactly(size + 2)
                    if size == 0:
                        break
            if headers.get("connection") == "close":
                self.close()
            return status
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Desk:
    """What the clients do: each client is an agent (round robin) with its own working tickets
    to move (a status change to another column each time) and comments on any working ticket."""

    def __init__(self, spec: dict[str, Any], index: int, rng: random.Random) -> None:
        self.rng = rng
        working = spec["working"]
        self.mine = [list(w) for w in working[index :: spec["clients"]]]
        self.working = [w[0] for w in working]
        self.sample = spec["sample"]

    async def call(self, conn: Connection, kind: str) -> int:
        rng = self.rng
        if kind == "list":
            extra = rng.choice(
                ["", f"&status={rng.choice(STATUSES)}", f"&priority={rng.choice(['low', 'high'])}"]
            )
            return await conn.request("GET", f"/api/v1/tickets/?project={PROJECT}{extra}")
        if kind == "detail":
            pk = rng.choice(self.working if rng.random() < 0.5 else self.sample)
            return await conn.request("GET", f"/api/v1/tickets/{pk}/")
        if kind == "move":
            ticket = rng.choice(self.mine)
            ticket[1] = rng.choice([s for s in STATUSES[:4] if s != ticket[1]])
            return await conn.request(
                "PATCH", f"/api/v1/tickets/{ticket[0]}/move/", {"status": ticket[1]}
            )
        pk = rng.choice(self.working)
        return await conn.request(
            "POST",
            f"/api/v1/tickets/{pk}/messages/",
            {"body": "Thanks, we are looking into it; please try the old driver meanwhile."},
        )


async def load_client(spec: dict[str, Any], out: Path) -> None:
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    samples: list[tuple[str, float, int, float]] = []
    errors: dict[str, int] = {}
    measuring = False
    measured_from = 0.0
    stop = False
    due: asyncio.Queue[float] = asyncio.Queue()

    async def client(index: int) -> None:
        rng = random.Random(spec["seed"] * 1000 + index)
        desk = Desk(spec, index, rng)
        conn = Connection(spec["base_port"], spec["tokens"][index % len(spec["tokens"])])
        await asyncio.sleep(rng.random() * 0.5)  # not all at once
        while not stop:
            if spec["rate"]:
                start = await due.get()
                if stop:
                    break
            else:
                start = time.perf_counter()
            kind = rng.choices(kinds, weights)[0]
            try:
                status = await desk.call(conn, kind)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                conn.close()
                status = 599
            if measuring and not stop:
                done = time.perf_counter()
                samples.append((kind, (done - start) * 1000, status, done - measured_from))
                if status >= 400:
                    text = Connection.last_error.decode(errors="replace")
                    errors[text] = errors.get(text, 0) + 1
        conn.close()

    async def pacer() -> None:
        """Open loop: requests fall due at `rate` per second (Poisson arrivals)."""
        rng = random.Random(spec["seed"])
        next_at = time.perf_counter()
        while not stop:
            next_at += rng.expovariate(spec["rate"])
            delay = next_at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            due.put_nowait(next_at)

    tasks = [asyncio.create_task(client(i)) for i in range(spec["clients"])]
    if spec["rate"]:
        tasks.append(asyncio.create_task(pacer()))
    await asyncio.sleep(spec["warmup"])
    measuring = True
    measured_from = time.perf_counter()
    print("measure", flush=True)
    await asyncio.sleep(spec["duration"])
    stop = True
    unserved = due.qsize()
    print("done", flush=True)
    for _ in range(spec["clients"]):
        due.put_nowait(time.perf_counter())
    await asyncio.wait(tasks, timeout=30)
    out.write_text(json.dumps({"samples": samples, "unserved": unserved, "errors": errors}))


if __name__ == "__main__":
    main()
