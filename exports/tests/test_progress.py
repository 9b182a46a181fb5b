"""The progress cadence: every 1% of the rows or every second, whichever comes first."""

from __future__ import annotations

import pytest

from exports.progress import ProgressThrottle


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_reports_at_each_percent_when_rows_are_fast() -> None:
    clock = FakeClock()
    throttle = ProgressThrottle(10_000, clock=clock)
    assert throttle.step == 100
    reported = [rows for rows in range(0, 10_001, 10) if throttle.due(rows)]
    assert reported == list(range(100, 10_001, 100))


def test_reports_every_second_when_rows_are_slow() -> None:
    clock = FakeClock()
    throttle = ProgressThrottle(1_000_000, clock=clock)
    assert not throttle.due(5)
    clock.now += 0.999
    assert not throttle.due(6)
    clock.now += 0.001
    assert throttle.due(7)
    assert not throttle.due(8)
    clock.now += 1.0
    assert throttle.due(9)


def test_a_burst_over_several_steps_is_one_report() -> None:
    clock = FakeClock()
    throttle = ProgressThrottle(1000, clock=clock)
    assert throttle.due(550)
    assert not throttle.due(559)
    assert throttle.due(560)


def test_tiny_and_empty_exports_report_every_row() -> None:
    clock = FakeClock()
    assert ProgressThrottle(0, clock=clock).step == 1
    throttle = ProgressThrottle(3, clock=clock)
    assert [throttle.due(n) for n in (1, 2, 3)] == [True, True, True]


def test_negative_totals_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        ProgressThrottle(-1)
