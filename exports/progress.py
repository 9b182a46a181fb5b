"""When to report an export's progress: every ~1% of its rows or every second, whichever first.

Pure (no Django), so the cadence is tested without a database or a clock.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class ProgressThrottle:
    """Says whether a row count is worth reporting, given the last report."""

    def __init__(
        self,
        total: int,
        *,
        fraction: float = 0.01,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if total < 0:
            raise ValueError(f"total must not be negative, got {total}")
        self._step = max(1, math.ceil(total * fraction))
        self._interval = interval
        self._clock = clock
        self._next_rows = self._step
        self._next_time = clock() + interval

    @property
    def step(self) -> int:
        """Rows between two reports when rows arrive faster than one step per interval."""
        return self._step

    def due(self, rows_done: int) -> bool:
        """True when `rows_done` crossed the next 1% mark or a second passed since the last report."""
        now = self._clock()
        if rows_done < self._next_rows and now < self._next_time:
            return False
        # The next mark is one step past this report, not past the missed mark: a burst that
        # jumps several steps at once yields one report, not a backlog.
        self._next_rows = rows_done + self._step
        self._next_time = now + self._interval
        return True
