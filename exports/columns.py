"""The exportable ticket fields, as SQL expressions PostgreSQL evaluates while it streams rows.

CSV cells are formatted in SQL so that `COPY ... (FORMAT csv)` produces exactly what
`exports.writers.CsvWriter` would (same cell text, same RFC 4180 quoting), without a Python
loop over cells: text is neutralised against formula injection, an empty text is NULL (PostgreSQL
quotes empty strings, Python's csv module does not), datetimes are UTC `isoformat()`, booleans
`true`/`false`, lists `;`-joined with each item neutralised. JSONL values are native JSON.
The one deliberate difference: `metadata` in CSV is PostgreSQL's JSON text (`{"a": 1}`), where
the Python writer would print compact JSON (`{"a":1}`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Expression, F, Func, OuterRef, TextField, Value
from django.db.models.functions import Cast

from exports import sql as sql_text


class SqlTemplate(Func):
    """One expression placed (possibly several times) into a fixed SQL template at `{x}`.

    With `once`, the expression is evaluated once per row and the template reads the result
    (for subqueries and casts, which PostgreSQL would otherwise run at every occurrence).
    """

    sql_template = "{x}"
    output_field = TextField()

    def __init__(
        self, expression: Any, template: str | None = None, *, once: bool = False, **extra: Any
    ) -> None:
        super().__init__(expression, **extra)
        if template is not None:
            self.sql_template = template
        self.once = once

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        sql, params = compiler.compile(self.source_expressions[0])
        if self.once:
            wrapped = sql_text.evaluated_once(self.sql_template.format(x="once.v"), sql)
            return wrapped, tuple(params)
        uses = self.sql_template.count("{x}")
        # Each occurrence of the inner SQL needs its own copy of the parameters.
        return self.sql_template.format(x=f"({sql})"), tuple(params) * uses


def _text_cell(expression: Any, *, once: bool = False) -> Expression:
    return SqlTemplate(expression, sql_text.TEXT_CELL, once=once)


def _list_cell(expression: Any, *, once: bool = False) -> Expression:
    # Each item neutralised on its own, as writers.format_csv_cell does for lists.
    return SqlTemplate(expression, sql_text.LIST_CELL, once=once)


def _datetime_text(expression: Any) -> Expression:
    return SqlTemplate(expression, sql_text.ISO_UTC)


def _bool_cell(expression: Any) -> Expression:
    return SqlTemplate(expression, sql_text.BOOL_CELL)


def _public_messages() -> Any:
    # Internal notes never leave the desk through an export, whoever asks.
    from tickets.models import Message

    return ArraySubquery(
        Message.objects.filter(ticket=OuterRef("pk"), internal=False)
        .order_by("created_at", "id")
        .values("body")
    )


# An export covers one project, so its key is a constant of the query rather than a join per
# row; project keys are upper-case letters, which no spreadsheet reads as a formula.
def _ticket_key(project_key: str) -> Expression:
    # number is NOT NULL: a plain || (Concat would wrap both sides in COALESCE).
    return Func(
        Value(f"{project_key}-"),
        Cast("number", TextField()),
        template="(%(expressions)s)",
        arg_joiner=" || ",
        output_field=TextField(),
    )


def _project_key(project_key: str) -> Expression:
    return Value(project_key, output_field=TextField())


@dataclass(frozen=True)
class Column:
    """One exportable field: its CSV cell and JSON value expressions, given the project key."""

    name: str
    csv: Callable[[str], Any]
    json: Callable[[str], Any]
    description: str


def _text(name: str, path: str, description: str) -> Column:
    return Column(name, lambda _: _text_cell(F(path)), lambda _: F(path), description)


def _plain(name: str, path: str, description: str) -> Column:
    # Integers (writers leave numbers alone too), and text a check constraint limits to fixed
    # lower-case words (priority, status category): never a formula, never empty.
    return Column(name, lambda _: F(path), lambda _: F(path), description)


def _datetime(name: str, description: str) -> Column:
    return Column(
        name, lambda _: _datetime_text(F(name)), lambda _: _datetime_text(F(name)), description
    )


def _bool(name: str, description: str) -> Column:
    return Column(name, lambda _: _bool_cell(F(name)), lambda _: F(name), description)


COLUMNS: dict[str, Column] = {
    column.name: column
    for column in (
        _plain("id", "id", "Ticket id."),
        Column("key", _ticket_key, _ticket_key, "Ticket key, e.g. DESK-42."),
        _plain("number", "number", "Ticket number within the project."),
        Column("project", _project_key, _project_key, "Project key."),
        _text("title", "title", "Title."),
        _text("description", "description", "Description."),
        _text("status", "status__key", "Status key."),
        _text("status_name", "status__name", "Status name."),
        _plain("status_category", "status__category", "todo, in_progress or done."),
        _plain("priority", "priority", "low, medium, high or critical."),
        _text("category", "category", "Category."),
        Column(
            "tags",
            lambda _: _list_cell(F("tags")),
            lambda _: F("tags"),
            "Tags (CSV: joined with ';').",
        ),
        _text("assignee", "assignee__username", "Assignee's username."),
        _text("requester", "requester__username", "Requester's username."),
        _text("created_by", "created_by__username", "Creator's username."),
        _text("linked_type", "linked_type", "Linked object type."),
        _text("linked_id", "linked_id", "Linked object id."),
        _bool("is_sensitive", "Sensitive flag."),
        _bool("is_archived", "Archived flag."),
        _text("resolution_summary", "resolution_summary", "Resolution summary."),
        _plain("escalation_level", "escalation_level", "Current escalation level."),
        _plain("reopened_count", "reopened_count", "Times reopened."),
        _datetime("created_at", "Created (UTC)."),
        _datetime("updated_at", "Last updated (UTC)."),
        _datetime("first_response_at", "First response (UTC)."),
        _datetime("resolved_at", "Resolved (UTC)."),
        _datetime("closed_at", "Closed (UTC)."),
        Column(
            "metadata",
            lambda _: _text_cell(Cast("metadata", TextField()), once=True),
            lambda _: F("metadata"),
            "Metadata object (CSV: its JSON text).",
        ),
        Column(
            "public_messages",
            lambda _: _list_cell(_public_messages(), once=True),
            lambda _: _public_messages(),
            "Public replies, oldest first (CSV: joined with ';'); internal notes never.",
        ),
    )
}

# Everything but the two heavy, opt-in fields.
DEFAULT_FIELDS: tuple[str, ...] = tuple(
    name for name in COLUMNS if name not in ("metadata", "public_messages")
)


def unknown_fields(fields: Sequence[str]) -> list[str]:
    """The names in `fields` that are not exportable."""
    return [name for name in fields if name not in COLUMNS]
