"""The shared Redis client and owner-only locks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=1)
def get_redis() -> redis.Redis:
    """One client (with its pool) per process: locks, presence, metrics counters."""
    return redis.Redis.from_url(
        settings.LOCK_REDIS_URL,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=30,
    )


@contextmanager
def redis_lock(name: str, *, timeout: float, blocking: bool = False) -> Iterator[bool]:
    """Hold `lock:<name>` while the block runs; yields False when another owner holds it.

    redis-py's Lock stores a random token and releases with a compare-and-delete script, so only
    the owner can release it, and the expiry frees it if the owner dies.
    """
    lock = get_redis().lock(f"lock:{name}", timeout=timeout, blocking=blocking, thread_local=False)
    acquired = lock.acquire(blocking=blocking)
    try:
        yield bool(acquired)
    finally:
        if acquired:
            # Expired and maybe re-taken by another owner: theirs now, leave it.
            with suppress(redis.exceptions.LockError):
                lock.release()
