"""Exports: tickets to CSV end to end through a real Celery worker, against raw COPY in the same run.

    python bench/bench_exports.py           # 100k tickets (one to two minutes)
    python bench/bench_exports.py --full    # 100k and 1M tickets (several minutes)

For each size, a project is seeded once (INSERT ... SELECT generate_series) in its own database
(`helpline_bench_exports`). Then, alternating so both see the same machine load:
- raw COPY (the floor): `COPY (SELECT <the ticket columns> ... ORDER BY created_at DESC, id DESC)
  TO STDOUT (FORMAT csv)` on ONE session, read by the export's own read loop
  (`exports.streaming.read_copy`) and thrown away: the floor the ratio is taken against;
- with `--sessions K` > 1 (default: EXPORT_PARALLEL_SESSIONS, 2), also that raw COPY cut into K
  ranges the way the export cuts them, on K sessions in one snapshot: reported beside the floor
  (`export_vs_raw_copy_k_sessions`), never instead of it;
- the export's own COPY on one session, drained the same way (what the SQL formatting costs);
- export: POST-equivalent `request_export`, run by a real Celery worker (prefork, one process,
  EXPORT_PARALLEL_SESSIONS=K) into the file system; its time is the job's own
  `finished_at - started_at` (claim, count, cuts, COPYs, neutralisation, CRLF, SHA-256, file
  write and fsync, outcome), the wall time is reported too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("BENCH_DATABASE_NAME", "helpline_bench_exports")
# The benchmarks' Redis database (bench/common's default, whatever .data/services.env says for
# the desk), and a queue of this benchmark's own below.
os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
# Tasks go to a queue of this benchmark's own, so no other worker on the same Redis takes them.
os.environ["CELERY_QUEUE"] = "bench-exports"

from bench.common import ROOT, child_env, setup_django, summarise, write_results

QUEUE = os.environ["CELERY_QUEUE"]
SIZES = {"100k": 100_000, "1M": 1_000_000}
KEYS = {"100k": "BENCHK", "1M": "BENCHM"}


def seed(key: str, count: int) -> Any:
    """The project `key` with exactly `count` tickets (re-seeded only when the count differs)."""
    from django.db import connection

    from exports.tests.bulk import bulk_tickets
    from tests_support.factories import ensure_default_statuses
    from tickets.models import Project, Ticket, User
    from tickets.services.projects import create_project

    ensure_default_statuses()
    project = Project.objects.filter(key=key).first()
    if project is not None and Ticket.objects.filter(project=project).count() == count:
        return project
    if project is not None:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM tickets_ticket WHERE project_id = %s", [project.pk])
            cursor.execute(
                "UPDATE tickets_project SET ticket_counter = 0 WHERE id = %s", [project.pk]
            )
    else:
        project = create_project(actor=None, key=key, name=f"{key} benchmark")
    agent = User.objects.filter(username="bench-agent").first() or User.objects.create_user(
        "bench-agent", password="bench-only-password"
    )
    customer = User.objects.filter(username="+bench-customer").first() or User.objects.create_user(
        "+bench-customer", password="bench-only-password"
    )
    from tickets.models import Membership

    Membership.objects.get_or_create(user=agent, project=project, defaults={"role": "agent"})
    started = time.perf_counter()
    done = 0
    while done < count:  # batches keep one statement's memory and WAL in check
        step = min(200_000, count - done)
        bulk_tickets(project, step, requester=customer, assignee=agent)
        done += step
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tickets_ticket")
    print(f"seeded {key}: {count} tickets in {time.perf_counter() - started:.1f}s", flush=True)
    return project


RAW_COLUMNS = (
    "id, number, title, description, status_id, priority, category, tags, assignee_id, "
    "requester_id, created_by_id, linked_type, linked_id, is_sensitive, is_archived, "
    "resolution_summary, escalation_level, reopened_count, created_at, updated_at, "
    "first_response_at, resolved_at, closed_at"
)


def _backend_cpu(pid: int) -> float:
    """CPU seconds a PostgreSQL backend has used (same machine): immune to waiting for a core."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drain_copy(sql: str, params: tuple[Any, ...] = ()) -> dict[str, float]:
    """Run a COPY to a client that throws the rows away: wall time, rows, bytes, backend CPU."""
    from exports.streaming import open_export_connection, read_copy

    conn = open_export_connection()
    rows = size = 0
    try:
        pid = conn.info.backend_pid
        cpu = _backend_cpu(pid)
        started = time.perf_counter()
        # Read the way the export reads (exports.streaming.read_copy, the same batches), so the
        # floor is neither slowed nor sped up by a client loop the export does not share.
        for batch, count in read_copy(conn, sql, params):
            rows += count
            size += len(batch)
        return {
            "seconds": time.perf_counter() - started,
            "rows": rows,
            "bytes": size,
            "db_cpu": _backend_cpu(pid) - cpu,
        }
    finally:
        conn.close()


def raw_copy_sql(project_id: int, *, after: bool = False, through: bool = False) -> str:
    """The floor: the same tickets, in the same order, as the table stores them.

    With `after` / `through`: only the rows after the (created_at, id) given as the first two
    parameters / up to and including the one given as the last two, cut the way the export
    cuts its ranges, for the K-session comparison.
    """
    where = f"project_id = {int(project_id)} AND NOT is_archived"
    if after:
        where += " AND (created_at, id) < (%s, %s)"
    if through:
        where += " AND (created_at, id) >= (%s, %s)"
    return (
        f"COPY (SELECT {RAW_COLUMNS} FROM tickets_ticket WHERE {where} "
        "ORDER BY created_at DESC, id DESC) TO STDOUT (FORMAT csv)"
    )


def drain_copy_sessions(project_id: int, total: int, sessions: int) -> dict[str, float]:
    """The raw COPY cut into `sessions` contiguous ranges, drained at once, one snapshot.

    Not the floor (that is one session, like `drain_copy`): what the same split does to a COPY
    that formats nothing, so the export's parallel gain can be told from the machine's. Timed
    like the export's split: finding the cut rows, importing the snapshot, the COPYs.
    """
    import threading

    import psycopg.sql

    from exports.streaming import open_export_connection, read_copy, split_rows

    ranges = split_rows(total, sessions)
    conns = [open_export_connection() for _ in ranges]
    counts = [0] * len(ranges)
    errors: list[BaseException] = []
    try:
        pids = [conn.info.backend_pid for conn in conns]
        cpu = sum(_backend_cpu(pid) for pid in pids)
        started = time.perf_counter()
        main = conns[0]
        main.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cuts: list[tuple[Any, ...] | None] = [None]
        for start, count in ranges[:-1]:
            cut = main.execute(
                f"SELECT created_at, id FROM tickets_ticket WHERE project_id = {int(project_id)} "
                "AND NOT is_archived ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET %s",
                [start + count - 1],
            ).fetchone()
            cuts.append(tuple(cut) if cut else None)
        cuts.append(None)
        row = main.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        for other in conns[1:]:
            other.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            other.execute(
                psycopg.sql.SQL("SET TRANSACTION SNAPSHOT {}").format(psycopg.sql.Literal(row[0]))
            )

        def drain(index: int) -> None:
            after, through = cuts[index], cuts[index + 1]
            sql = raw_copy_sql(project_id, after=after is not None, through=through is not None)
            params = (*(after or ()), *(through or ()))
            try:
                for _batch, count in read_copy(conns[index], sql, params):  # as drain_copy reads
                    counts[index] += count
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=drain, args=(i,)) for i in range(1, len(ranges))]
        for thread in threads:
            thread.start()
        drain(0)
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        if errors:
            raise errors[0]
        if sum(counts) != total:
            raise RuntimeError(f"ranges gave {sum(counts)} rows, expected {total}")
        return {
            "seconds": seconds,
            "rows": total,
            "db_cpu": sum(_backend_cpu(pid) for pid in pids) - cpu,
        }
    finally:
        for conn in conns:
            conn.close()


def export_copy_plan(project: Any, requester: Any) -> Any:
    """The COPY an export of `project` by `requester` runs (default fields and filters)."""
    from django.utils import timezone

    from exports.columns import DEFAULT_FIELDS
    from exports.selectors import copy_plan, export_tickets
    from tickets.filters import parse_ticket_filters

    filters = parse_ticket_filters({})
    tickets = export_tickets(user=requester, project=project, filters=filters, as_of=timezone.now())
    return copy_plan(tickets, project=project, fmt="csv", fields=DEFAULT_FIELDS, filters=filters)


def read_status(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) * 1024
    return values


class Worker:
    """A real Celery worker (prefork, concurrency 1) on the benchmark database and queue."""

    def __init__(self, media_root: str, sessions: int) -> None:
        self.log = Path(tempfile.mkstemp(prefix="bench-exports-worker-", suffix=".log")[1])
        env = child_env(
            MEDIA_ROOT=media_root,
            CELERY_QUEUE=QUEUE,
            REDIS_URL=os.environ["REDIS_URL"],
            CELERY_BROKER_URL=os.environ["REDIS_URL"],
            CELERY_RESULT_BACKEND=os.environ["REDIS_URL"],
            DJANGO_SETTINGS_MODULE="config.settings",
            LOG_LEVEL="INFO",
            EXPORT_PARALLEL_SESSIONS=str(sessions),
        )
        self.proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "config",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--queues",
                QUEUE,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
                "-n",
                f"bench-exports-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while b"ready." not in self.log.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        import signal

        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)


def run_export(project: Any, requester: Any, fmt: str, pool_pid: int | None) -> dict[str, Any]:
    """Request an export, let the worker run it, return its timings and the pool's memory.

    `pool_pid` is the worker's pool process (known after the warm-up export ran in it).
    """
    from exports.models import ExportJob, ExportStatus
    from exports.services import request_export

    before = 0
    if pool_pid is not None:
        Path(f"/proc/{pool_pid}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        before = read_status(pool_pid)["VmRSS"]
    wall = time.perf_counter()
    job = request_export(actor=requester, project_key=project.key, format=fmt)
    while True:
        job.refresh_from_db()
        if job.status not in (ExportStatus.PENDING, ExportStatus.RUNNING):
            break
        time.sleep(0.01)
    wall = time.perf_counter() - wall
    if job.status != ExportStatus.SUCCEEDED:
        raise RuntimeError(f"export {job.pk} ended {job.status}: {job.error}")
    peak = read_status(pool_pid)["VmHWM"] if pool_pid is not None else 0
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.EXPIRED)  # frees the user cap
    assert job.started_at and job.finished_at
    return {
        "worker_pid": int(job.worker.rsplit(":", 1)[1]),
        "seconds": (job.finished_at - job.started_at).total_seconds(),
        "wall_seconds": wall,
        "rows": job.rows_total,
        "bytes": job.file_size,
        "rss_growth_bytes": peak - before,
        "rss_before_bytes": before,
    }


def measure(
    key: str, project: Any, count: int, reps: int, requester: Any, pool_pid: int, sessions: int
) -> dict[str, Any]:
    raw: list[dict[str, float]] = []
    raw_k: list[dict[str, float]] = []
    db_only: list[dict[str, float]] = []
    export_s: list[float] = []
    wall_s: list[float] = []
    growth: list[int] = []
    result: dict[str, Any] = {}
    plan = export_copy_plan(project, requester)
    for rep in range(reps):
        raw.append(drain_copy(raw_copy_sql(project.pk)))
        if sessions > 1:
            raw_k.append(drain_copy_sessions(project.pk, count, sessions))
        db_only.append(drain_copy(plan.copy_sql, plan.copy_params))
        run = run_export(project, requester, "csv", pool_pid)
        export_s.append(run["seconds"])
        wall_s.append(run["wall_seconds"])
        growth.append(run["rss_growth_bytes"])
        k_note = (
            f"raw COPY on {sessions} sessions {count / raw_k[-1]['seconds']:,.0f} rows/s, "
            if raw_k
            else ""
        )
        print(
            f"{key} rep {rep + 1}/{reps}: raw COPY (floor) {count / raw[-1]['seconds']:,.0f} "
            f"rows/s, {k_note}"
            f"export's COPY alone {count / db_only[-1]['seconds']:,.0f} rows/s, "
            f"export {run['rows'] / run['seconds']:,.0f} rows/s, "
            f"RSS +{run['rss_growth_bytes'] / 2**20:.1f} MiB",
            flush=True,
        )
        result.update(rows=run["rows"], raw_bytes=raw[-1]["bytes"], csv_bytes=run["bytes"])
    jsonl = run_export(project, requester, "jsonl", pool_pid)

    def median(runs: list[dict[str, float]], name: str) -> float:
        return statistics.median(r[name] for r in runs)

    raw_rate = count / median(raw, "seconds")
    db_rate = count / median(db_only, "seconds")
    export_rate = count / statistics.median(export_s)
    result.update(
        raw_copy_ms=summarise([r["seconds"] * 1000 for r in raw]),
        export_query_copy_ms=summarise([r["seconds"] * 1000 for r in db_only]),
        export_csv_ms=summarise([s * 1000 for s in export_s]),
        export_csv_wall_ms=summarise([s * 1000 for s in wall_s]),
        raw_copy_rows_per_s=round(raw_rate),
        export_query_copy_rows_per_s=round(db_rate),
        export_csv_rows_per_s=round(export_rate),
        export_vs_raw_copy=round(export_rate / raw_rate, 3),
        export_vs_its_own_copy=round(export_rate / db_rate, 3),
        # PostgreSQL CPU per run: what neutralising, formatting and the joins cost the
        # database, independent of how busy the machine was.
        db_cpu_s_raw_copy=round(median(raw, "db_cpu"), 3),
        db_cpu_s_export_query=round(median(db_only, "db_cpu"), 3),
        worker_rss_growth_mib_max=round(max(growth) / 2**20, 1),
        worker_rss_growth_mib=[round(g / 2**20, 1) for g in growth],
        export_jsonl_rows_per_s=round(count / jsonl["seconds"]),
        export_jsonl_rss_growth_mib=round(jsonl["rss_growth_bytes"] / 2**20, 1),
        targets_met={
            "rows_per_s_250k": export_rate >= 250_000,
            "ratio_0_65": export_rate / raw_rate >= 0.65,
            "rss_growth_50mb": max(growth) <= 50 * 10**6,
        },
        export_sessions=sessions,
        floor="raw COPY on one session (raw_copy_*); export_vs_raw_copy is against it",
    )
    if raw_k:
        raw_k_rate = count / median(raw_k, "seconds")
        result.update(
            raw_copy_k_sessions_ms=summarise([r["seconds"] * 1000 for r in raw_k]),
            raw_copy_k_sessions_rows_per_s=round(raw_k_rate),
            db_cpu_s_raw_copy_k_sessions=round(median(raw_k, "db_cpu"), 3),
            export_vs_raw_copy_k_sessions=round(export_rate / raw_k_rate, 3),
        )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="also 1M tickets")
    parser.add_argument("--reps", type=int, default=5, help="raw/export pairs per size")
    parser.add_argument(
        "--sessions",
        type=int,
        default=None,
        help="EXPORT_PARALLEL_SESSIONS for the worker (default: the export default); above 1 "
        "the raw COPY is also measured cut into as many ranges (reported next to the floor)",
    )
    args = parser.parse_args()
    setup_django()
    from exports.conf import export_setting

    sessions = args.sessions or int(export_setting("EXPORT_PARALLEL_SESSIONS"))
    from tickets.models import User

    sizes = ["100k", "1M"] if args.full else ["100k"]
    media_root = tempfile.mkdtemp(prefix="bench-exports-media-")
    worker = Worker(media_root, sessions)
    figures: dict[str, Any] = {"sizes_run": sizes, "storage": "filesystem", "format": "csv"}
    try:
        projects = {key: seed(KEYS[key], SIZES[key]) for key in sizes}
        warm = seed("BENCHW", 1000)
        requester = User.objects.get(username="bench-agent")
        # Imports and connections settle before measuring; this also names the pool process.
        pool_pid = run_export(warm, requester, "csv", None)["worker_pid"]
        for key in sizes:
            reps = args.reps if SIZES[key] <= 100_000 else max(2, args.reps // 2)
            figures[key] = measure(
                key, projects[key], SIZES[key], reps, requester, pool_pid, sessions
            )
    finally:
        worker.stop()
        shutil.rmtree(media_root, ignore_errors=True)
    write_results("exports", figures)
    for key in sizes:
        f = figures[key]
        print(
            f"{key}: export {f['export_csv_rows_per_s']:,} rows/s vs raw COPY "
            f"{f['raw_copy_rows_per_s']:,} rows/s = {f['export_vs_raw_copy']}x; "
            f"vs the export's own COPY {f['export_vs_its_own_copy']}x; "
            f"PostgreSQL CPU raw {f['db_cpu_s_raw_copy']}s / export {f['db_cpu_s_export_query']}s; "
            f"worker RSS growth max {f['worker_rss_growth_mib_max']} MiB; "
            f"JSONL {f['export_jsonl_rows_per_s']:,} rows/s"
        )
        if "raw_copy_k_sessions_rows_per_s" in f:
            print(
                f"{key}: (export on {sessions} sessions; the floor above is one session) raw COPY "
                f"on {sessions} sessions {f['raw_copy_k_sessions_rows_per_s']:,} rows/s, "
                f"export vs it {f['export_vs_raw_copy_k_sessions']}x"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
