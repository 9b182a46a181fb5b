"""When to try a webhook delivery again. Pure: no Django.

Exponential backoff (base * factor^(n-1), capped) with +-25 % jitter, so a fleet of deliveries that
failed together does not come back together. The defaults (5 s doubling to an 8 h cap, 22 attempts)
spread one event's attempts over about three days.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

JITTER = 0.25


def backoff_seconds(
    attempt: int,
    *,
    base: float,
    factor: float,
    cap: float,
    rand: Callable[[], float] = random.random,
) -> float:
    """The delay after failed attempt number `attempt` (1-based), jittered by +-25 %."""
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    nominal = min(cap, base * factor ** (attempt - 1))
    return nominal * (1 - JITTER + 2 * JITTER * rand())


def schedule_seconds(max_attempts: int, *, base: float, factor: float, cap: float) -> float:
    """The nominal (unjittered) time from the first attempt to the last."""
    return sum(min(cap, base * factor ** (n - 1)) for n in range(1, max_attempts))


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or an HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def outcome_for_status(status_code: int | None) -> str:
    """`succeeded`, `retry` (network error, 5xx, 429) or `failed` (any other answer, redirects too)."""
    if status_code is None:
        return "retry"
    if 200 <= status_code < 300:
        return "succeeded"
    if status_code == 429 or status_code >= 500:
        return "retry"
    return "failed"


def next_delay(
    attempt: int,
    *,
    retry_after: float | None,
    base: float,
    factor: float,
    cap: float,
    retry_after_cap: float,
    rand: Callable[[], float] = random.random,
) -> float:
    """The delay before the next attempt: the backoff, or longer when the receiver asked for it."""
    delay = backoff_seconds(attempt, base=base, factor=factor, cap=cap, rand=rand)
    if retry_after is not None:
        delay = max(delay, min(retry_after, retry_after_cap))
    return delay
