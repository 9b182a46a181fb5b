"""Counters for what happens in Celery workers, kept in Redis so any web process can report them.

Worker processes come and go on several hosts; a per-process counter would vanish with its
process and need a scrape target per worker. These are one Redis hash (`metrics:counters`,
field `<name>|<label>`), incremented after the writes they count commit, read at scrape time.
A Redis error never fails the work being counted: the increment is dropped and logged.
"""

from __future__ import annotations

import structlog
from redis.exceptions import RedisError

from config.redis import get_redis

KEY = "metrics:counters"
logger = structlog.get_logger("helpline.metrics")


def increment(name: str, label: str = "", amount: float = 1.0) -> None:
    try:
        get_redis().hincrbyfloat(KEY, f"{name}|{label}", amount)
    except RedisError:
        logger.warning("metrics_counter_dropped", name=name, label=label)


def record_webhook_attempt(outcome: str) -> None:
    """One delivery attempt ended: `succeeded`, `retry` or `failed`."""
    increment("webhook_attempts", outcome)


def record_export(*, fmt: str, rows: int, size: int, seconds: float) -> None:
    """One export succeeded: its rows, bytes and run time (throughput = rate of rows)."""
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.hincrbyfloat(KEY, f"exports|{fmt}", 1)
        pipe.hincrbyfloat(KEY, f"export_rows|{fmt}", rows)
        pipe.hincrbyfloat(KEY, f"export_bytes|{fmt}", size)
        pipe.hincrbyfloat(KEY, f"export_seconds|{fmt}", seconds)
        pipe.execute()
    except RedisError:
        logger.warning("metrics_counter_dropped", name="exports", label=fmt)


def read_counters() -> dict[tuple[str, str], float]:
    raw = get_redis().hgetall(KEY)
    counters = {}
    for field, value in raw.items():
        text = field.decode() if isinstance(field, bytes) else str(field)
        name, _, label = text.partition("|")
        counters[(name, label)] = float(value)
    return counters
