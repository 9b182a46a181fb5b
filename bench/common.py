"""Benchmark harness: Django set-up on a dedicated database, timing helpers, JSON results.

Benchmarks run against `helpline_bench` (created and migrated on first use) so they never touch
the desk's data; figures are medians and percentiles over repeated runs, written to
`bench/results/<name>.json` with the machine's facts so numbers from different runs can be compared.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BENCH_DB = os.environ.get("BENCH_DATABASE_NAME", "helpline_bench")


def bench_database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpline")
    head, _, _ = base.rpartition("/")
    return f"{head}/{BENCH_DB}"


def bench_redis_url() -> str:
    """The benchmarks' own Redis database on the same server (never the running desk's keys).

    BENCH_REDIS_URL (a whole URL) wins; else BENCH_REDIS_DB on REDIS_URL's server; else db 14.
    BENCH_DATABASE_NAME / BENCH_REDIS_URL let two benchmarks run side by side without sharing state.
    """
    if os.environ.get("BENCH_REDIS_URL"):
        return os.environ["BENCH_REDIS_URL"]
    head, _, _ = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rpartition("/")
    return f"{head}/{os.environ.get('BENCH_REDIS_DB', '14')}"


def setup_django(*, migrate: bool = True) -> None:
    """Point Django at the benchmark database (created and migrated if needed) and set it up."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = bench_database_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # The benchmarks' own Redis database on the same server (never the running desk's keys);
    os.environ["REDIS_URL"] = bench_redis_url()
    if migrate:
        env = {**os.environ}
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "services.py")],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
            env=env,
            check=True,
        )
    import django

    django.setup()


def child_env(**extra: str) -> dict[str, str]:
    """Environment for server processes the benchmark starts (same database and Redis)."""
    return {
        **os.environ,
        "DATABASE_URL": bench_database_url(),
        "DEBUG": "0",
        "SECRET_KEY": "bench-only",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summarise(samples_ms: list[float]) -> dict[str, float]:
    """Median, p90, p99, min and count of a list of millisecond samples."""
    return {
        "p50_ms": round(statistics.median(samples_ms), 4),
        "p90_ms": round(percentile(samples_ms, 90), 4),
        "p99_ms": round(percentile(samples_ms, 99), 4),
        "min_ms": round(min(samples_ms), 4),
        "n": len(samples_ms),
    }


def time_calls(fn: Callable[[], Any], n: int, warmup: int = 5) -> list[float]:
    """Call fn n times (after warm-up) and return each call's duration in ms."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def write_results(name: str, figures: dict[str, Any]) -> Path:
    """Write `bench/results/<name>.json` with the figures and the machine's facts."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "measured_at": datetime.now(UTC).isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "figures": figures,
    }
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
    return path


class Server:
    """A gunicorn (or other) server process started for a benchmark."""

    def __init__(self, argv: list[str], port: int, env: dict[str, str]) -> None:
        import socket

        self.port = port
        self.log = (RESULTS / f".server-{port}.log").open("wb")
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server exited: {(RESULTS / f'.server-{port}.log').read_text()[-2000:]}"
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("server did not start")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_kb(self) -> int:
        """Resident memory of the process and its children (kB), from /proc."""
        pids = [self.proc.pid]
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        total = 0
        for pid in pids:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gunicorn(workers: int = 1) -> Server:
    """The API under gunicorn with `workers` sync workers, on the benchmark database."""
    port = free_port()
    venv = Path(sys.executable).parent
    argv = [
        str(venv / "gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "/dev/null",
        "--log-level",
        "warning",
    ]
    return Server(argv, port, child_env())


def api_token(username: str) -> str:
    from rest_framework.authtoken.models import Token

    from tickets.models import User

    token, _ = Token.objects.get_or_create(user=User.objects.get(username=username))
    return token.key
