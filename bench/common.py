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


def setup_django(*, migrate: bool = True) -> None:
    """Point Django at the benchmark database (created and migrated if needed) and set it up."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = bench_database_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
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
