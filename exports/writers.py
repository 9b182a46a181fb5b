"""Encode streams of ticket rows as CSV or JSONL bytes, cut into upload-sized parts.

Pure standard library on purpose: the export job streams straight to object-storage
multipart uploads, so everything here works batch-by-batch and never needs the whole
file (or Django) in memory.

Value formatting, shared by both formats unless noted:

======================  ============================  ===============================
value                   CSV cell                      JSONL value
======================  ============================  ===============================
None                    ``""``                        ``null``
bool                    ``true`` / ``false``          ``true`` / ``false``
int, float              ``str(v)``, not neutralised   native number (NaN/inf rejected)
Decimal                 ``str(v)``, not neutralised   string ``str(v)``
aware datetime          UTC ``isoformat()``           UTC ``isoformat()`` string
naive datetime          ValueError                    ValueError
date                    ``isoformat()``               ``isoformat()`` string
str                     neutralised                   as-is
list / tuple            items joined by ``;``         array
dict                    compact JSON, neutralised     object
anything else           TypeError                     TypeError
======================  ============================  ===============================
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import chain
from typing import Protocol, TypeAlias

__all__ = [
    "S3_MIN_PART_SIZE",
    "ChunkedSink",
    "CsvWriter",
    "ExportResult",
    "ExportStream",
    "ExportWriter",
    "JsonlWriter",
    "Row",
    "format_csv_cell",
    "make_writer",
    "neutralise_cell",
    "stream_encoded_export",
    "stream_export",
]

Row: TypeAlias = Sequence[object]

# S3 rejects non-final multipart parts smaller than this.
S3_MIN_PART_SIZE = 5 * 1024 * 1024

# OWASP "CSV Injection": spreadsheet apps evaluate cells starting with these.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_LIST_SEPARATOR = ";"
_UTF8_BOM = "\ufeff".encode()


def neutralise_cell(value: str) -> str:
    """Prefix ``'`` to a cell that a spreadsheet would otherwise treat as a formula."""
    # Only the first character is checked, exactly as OWASP words it. A leading space
    # (" =1+1") is deliberately left alone: Excel, LibreOffice and Sheets all import such
    # a cell as text, and prefixing it would alter legitimate data for no gain.
    if value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value


def _utc_isoformat(value: datetime) -> str:
    # Django with USE_TZ hands out datetimes already in UTC; skipping astimezone() for
    # them is about a third of the per-datetime cost, and datetimes dominate a row.
    if value.tzinfo is UTC:
        return value.isoformat()
    if value.utcoffset() is None:
        # astimezone() would silently read a naive value as server-local time; with
        # USE_TZ the ORM only yields aware datetimes, so a naive one is a caller bug.
        raise ValueError(f"naive datetime cannot be exported unambiguously: {value!r}")
    return value.astimezone(UTC).isoformat()


def _json_default(value: object) -> object:
    # json calls this only for types it cannot encode natively; bool/int/float/str/
    # None/list/tuple/dict never reach it.
    if isinstance(value, datetime):
        return _utc_isoformat(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        # A string keeps every digit; a JSON number would be read back as a lossy float.
        return str(value)
    raise TypeError(f"cannot export value of type {type(value).__name__}: {value!r}")


# allow_nan=False: bare NaN/Infinity tokens are not JSON and break strict parsers
# downstream; failing the export is better than shipping a file nobody can load.
_JSON_ENCODE = json.JSONEncoder(
    ensure_ascii=False,
    separators=(",", ":"),
    allow_nan=False,
    default=_json_default,
).encode


def _format_list_item(value: object) -> str:
    # Nested containers would be ambiguous once flattened with ";", so they keep
    # their JSON shape instead.
    if isinstance(value, list | tuple | dict):
        return neutralise_cell(_JSON_ENCODE(value))
    return format_csv_cell(value)


def format_csv_cell(value: object) -> str:
    """Format one row value as the CSV cell text the exporter writes (see module table)."""
    if isinstance(value, str):
        return neutralise_cell(value)
    if value is None:
        return ""
    # bool before int: bool is an int subclass and would otherwise print "True".
    if isinstance(value, bool):
        return "true" if value else "false"
    # Numbers come from typed database columns, not user text, so "-5" stays "-5".
    if isinstance(value, int | float | Decimal):
        return str(value)
    # datetime before date: datetime is a date subclass.
    if isinstance(value, datetime):
        return _utc_isoformat(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        # Each item is neutralised on its own so the cell stays safe even after a
        # user splits it into columns with "Text to Columns" on ";".
        return _LIST_SEPARATOR.join(_format_list_item(item) for item in value)
    if isinstance(value, dict):
        return neutralise_cell(_JSON_ENCODE(value))
    raise TypeError(f"cannot export value of type {type(value).__name__}: {value!r}")


def _checked_fields(fields: Sequence[str]) -> tuple[str, ...]:
    names = tuple(fields)
    if not names:
        raise ValueError("an export needs at least one field")
    if len(set(names)) != len(names):
        # JSONL keys would silently collapse; CSV columns would be indistinguishable.
        raise ValueError(f"duplicate field names: {names!r}")
    return names


def _check_width(row: Row, width: int) -> None:
    if len(row) != width:
        raise ValueError(f"row has {len(row)} values but the export has {width} fields")


class ExportWriter(Protocol):
    """Encodes header, row batches and footer of one export format as bytes."""

    @property
    def fields(self) -> tuple[str, ...]: ...

    @property
    def content_type(self) -> str: ...

    @property
    def extension(self) -> str: ...

    def header(self) -> bytes: ...

    def write_rows(self, rows: Iterable[Row]) -> bytes: ...

    def footer(self) -> bytes: ...


class CsvWriter:
    """RFC 4180 CSV (comma, CRLF, minimal quoting) with formula-injection neutralisation."""

    content_type = "text/csv; charset=utf-8"
    extension = "csv"

    def __init__(self, fields: Sequence[str], *, bom: bool = False) -> None:
        self._fields = _checked_fields(fields)
        self._bom = bom

    @property
    def fields(self) -> tuple[str, ...]:
        """Column names, in output order."""
        return self._fields

    def header(self) -> bytes:
        """Return the optional UTF-8 BOM (for Excel) followed by the header row."""
        # Field names can be user-defined custom-field labels, so they are untrusted too.
        head = self._encode([[neutralise_cell(name) for name in self._fields]])
        return _UTF8_BOM + head if self._bom else head

    def write_rows(self, rows: Iterable[Row]) -> bytes:
        """Encode one batch of rows."""
        width = len(self._fields)

        def cells() -> Iterator[list[str]]:
            for row in rows:
                _check_width(row, width)
                yield [format_csv_cell(value) for value in row]

        return self._encode(cells())

    def footer(self) -> bytes:
        """Return b"": CSV has no trailer."""
        return b""

    @staticmethod
    def _encode(rows: Iterable[list[str]]) -> bytes:
        buffer = io.StringIO()
        # QUOTE_MINIMAL quotes any cell holding a comma, quote, CR or LF (the latter two
        # because they are in lineterminator), which is exactly RFC 4180's rule.
        csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n").writerows(rows)
        # Strict UTF-8: lone surrogates cannot come out of Postgres, so one here is a bug.
        return buffer.getvalue().encode()


class JsonlWriter:
    """JSON Lines: one compact UTF-8 JSON object per row, keyed by field name."""

    # Consumers must split records on b"\n" only: with ensure_ascii=False a string may
    # contain U+2028/U+2029, which str.splitlines() would wrongly treat as line breaks.
    content_type = "application/x-ndjson"
    extension = "jsonl"

    def __init__(self, fields: Sequence[str]) -> None:
        self._fields = _checked_fields(fields)

    @property
    def fields(self) -> tuple[str, ...]:
        """Object keys, in output order."""
        return self._fields

    def header(self) -> bytes:
        """Return b"": JSONL has no header."""
        return b""

    def write_rows(self, rows: Iterable[Row]) -> bytes:
        """Encode one batch of rows, one object per line."""
        # No CSV-injection neutralisation: JSONL is read by programs, not spreadsheets,
        # and rewriting values would corrupt the data for those programs.
        fields = self._fields
        width = len(fields)
        lines: list[str] = []
        for row in rows:
            _check_width(row, width)
            lines.append(_JSON_ENCODE(dict(zip(fields, row, strict=True))))
            lines.append("\n")
        return "".join(lines).encode()

    def footer(self) -> bytes:
        """Return b"": JSONL has no trailer."""
        return b""


_FORMATS = ("csv", "jsonl")


def make_writer(fmt: str, fields: Sequence[str], *, bom: bool = False) -> ExportWriter:
    """Build the writer for ``fmt`` ("csv" or "jsonl"); ValueError if unsupported."""
    if fmt == "csv":
        return CsvWriter(fields, bom=bom)
    if fmt == "jsonl":
        if bom:
            # A BOM is an Excel-compatibility hack; JSON parsers choke on it.
            raise ValueError("bom is only supported for csv exports")
        return JsonlWriter(fields)
    raise ValueError(f"unknown export format {fmt!r}; expected one of {_FORMATS}")


class ChunkedSink:
    """Re-chunks a byte stream into fixed-size parts, tracking total size and SHA-256."""

    def __init__(self, part_size: int = S3_MIN_PART_SIZE) -> None:
        if part_size < 1:
            raise ValueError(f"part_size must be positive, got {part_size}")
        self._part_size = part_size
        # Grows to part_size once, then is overwritten in place. Appending and trimming
        # the front instead makes bytearray reallocate, briefly holding two buffers.
        self._buffer = bytearray()
        self._pos = 0
        self._hash = hashlib.sha256()
        self._size = 0
        self._closed = False

    @property
    def part_size(self) -> int:
        """Size of every part except the last."""
        return self._part_size

    @property
    def size(self) -> int:
        """Total bytes fed so far."""
        return self._size

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of all bytes fed so far (the whole stream once closed)."""
        return self._hash.hexdigest()

    @property
    def buffered(self) -> int:
        """Bytes held and not yet returned as a part (never more than part_size)."""
        return self._pos

    @property
    def closed(self) -> bool:
        """Whether close() has been called."""
        return self._closed

    def feed(self, data: bytes) -> list[bytes]:
        """Add ``data``; return the parts it completed, each exactly ``part_size`` bytes."""
        # Eager (a list, not a generator) so that forgetting to iterate the result can
        # never leave data unhashed or silently dropped.
        if self._closed:
            raise ValueError("feed() on a closed ChunkedSink")
        self._hash.update(data)
        self._size += len(data)
        buffer, size, pos = self._buffer, self._part_size, self._pos
        parts: list[bytes] = []
        with memoryview(data) as view:
            offset, end = 0, len(view)
            while offset < end:
                # A full buffer is only emitted once more data arrives, so close() never
                # returns an empty last part unless the whole stream was empty: some
                # stores reject empty parts, none need the last part to be large.
                if pos == size:
                    parts.append(bytes(buffer))
                    pos = 0
                take = min(size - pos, end - offset)
                # Appends while the buffer first fills, overwrites in place afterwards.
                buffer[pos : pos + take] = view[offset : offset + take]
                pos += take
                offset += take
        self._pos = pos
        return parts

    def close(self) -> bytes:
        """Finish the stream and return the last part (1..part_size bytes, b"" if empty)."""
        if self._closed:
            raise ValueError("ChunkedSink already closed")
        self._closed = True
        with memoryview(self._buffer) as view:
            last = bytes(view[: self._pos])
        self._buffer = bytearray()
        self._pos = 0
        return last


@dataclass(frozen=True, slots=True)
class ExportResult:
    """Totals of a finished export: byte size, hex SHA-256 and number of parts."""

    size: int
    sha256: str
    parts: int


class ExportStream(Iterator[bytes]):
    """Iterator of upload parts for one export; ``result`` is set once the last is out."""

    def __init__(
        self,
        writer: ExportWriter,
        batches: Iterable[Iterable[Row]],
        part_size: int,
        *,
        encoded: Iterable[bytes] | None = None,
    ) -> None:
        # The sink is built here, not in the generator, so a bad part_size fails at
        # the call site rather than on the first next().
        self._sink = ChunkedSink(part_size)
        self._result: ExportResult | None = None
        body = (writer.write_rows(batch) for batch in batches) if encoded is None else iter(encoded)
        self._parts = self._generate(writer, body)

    def __iter__(self) -> ExportStream:
        return self

    def __next__(self) -> bytes:
        return next(self._parts)

    @property
    def result(self) -> ExportResult:
        """Final size/sha256/parts; RuntimeError until the last part has been produced."""
        if self._result is None:
            raise RuntimeError("export stream has not produced its last part yet")
        return self._result

    def _generate(self, writer: ExportWriter, body: Iterable[bytes]) -> Iterator[bytes]:
        sink = self._sink
        chunks = chain((writer.header(),), body, (writer.footer(),))
        count = 0
        for chunk in chunks:
            parts = sink.feed(chunk)
            count += len(parts)
            # Popping hands each part over without this frame keeping a reference, so
            # a consumer that drops a part after uploading it really frees it.
            parts.reverse()
            while parts:
                yield parts.pop()
        # The sink holds back a full part until more data arrives, so this is empty only
        # for an empty export (a row-less JSONL); it is still yielded so every stream has
        # at least one part and an upload loop never has to special-case "no parts".
        last = sink.close()
        # Published before the final yield so the caller can attach the checksum to the
        # request that uploads or completes with the last part.
        self._result = ExportResult(size=sink.size, sha256=sink.sha256, parts=count + 1)
        yield last


def stream_export(
    writer: ExportWriter, batches: Iterable[Iterable[Row]], sink_part_size: int
) -> ExportStream:
    """Stream header, row batches and footer through a ChunkedSink as upload parts."""
    return ExportStream(writer, batches, sink_part_size)


def stream_encoded_export(
    writer: ExportWriter, encoded: Iterable[bytes], sink_part_size: int
) -> ExportStream:
    """Like stream_export, for row bytes already encoded in the writer's format elsewhere.

    The export job has PostgreSQL encode rows (COPY); the writer still supplies the header
    (and the CSV BOM) and footer, and the sink cuts the parts and hashes the whole file.
    """
    return ExportStream(writer, (), sink_part_size, encoded=encoded)
