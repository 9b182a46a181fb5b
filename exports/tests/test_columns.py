"""The SQL-side formatting (COPY) against the pure writers: byte for byte for CSV, value for JSONL."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exports.columns import COLUMNS, DEFAULT_FIELDS
from exports.selectors import copy_plan, export_tickets
from exports.streaming import copy_batches
from exports.writers import CsvWriter, make_writer
from tests_support.factories import make_ticket, make_user
from tickets.filters import TicketFilters, parse_ticket_filters
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

INJECTIONS = [
    "=1+1",
    "+SUM(A1:A9)",
    "-2+3",
    "@cmd",
    "\tleading tab",
    "\rleading cr",
    '=HYPERLINK("http://evil.example","x")',
]
ALL_FIELDS = tuple(COLUMNS)


def python_value(ticket: Ticket, name: str) -> Any:
    """What the pure writers get for a field: the reference the SQL must reproduce."""
    users = {"assignee": ticket.assignee, "requester": ticket.requester}
    users["created_by"] = ticket.created_by
    if name in users:
        user = users[name]
        return user.username if user else None
    if name == "key":
        return f"{ticket.project.key}-{ticket.number}"
    if name == "project":
        return ticket.project.key
    if name in ("status", "status_name", "status_category"):
        return {
            "status": ticket.status.key,
            "status_name": ticket.status.name,
            "status_category": ticket.status.category,
        }[name]
    if name == "public_messages":
        return list(
            ticket.messages.filter(internal=False)
            .order_by("created_at", "id")
            .values_list("body", flat=True)
        )
    return getattr(ticket, name)


def run_copy(fmt: str, fields: tuple[str, ...], *, user: Any, project: Any, **raw: Any) -> bytes:
    filters = parse_ticket_filters(raw)
    tickets = export_tickets(user=user, project=project, filters=filters, as_of=datetime.now(UTC))
    plan = copy_plan(tickets, project=project, fmt=fmt, fields=fields, filters=filters)
    # Django's own connection: it sees this test's uncommitted rows.
    return b"".join(copy_batches(connection.connection, plan, fmt=fmt, batch_rows=2))


def reference_tickets(project: Any) -> list[Ticket]:
    """The project's unarchived tickets in the list's default order (newest first)."""
    return list(
        Ticket.objects.filter(project=project, is_archived=False)
        .select_related("project", "status", "assignee", "requester", "created_by")
        .order_by("-created_at", "-id")
    )


@pytest.fixture
def nasty(desk: dict[str, Any]) -> dict[str, Any]:
    """Tickets whose every text field tries something: formulas, quotes, newlines, unicode."""
    project = desk["project"]
    sneaky = make_user("+sneaky", project=project, role="agent")
    customer = make_user("@customer", project=project, role="customer")
    tickets = []
    for index, text in enumerate(INJECTIONS):
        tickets.append(
            make_ticket(
                project,
                desk["agent"],
                title=text,
                description=f'{text}, with "quotes", commas\nand a newline\r\nand CRLF',
                tags=[text, "plain", "semi;colon"],
                assignee=sneaky if index % 2 else None,
                requester=customer,
                metadata={"note": text, "n": index},
            )
        )
    weird = make_ticket(
        project,
        desk["agent"],
        title="Ünïcödé ✓ \u2028 line-sep, back\\slash \\n not a newline",
        description="",
        tags=[],
    )
    tickets.append(weird)
    # The row-end sentinel's bytes inside data, and the list separator inside tags.
    tickets.append(
        make_ticket(
            project,
            desk["agent"],
            title=',"\r"\n',
            description='x,"\r"\r\n"\r",',
            tags=["\x1f=x", "=\x1fy", "", "@"],
        )
    )
    Message.objects.create(ticket=weird, author=desk["agent"], body="=public reply", internal=False)
    Message.objects.create(ticket=weird, author=desk["agent"], body="SECRET NOTE", internal=True)
    # A datetime with no fraction: isoformat() prints no ".000000".
    Ticket.objects.filter(pk=weird.pk).update(
        first_response_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        resolved_at=datetime(2025, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
    )
    return {"project": project, "tickets": tickets, "agent": desk["agent"]}


def test_csv_from_copy_is_byte_identical_to_the_python_writer(nasty: dict[str, Any]) -> None:
    fields = tuple(f for f in ALL_FIELDS if f != "metadata")
    body = run_copy("csv", fields, user=nasty["agent"], project=nasty["project"])
    writer = CsvWriter(fields)
    expected = writer.write_rows(
        [[python_value(t, f) for f in fields] for t in reference_tickets(nasty["project"])]
    )
    assert body == expected
    # And every formula trigger came out neutralised.
    rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
    titles = [row[fields.index("title")] for row in rows]
    for text in INJECTIONS:
        assert "'" + text in titles
        assert text not in titles


def test_csv_metadata_is_the_json_text_neutralised(nasty: dict[str, Any]) -> None:
    body = run_copy("csv", ("id", "metadata"), user=nasty["agent"], project=nasty["project"])
    rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
    by_id = {int(row[0]): row[1] for row in rows}
    for ticket in nasty["tickets"]:
        assert json.loads(by_id[ticket.pk]) == ticket.metadata


def test_jsonl_from_copy_matches_the_python_values(nasty: dict[str, Any]) -> None:
    body = run_copy("jsonl", ALL_FIELDS, user=nasty["agent"], project=nasty["project"])
    lines = body.split(b"\n")
    assert lines[-1] == b""
    decoded = [json.loads(line) for line in lines[:-1]]
    expected = []
    for ticket in reference_tickets(nasty["project"]):
        row = {}
        for name in ALL_FIELDS:
            value = python_value(ticket, name)
            # The writer's JSON encoding of a value, decoded again: datetimes become strings.
            row[name] = json.loads(make_writer("jsonl", [name]).write_rows([[value]]))[name]
        expected.append(row)
    assert decoded == expected
    assert [list(row) for row in decoded] == [list(ALL_FIELDS)] * len(decoded)
    assert b"SECRET NOTE" not in body


def test_internal_notes_never_appear_even_for_staff(nasty: dict[str, Any]) -> None:
    for fmt in ("csv", "jsonl"):
        body = run_copy(fmt, ALL_FIELDS, user=nasty["agent"], project=nasty["project"])
        assert b"SECRET NOTE" not in body
        assert b"public reply" in body


def test_a_single_field_export_keeps_empty_rows_visible(desk: dict[str, Any]) -> None:
    make_ticket(desk["project"], desk["agent"], title="x", description="")
    make_ticket(desk["project"], desk["agent"], title="y", description="-dash")
    body = run_copy("csv", ("description",), user=desk["agent"], project=desk["project"])
    expected = CsvWriter(["description"]).write_rows([["'-dash"], [""]])
    assert body == expected == b'\'-dash\r\n""\r\n'


def test_a_filter_that_matches_nothing_yields_no_rows(desk: dict[str, Any]) -> None:
    make_ticket(desk["project"], desk["agent"], title="only one")
    for fmt in ("csv", "jsonl"):
        body = run_copy(
            fmt, DEFAULT_FIELDS, user=desk["agent"], project=desk["project"], priority="critical"
        )
        assert body == b""


def test_customers_export_only_their_own_tickets(desk: dict[str, Any]) -> None:
    mine = make_ticket(desk["project"], desk["customer"], title="mine")
    make_ticket(desk["project"], desk["customer2"], title="not mine")
    make_ticket(desk["project"], desk["agent"], title="staff ticket")
    body = run_copy("csv", ("id", "title"), user=desk["customer"], project=desk["project"])
    assert body == f"{mine.pk},mine\r\n".encode()


def test_filters_and_ordering_come_from_the_ticket_list(desk: dict[str, Any]) -> None:
    low = make_ticket(desk["project"], desk["agent"], title="a", priority="low")
    high = make_ticket(desk["project"], desk["agent"], title="b", priority="high")
    critical = make_ticket(desk["project"], desk["agent"], title="c", priority="critical")
    body = run_copy(
        "csv",
        ("id",),
        user=desk["agent"],
        project=desk["project"],
        priority="low,critical",
        ordering="created_at",
    )
    assert body == f"{low.pk}\r\n{critical.pk}\r\n".encode()
    body = run_copy(
        "csv", ("id",), user=desk["agent"], project=desk["project"], ordering="-priority"
    )
    assert body == f"{critical.pk}\r\n{high.pk}\r\n{low.pk}\r\n".encode()


def test_tickets_created_after_as_of_are_left_out(desk: dict[str, Any]) -> None:
    early = make_ticket(desk["project"], desk["agent"], title="early")
    late = make_ticket(desk["project"], desk["agent"], title="late")
    Ticket.objects.filter(pk=late.pk).update(created_at=datetime(2999, 1, 1, tzinfo=UTC))
    tickets = export_tickets(
        user=desk["agent"],
        project=desk["project"],
        filters=TicketFilters(),
        as_of=datetime.now(UTC),
    )
    assert list(tickets.values_list("pk", flat=True)) == [early.pk]


# Text PostgreSQL can store (no NUL) that UTF-8 can encode (no lone surrogates).
pg_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(title=pg_text, description=pg_text, tags=st.lists(pg_text, max_size=3))
def test_any_text_survives_both_formats(
    desk: dict[str, Any], title: str, description: str, tags: list[str]
) -> None:
    project = desk["project"]
    ticket = Ticket.objects.filter(project=project).first() or make_ticket(project, desk["agent"])
    Ticket.objects.filter(pk=ticket.pk).update(title=title, description=description, tags=tags)
    fields = ("title", "description", "tags")
    csv_body = run_copy("csv", fields, user=desk["agent"], project=project)
    assert csv_body == CsvWriter(fields).write_rows([[title, description, tags]])
    jsonl_body = run_copy("jsonl", fields, user=desk["agent"], project=project)
    assert json.loads(jsonl_body) == {"title": title, "description": description, "tags": tags}


# Fractions PostgreSQL's JSON text trims (trailing zeros, a zero fraction and its point) and the
# extremes of the years Python can hold: each must come out as isoformat() writes it.
EDGE_DATETIMES = [
    datetime(2025, 1, 2, 3, 4, 5, microsecond, tzinfo=UTC)
    for microsecond in (0, 1, 10, 100, 1000, 10000, 100000, 120000, 500, 999999, 654321)
] + [
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(1, 1, 1, 0, 0, 0, 10, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2024, 2, 29, 23, 59, 59, 900000, tzinfo=UTC),
]


@pytest.mark.parametrize("session_zone", ["UTC", "America/St_Johns"])
def test_csv_datetimes_are_isoformat_for_every_fraction(
    desk: dict[str, Any], session_zone: str
) -> None:
    project = desk["project"]
    for value in EDGE_DATETIMES:
        ticket = make_ticket(project, desk["agent"], title=str(value))
        Ticket.objects.filter(pk=ticket.pk).update(
            resolved_at=value, closed_at=value.replace(microsecond=0), first_response_at=None
        )
    fields = ("title", "resolved_at", "closed_at", "first_response_at")
    with connection.cursor() as cursor:
        # The cells are UTC whatever the session's zone (the export's own sessions use UTC).
        cursor.execute("SELECT set_config('TimeZone', %s, false)", [session_zone])
        try:
            body = run_copy("csv", fields, user=desk["agent"], project=project)
        finally:
            cursor.execute("SET TIME ZONE 'UTC'")
    expected = CsvWriter(fields).write_rows(
        [[python_value(t, f) for f in fields] for t in reference_tickets(project)]
    )
    assert body == expected
    for value in EDGE_DATETIMES:
        assert f",{value.isoformat()},".encode() in body
