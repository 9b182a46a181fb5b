"""The later ranges' spool: order kept across memory and disk, memory bounded, errors handed on."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exports.spool import RangeSpool, SpoolClosed


def produce(spool: RangeSpool, batches: list[bytes], *, error: BaseException | None = None) -> None:
    for index, batch in enumerate(batches):
        spool.put(batch, index + 1)
    spool.finish(error)


@settings(max_examples=150, deadline=None)
@given(
    batches=st.lists(st.binary(min_size=0, max_size=64), max_size=40),
    memory_limit=st.integers(min_value=0, max_value=200),
    read_every=st.integers(min_value=1, max_value=5),
)
def test_batches_come_back_in_order_whatever_holds_them(
    batches: list[bytes], memory_limit: int, read_every: int
) -> None:
    spool = RangeSpool(memory_limit=memory_limit)
    got: list[tuple[bytes, int]] = []
    reader = spool.batches()
    try:
        # Interleaved on one thread: a read after every few puts, so the file is read back
        # while the producer still spills, and reused once it has been caught up with.
        for index, batch in enumerate(batches):
            spool.put(batch, index + 1)
            if index % read_every == 0:
                got.append(next(reader))
        spool.finish()
        got.extend(reader)
    finally:
        spool.discard()
    assert got == [(batch, index + 1) for index, batch in enumerate(batches)]
    assert spool.rows_in == sum(range(1, len(batches) + 1))
    assert spool.peak_memory <= memory_limit


def test_memory_stays_under_the_limit_and_the_rest_goes_to_disk() -> None:
    spool = RangeSpool(memory_limit=10)
    batches = [bytes([i]) * 4 for i in range(6)]
    produce(spool, batches)
    assert spool.peak_memory == 8  # two batches fit, the third would not
    assert spool.peak_file == 16
    assert [data for data, _ in spool.batches()] == batches
    spool.discard()


def test_a_caught_up_file_is_written_again_from_its_start() -> None:
    spool = RangeSpool(memory_limit=0)
    reader = spool.batches()
    for _ in range(5):
        spool.put(b"x" * 100, 1)
        spool.put(b"y" * 100, 1)
        assert next(reader) == (b"x" * 100, 1)
        assert next(reader) == (b"y" * 100, 1)
    assert spool.peak_file == 200
    spool.finish()
    assert list(reader) == []
    spool.discard()


def test_a_consumer_waits_for_a_producer_on_another_thread() -> None:
    spool = RangeSpool(memory_limit=1000)
    batches = [str(i).encode() * 50 for i in range(200)]
    thread = threading.Thread(target=produce, args=(spool, batches))
    thread.start()
    got = [data for data, _ in spool.batches()]
    thread.join()
    assert got == batches
    spool.discard()


def test_the_producers_error_comes_after_the_batches_it_did_hand_in() -> None:
    spool = RangeSpool(memory_limit=4)
    produce(spool, [b"ab", b"cdef", b"g"], error=ConnectionError("database went away"))
    assert isinstance(spool.error, ConnectionError)
    reader = spool.batches()
    assert [next(reader)[0] for _ in range(3)] == [b"ab", b"cdef", b"g"]
    with pytest.raises(ConnectionError, match="went away"):
        next(reader)
    spool.discard()


def test_a_discarded_spool_refuses_more_batches() -> None:
    spool = RangeSpool(memory_limit=0)
    spool.put(b"spilled", 1)
    spool.discard()
    with pytest.raises(SpoolClosed):
        spool.put(b"more", 1)
