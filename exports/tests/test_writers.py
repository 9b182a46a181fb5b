"""Tests for exports.writers: pure, so no database and no Django settings needed."""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
import sys
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exports import writers
from exports.writers import (
    ChunkedSink,
    CsvWriter,
    ExportResult,
    JsonlWriter,
    Row,
    format_csv_cell,
    make_writer,
    neutralise_cell,
    stream_encoded_export,
    stream_export,
)

# Explicit deadline=None: CI machines are noisy and these tests are not about latency.
fast = settings(max_examples=100, deadline=None)


def parse_csv(data: bytes) -> list[list[str]]:
    # newline="" is what the csv module requires to see embedded CR/LF verbatim.
    return list(csv.reader(io.StringIO(data.decode(), newline="")))


def parse_jsonl(data: bytes) -> list[object]:
    # Split on b"\n" only: splitlines() would also break on U+2028 inside strings.
    assert data.endswith(b"\n") or data == b""
    return [json.loads(line) for line in data.split(b"\n")[:-1]]


# --- CSV injection ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tfoo", "'\tfoo"),
        ("\rfoo", "'\rfoo"),
        ("a=b", "a=b"),
        ("", ""),
        ("normal", "normal"),
        # Documented choice: only the very first character counts, as OWASP words it.
        (" =1+1", " =1+1"),
        ("'=1", "'=1"),
    ],
)
def test_neutralise_cell(cell: str, expected: str) -> None:
    assert neutralise_cell(cell) == expected


def test_csv_output_neutralises_strings_but_not_numbers() -> None:
    writer = CsvWriter(["a", "b", "c", "d", "e"])
    out = writer.write_rows([["=1+1", -5, -2.5, Decimal("-3.10"), ["=x", "ok"]]])
    assert out == b"'=1+1,-5,-2.5,-3.10,'=x;ok\r\n"


def test_list_tag_neutralised_per_item() -> None:
    assert format_csv_cell(["=x", "ok"]) == "'=x;ok"
    assert format_csv_cell(["ok", "@x", "-1"]) == "ok;'@x;'-1"


def test_header_names_are_neutralised() -> None:
    # Custom-field labels are user-defined, so the header is untrusted too.
    assert CsvWriter(["id", "=HYPERLINK()"]).header() == b"id,'=HYPERLINK()\r\n"


# --- CSV formatting and RFC 4180 -------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-5, "-5"),
        (1.5, "1.5"),
        (Decimal("12.50"), "12.50"),
        (date(2024, 2, 29), "2024-02-29"),
        (datetime(2024, 3, 1, 9, 30, tzinfo=UTC), "2024-03-01T09:30:00+00:00"),
        (
            datetime(2024, 3, 1, 9, 30, 0, 123, tzinfo=timezone(timedelta(hours=2))),
            "2024-03-01T07:30:00.000123+00:00",
        ),
        ([], ""),
        (("a", "b"), "a;b"),
        (["a", ["b", 1]], 'a;["b",1]'),
        ({"k": "v", "n": [1, 2]}, '{"k":"v","n":[1,2]}'),
        ({"k": "é"}, '{"k":"é"}'),
    ],
)
def test_format_csv_cell(value: object, expected: str) -> None:
    assert format_csv_cell(value) == expected


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        format_csv_cell(datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="naive datetime"):
        JsonlWriter(["t"]).write_rows([[datetime(2024, 1, 1)]])


@pytest.mark.parametrize("value", [b"bytes", object(), {1, 2}])
def test_unsupported_types_are_rejected(value: object) -> None:
    with pytest.raises(TypeError, match="cannot export"):
        CsvWriter(["x"]).write_rows([[value]])
    with pytest.raises(TypeError, match="cannot export"):
        JsonlWriter(["x"]).write_rows([[value]])


def test_rfc4180_exact_bytes() -> None:
    writer = CsvWriter(["id", "subject", "quote", "body", "name", "cr"])
    row = [7, "Hello, world", 'He said "hi"', "line1\nline2", "Zoë ✓", "a\rb"]
    assert writer.header() + writer.write_rows([row]) == (
        b"id,subject,quote,body,name,cr\r\n"
        b'7,"Hello, world","He said ""hi""","line1\nline2",Zo\xc3\xab \xe2\x9c\x93,"a\rb"\r\n'
    )


def test_single_empty_cell_row_is_distinguishable_from_blank_line() -> None:
    assert CsvWriter(["x"]).write_rows([[None], [""]]) == b'""\r\n""\r\n'


def test_bom_only_when_asked() -> None:
    assert CsvWriter(["a", "b"]).header() == b"a,b\r\n"
    assert CsvWriter(["a", "b"], bom=True).header() == b"\xef\xbb\xbfa,b\r\n"
    # The BOM belongs to the file start only, never to row batches.
    assert CsvWriter(["a"], bom=True).write_rows([["x"]]) == b"x\r\n"


def test_crlf_line_endings() -> None:
    writer = CsvWriter(["a", "b"])
    out = writer.header() + writer.write_rows([["1", "2"], ["3", "4"]])
    assert out == b"a,b\r\n1,2\r\n3,4\r\n"
    assert out.replace(b"\r\n", b"").count(b"\n") == 0


def test_csv_has_no_footer_and_empty_batch_is_empty() -> None:
    writer = CsvWriter(["a"])
    assert writer.footer() == b""
    assert writer.write_rows([]) == b""


# Values the exporter may receive, across every supported type.
aware_datetimes = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.builds(
        timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
    ),
)
# Every type the writers accept, with finite floats (JSONL rejects NaN/inf by design).
finite_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(),
    st.text(),
    aware_datetimes,
    st.dates(),
    st.lists(st.text(), max_size=4),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
)
any_values = st.one_of(finite_values, st.floats())


@st.composite
def table(draw: st.DrawFn, values: st.SearchStrategy[object]) -> tuple[list[str], list[Row]]:
    width = draw(st.integers(min_value=1, max_value=6))
    fields = [f"f{i}" for i in range(width)]
    rows: list[Row] = draw(st.lists(st.lists(values, min_size=width, max_size=width), max_size=8))
    return fields, rows


@fast
@given(table(any_values))
def test_csv_round_trip(data: tuple[list[str], list[Row]]) -> None:
    fields, rows = data
    writer = CsvWriter(fields, bom=True)
    out = writer.header() + writer.write_rows(rows) + writer.footer()
    assert out.startswith(b"\xef\xbb\xbf")
    parsed = parse_csv(out[3:])
    assert parsed == [fields] + [[format_csv_cell(v) for v in row] for row in rows]


@fast
@given(table(st.text()))
def test_csv_text_cells_never_start_a_formula(data: tuple[list[str], list[Row]]) -> None:
    fields, rows = data
    parsed = parse_csv(CsvWriter(fields).write_rows(rows))
    assert len(parsed) == len(rows)
    for parsed_row, row in zip(parsed, rows, strict=True):
        for cell, value in zip(parsed_row, row, strict=True):
            assert isinstance(value, str)
            dangerous = value[:1] in ("=", "+", "-", "@", "\t", "\r")
            # Neutralising only ever adds the one quote, it never rewrites data.
            assert cell == ("'" + value if dangerous else value)


@fast
@given(table(finite_values), st.integers(min_value=1, max_value=4))
def test_batching_does_not_change_output(data: tuple[list[str], list[Row]], step: int) -> None:
    fields, rows = data
    for writer in (CsvWriter(fields), JsonlWriter(fields)):
        batches = [rows[i : i + step] for i in range(0, len(rows), step)]
        assert b"".join(writer.write_rows(b) for b in batches) == writer.write_rows(rows)


# --- JSONL -----------------------------------------------------------------------


def test_jsonl_exact_bytes() -> None:
    writer = JsonlWriter(
        ["id", "subject", "created_at", "closed_at", "tags", "amount", "urgent", "due", "meta"]
    )
    row = [
        42,
        "Café ☕ =down",
        datetime(2024, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=2))),
        None,
        ["=x", "ok"],
        Decimal("12.50"),
        True,
        date(2024, 3, 5),
        {"at": datetime(2024, 3, 1, 7, 30, tzinfo=UTC), "n": -5},
    ]
    assert writer.header() == b""
    assert writer.footer() == b""
    assert writer.write_rows([row]) == (
        b'{"id":42,"subject":"Caf\xc3\xa9 \xe2\x98\x95 =down",'
        b'"created_at":"2024-03-01T07:30:00+00:00","closed_at":null,'
        b'"tags":["=x","ok"],"amount":"12.50","urgent":true,"due":"2024-03-05",'
        b'"meta":{"at":"2024-03-01T07:30:00+00:00","n":-5}}\n'
    )


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_jsonl_rejects_non_finite_floats(value: float) -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        JsonlWriter(["x"]).write_rows([[value]])


json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.lists(st.text(), max_size=4),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@fast
@given(table(json_values))
def test_jsonl_round_trip(data: tuple[list[str], list[Row]]) -> None:
    fields, rows = data
    out = JsonlWriter(fields).write_rows(rows)
    # One record per line: no raw newline can leak out of a value.
    assert out.count(b"\n") == len(rows)
    assert parse_jsonl(out) == [dict(zip(fields, row, strict=True)) for row in rows]


@fast
@given(table(st.one_of(aware_datetimes, st.dates(), st.decimals(allow_nan=False))))
def test_jsonl_round_trip_of_non_native_types(data: tuple[list[str], list[Row]]) -> None:
    fields, rows = data
    parsed = parse_jsonl(JsonlWriter(fields).write_rows(rows))
    for record, row in zip(parsed, rows, strict=True):
        assert isinstance(record, dict)
        for name, value in zip(fields, row, strict=True):
            if isinstance(value, datetime):
                assert datetime.fromisoformat(record[name]) == value
                assert record[name].endswith("+00:00")
            elif isinstance(value, date):
                assert date.fromisoformat(record[name]) == value
            else:
                assert isinstance(value, Decimal)
                assert Decimal(record[name]) == value


# --- Writer construction ---------------------------------------------------------


@pytest.mark.parametrize("cls", [CsvWriter, JsonlWriter])
def test_writer_rejects_bad_fields_and_rows(cls: type[CsvWriter] | type[JsonlWriter]) -> None:
    with pytest.raises(ValueError, match="at least one field"):
        cls([])
    with pytest.raises(ValueError, match="duplicate"):
        cls(["a", "b", "a"])
    writer = cls(["a", "b"])
    assert writer.fields == ("a", "b")
    with pytest.raises(ValueError, match="1 values but the export has 2 fields"):
        writer.write_rows([["only one"]])
    with pytest.raises(ValueError, match="3 values"):
        writer.write_rows([["a", "b", "c"]])


def test_make_writer() -> None:
    csv_writer = make_writer("csv", ["a"], bom=True)
    assert isinstance(csv_writer, CsvWriter)
    assert csv_writer.header().startswith(b"\xef\xbb\xbf")
    assert (csv_writer.content_type, csv_writer.extension) == ("text/csv; charset=utf-8", "csv")
    jsonl_writer = make_writer("jsonl", ["a"])
    assert isinstance(jsonl_writer, JsonlWriter)
    assert (jsonl_writer.content_type, jsonl_writer.extension) == ("application/x-ndjson", "jsonl")


@pytest.mark.parametrize("fmt", ["xlsx", "CSV", "json", "", " csv"])
def test_make_writer_unknown_format(fmt: str) -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        make_writer(fmt, ["a"])


def test_make_writer_rejects_bom_for_jsonl() -> None:
    with pytest.raises(ValueError, match="bom is only supported for csv"):
        make_writer("jsonl", ["a"], bom=True)


def test_make_writer_propagates_field_errors() -> None:
    with pytest.raises(ValueError, match="at least one field"):
        make_writer("csv", [])


# --- ChunkedSink -----------------------------------------------------------------


@fast
@given(
    st.lists(st.binary(max_size=200), max_size=30),
    st.integers(min_value=1, max_value=64),
)
def test_chunked_sink_parts(chunks: list[bytes], part_size: int) -> None:
    sink = ChunkedSink(part_size)
    parts: list[bytes] = []
    largest_feed = max((len(c) for c in chunks), default=0)
    for chunk in chunks:
        parts.extend(sink.feed(chunk))
        # Bounded memory: after any feed at most one part's worth is held.
        assert sink.buffered <= part_size <= part_size + largest_feed
    assert all(len(part) == part_size for part in parts)
    last = sink.close()
    whole = b"".join(chunks)
    if whole:
        assert 1 <= len(last) <= part_size
    else:
        assert last == b""
    assert b"".join([*parts, last]) == whole
    assert sink.size == len(whole)
    assert sink.sha256 == hashlib.sha256(whole).hexdigest()
    assert sink.closed
    assert sink.buffered == 0


def test_chunked_sink_exact_multiple_keeps_last_part_non_empty() -> None:
    sink = ChunkedSink(4)
    assert sink.feed(b"abcd") == []
    assert sink.feed(b"efgh") == [b"abcd"]
    assert sink.close() == b"efgh"


def test_chunked_sink_large_single_feed() -> None:
    sink = ChunkedSink(1000)
    parts = sink.feed(b"x" * 10_500)
    assert [len(p) for p in parts] == [1000] * 10
    assert sink.buffered == 500
    assert sink.close() == b"x" * 500


def test_chunked_sink_running_digest_and_lifecycle() -> None:
    sink = ChunkedSink(10)
    assert sink.part_size == 10
    assert sink.sha256 == hashlib.sha256().hexdigest()
    sink.feed(b"abc")
    assert sink.sha256 == hashlib.sha256(b"abc").hexdigest()
    sink.close()
    with pytest.raises(ValueError, match="closed"):
        sink.feed(b"more")
    with pytest.raises(ValueError, match="already closed"):
        sink.close()
    assert ChunkedSink().part_size == writers.S3_MIN_PART_SIZE == 5 * 1024 * 1024


@pytest.mark.parametrize("part_size", [0, -1])
def test_chunked_sink_rejects_bad_part_size(part_size: int) -> None:
    with pytest.raises(ValueError, match="part_size must be positive"):
        ChunkedSink(part_size)


def _traced_peak(run: Iterator[bytes]) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        # Discard each part at once, as an uploader does after sending it; a for loop
        # would keep the previous part alive in its variable while the next is built.
        while next(run, None) is not None:
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_chunked_sink_memory_is_flat() -> None:
    part_size, chunk = 256 * 1024, b"y" * 4096
    total = 16 * 1024 * 1024

    def run() -> Iterator[bytes]:
        sink = ChunkedSink(part_size)
        for _ in range(total // len(chunk)):
            yield from sink.feed(chunk)
        yield sink.close()

    # One buffer plus the part being handed out; anything proportional to the stream
    # would be 16 MiB. The slack covers the chunk and interpreter bookkeeping.
    assert _traced_peak(run()) < 2 * part_size + 16 * 1024


# --- stream_export ---------------------------------------------------------------


def _ticket_batches(batches: int, per_batch: int) -> Iterator[list[Row]]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for b in range(batches):
        yield [
            [
                b * per_batch + i,
                f"Subject {i}, with comma",
                "open",
                start + timedelta(minutes=i),
                None,
                ["billing", "=evil"],
                Decimal("9.99"),
            ]
            for i in range(per_batch)
        ]


FIELDS = ["id", "subject", "status", "created_at", "closed_at", "tags", "amount"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_stream_export_parts_and_result(fmt: str) -> None:
    writer = make_writer(fmt, FIELDS)
    expected = (
        writer.header()
        + b"".join(writer.write_rows(batch) for batch in _ticket_batches(5, 40))
        + writer.footer()
    )
    stream = stream_export(writer, _ticket_batches(5, 40), sink_part_size=1024)
    with pytest.raises(RuntimeError, match="not produced its last part"):
        _ = stream.result
    parts = list(stream)
    assert all(len(p) == 1024 for p in parts[:-1])
    assert 1 <= len(parts[-1]) <= 1024
    assert b"".join(parts) == expected
    assert stream.result == ExportResult(
        size=len(expected), sha256=hashlib.sha256(expected).hexdigest(), parts=len(parts)
    )


def test_stream_export_result_is_ready_with_last_part() -> None:
    stream = stream_export(CsvWriter(["a"]), [[["x"]] * 100], sink_part_size=64)
    ready: list[int | None] = []
    for _part in stream:
        try:
            ready.append(stream.result.size)
        except RuntimeError:
            ready.append(None)
    # Available while the last part is being handled, e.g. to send its checksum along.
    assert ready == [None] * (len(ready) - 1) + [3 + 100 * 3]


def test_stream_export_empty_jsonl_yields_one_empty_part() -> None:
    stream = stream_export(JsonlWriter(["a"]), [], sink_part_size=10)
    assert list(stream) == [b""]
    assert stream.result == ExportResult(size=0, sha256=hashlib.sha256().hexdigest(), parts=1)


def test_stream_export_csv_without_rows_is_just_the_header() -> None:
    stream = stream_export(CsvWriter(["a", "b"], bom=True), [[], []], sink_part_size=1024)
    assert list(stream) == [b"\xef\xbb\xbfa,b\r\n"]


def test_stream_export_validates_part_size_eagerly() -> None:
    with pytest.raises(ValueError, match="part_size"):
        stream_export(CsvWriter(["a"]), [], sink_part_size=0)


def test_stream_export_memory_is_flat() -> None:
    part_size = 64 * 1024

    def measure(batches: int) -> tuple[int, int]:
        stream = stream_export(CsvWriter(FIELDS), _ticket_batches(batches, 200), part_size)
        return _traced_peak(stream), stream.result.size

    short_peak, short_size = measure(8)
    long_peak, long_size = measure(40)
    assert short_size > 2 * part_size
    assert long_size > 4 * short_size
    # Five times the output must not need more memory than the short export did.
    assert long_peak < short_peak * 1.1
    # Sink buffer + part in flight + one batch of rows and its encoding (~200 KiB).
    assert long_peak < 2 * part_size + 512 * 1024


def test_stream_encoded_export_wraps_pre_encoded_rows_in_header_and_parts() -> None:
    writer = CsvWriter(["a", "b"], bom=True)
    body = [b"1,x\r\n", b"", b"2,y\r\n" * 50]
    stream = stream_encoded_export(writer, iter(body), sink_part_size=64)
    parts = list(stream)
    expected = writer.header() + b"".join(body)
    assert b"".join(parts) == expected
    assert all(len(p) == 64 for p in parts[:-1])
    assert stream.result == ExportResult(
        size=len(expected), sha256=hashlib.sha256(expected).hexdigest(), parts=len(parts)
    )


def test_stream_encoded_export_of_nothing_is_the_header_alone() -> None:
    stream = stream_encoded_export(JsonlWriter(["a"]), [], sink_part_size=8)
    assert list(stream) == [b""]
    stream = stream_encoded_export(CsvWriter(["a"]), [], sink_part_size=8)
    assert list(stream) == [b"a\r\n"]


# --- Purity ----------------------------------------------------------------------


def test_module_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(writers.__file__).read_text())
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative imports would pull in the Django app"
            roots.add((node.module or "").split(".")[0])
    assert roots <= set(sys.stdlib_module_names) | {"__future__"}
