"""A later range's batches, held until the ranges before it are out: in memory, then on disk.

An export split into contiguous ranges reads them at once on several database sessions, but
the file needs them in order. The first range streams straight to the store; each later range
is read into a `RangeSpool` meanwhile and played back when its turn comes. Batches stay in
memory up to `memory_limit` bytes; past that they go to an anonymous temporary file (page cache,
not the worker's RSS), so memory stays flat whatever the export's size. Entries keep their
order in one queue whichever place holds them, and a consumer that catches up with the file
lets the file be rewritten from its start, so the disk holds at most the backlog.

Pure standard library (no Django): one producer thread, one consumer thread.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

__all__ = ["RangeSpool", "SpoolClosed"]


class SpoolClosed(Exception):
    """The spool was discarded while its producer was still writing (the export stopped)."""


@dataclass
class _Entry:
    rows: int
    data: bytes | None  # in memory, or None when the bytes are in the file ...
    offset: int = 0  # ... at this offset
    length: int = 0


class RangeSpool:
    """Ordered (bytes, rows) batches from a producer thread, read back by a consumer thread."""

    def __init__(self, *, memory_limit: int, directory: str | None = None) -> None:
        self.memory_limit = memory_limit
        self._directory = directory
        self._entries: deque[_Entry] = deque()
        self._memory = 0  # bytes held in memory entries
        self._file_entries = 0  # entries whose bytes are in the file, not yet read back
        self._file: IO[bytes] | None = None
        self._fd = -1
        self._file_end = 0  # where the next spilled batch goes
        self._done = False
        self._discarded = False
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        # Rows handed in so far (read by other threads for progress; an int is atomic).
        self.rows_in = 0
        # High-water marks, for tests and the benchmark's notes.
        self.peak_memory = 0
        self.peak_file = 0

    # --- producer -------------------------------------------------------------------------

    def put(self, data: bytes, rows: int) -> None:
        """Append one batch (never blocks on the consumer); SpoolClosed once discarded."""
        with self._cond:
            if self._discarded:
                raise SpoolClosed("the spool was discarded")
            if self._memory + len(data) <= self.memory_limit:
                self._entries.append(_Entry(rows, data))
                self._memory += len(data)
                self.peak_memory = max(self.peak_memory, self._memory)
            else:
                if self._file is None:
                    # Anonymous: the kernel frees it when it is closed, also if the worker dies.
                    self._file = tempfile.TemporaryFile(  # noqa: SIM115 (closed by discard)
                        prefix="export-range-", dir=self._directory
                    )
                    self._fd = self._file.fileno()
                offset = self._file_end
                view = memoryview(data)
                while view:
                    written = os.pwrite(self._fd, view, offset + len(data) - len(view))
                    view = view[written:]
                self._file_end += len(data)
                self.peak_file = max(self.peak_file, self._file_end)
                self._entries.append(_Entry(rows, None, offset, len(data)))
                self._file_entries += 1
            self.rows_in += rows
            self._cond.notify()

    def finish(self, error: BaseException | None = None) -> None:
        """The producer is done (with `error` if it failed; the consumer raises it)."""
        with self._cond:
            self._done = True
            self._error = error
            self._cond.notify()

    # --- consumer -------------------------------------------------------------------------

    @property
    def error(self) -> BaseException | None:
        """The producer's error, if it failed (the consumer may check early)."""
        return self._error

    def batches(self) -> Iterator[tuple[bytes, int]]:
        """Every batch in order, waiting for the producer; raises the producer's error."""
        while True:
            with self._cond:
                while not self._entries and not self._done:
                    self._cond.wait()
                if not self._entries:
                    if self._error is not None:
                        raise self._error
                    return
                entry = self._entries.popleft()
                if entry.data is not None:
                    data = entry.data
                    self._memory -= len(data)
                else:
                    data = _read_exactly(self._fd, entry.offset, entry.length)
                    self._file_entries -= 1
                    if self._file_entries == 0:
                        # Everything spilled is read back: the next spill starts over at 0.
                        self._file_end = 0
            yield data, entry.rows

    def discard(self) -> None:
        """Drop whatever is held and close the file; a producer still writing gets SpoolClosed."""
        with self._cond:
            self._discarded = True
            self._entries.clear()
            self._memory = 0
            self._file_entries = 0
            if self._file is not None:
                self._file.close()
                self._file = None
            self._cond.notify_all()


def _read_exactly(fd: int, offset: int, length: int) -> bytes:
    data = os.pread(fd, length, offset)
    if len(data) == length:
        return data
    parts = [data]
    got = len(data)
    while got < length:
        more = os.pread(fd, length - got, offset + got)
        if not more:
            raise OSError(f"spool file ended {length - got} bytes early")
        parts.append(more)
        got += len(more)
    return b"".join(parts)
