"""The test-support retry used by the suite's flush: only a deadlock's victim is run again."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError
from django.db import OperationalError
from psycopg.errors import DeadlockDetected

from tests_support.contention import retrying_deadlocks


def flush_failing(
    times: int, error: type[Exception] = DeadlockDetected
) -> tuple[list[int], object]:
    calls: list[int] = []

    def flush() -> str:
        calls.append(1)
        if len(calls) <= times:
            try:
                try:
                    raise error("deadlock detected")
                except Exception as db_error:
                    raise OperationalError(str(db_error)) from db_error
            except OperationalError as wrapped:
                raise CommandError("couldn't be flushed") from wrapped
        return "flushed"

    return calls, retrying_deadlocks(flush)


def test_a_deadlocked_flush_runs_again_until_it_succeeds() -> None:
    calls, flush = flush_failing(2)
    assert flush() == "flushed"  # type: ignore[operator]
    assert len(calls) == 3


def test_it_gives_up_after_three_attempts() -> None:
    calls, flush = flush_failing(3)
    with pytest.raises(CommandError):
        flush()  # type: ignore[operator]
    assert len(calls) == 3


def test_any_other_error_is_raised_at_once() -> None:
    calls, flush = flush_failing(1, error=ValueError)
    with pytest.raises(CommandError):
        flush()  # type: ignore[operator]
    assert len(calls) == 1
