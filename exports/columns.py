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

# Code points of the OWASP formula triggers: tab, CR, "+", "-", "=", "@" (see writers.neutralise_cell).
_TRIGGER_CODES = "9, 13, 43, 45, 61, 64"
# Every trigger is below "A" (65): most cells start with a letter and stop at the cheaper test.
_NEUTRALISED = (
    f"CASE WHEN ascii({{x}}) < 65 AND ascii({{x}}) IN ({_TRIGGER_CODES}) "
    "THEN '''' || {x} ELSE {x} END"
)
# Python's datetime.isoformat() drops an all-zero fraction; to_char always prints six digits.
_ISO_UTC = (
    "replace(to_char({x} AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'), '.000000+', '+')"
)


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
            # OFFSET 0 keeps the planner from inlining the value back into every use.
            body = self.sql_template.format(x="once.v")
            wrapped = f"(SELECT {body} FROM (SELECT ({sql}) AS v OFFSET 0) AS once)"  # noqa: S608
            return wrapped, tuple(params)
        uses = self.sql_template.count("{x}")
        # Each occurrence of the inner SQL needs its own copy of the parameters.
        return self.sql_template.format(x=f"({sql})"), tuple(params) * uses


def _text_cell(expression: Any, *, once: bool = False) -> Expression:
    return SqlTemplate(expression, f"NULLIF({_NEUTRALISED}, '')", once=once)


# Items are joined with U+001F and every item start that is a formula trigger gets its quote in
# one regexp pass; then the separators become ";". Much cheaper than unnesting each row's array.
# An item that itself contains U+001F would be split wrongly, so such rows take the exact,
# slower path that neutralises item by item.
_LIST_FAST = (
    "NULLIF(substr(replace(regexp_replace(E'\\x1f' || array_to_string({x}, E'\\x1f'), "
    "E'\\x1f([-=+@\\t\\r])', E'\\x1f''\\\\1', 'g'), E'\\x1f', ';'), 2), '')"
)
_LIST_EXACT = (
    "NULLIF((SELECT string_agg("  # noqa: S608
    + _NEUTRALISED.replace("{x}", "u.item")
    + ", ';' ORDER BY u.n) FROM unnest({x}) WITH ORDINALITY AS u(item, n)), '')"
)


def _list_cell(expression: Any, *, once: bool = False) -> Expression:
    # Each item is neutralised on its own, like writers.format_csv_cell does for lists. Most
    # lists need nothing, and one regexp match on the U+001F-joined items proves it: every item
    # starts the string or follows a U+001F, so no match means no item starts with a trigger.
    # Only a list that matches is checked for an item holding U+001F itself (exact path).
    return SqlTemplate(
        expression,
        "CASE WHEN cardinality({x}) = 0 THEN NULL "
        "WHEN array_to_string({x}, E'\\x1f') !~ E'(^|\\x1f)[-=+@\\t\\r]' "
        "THEN NULLIF(array_to_string({x}, ';'), '') "
        "WHEN strpos(array_to_string({x}, ''), E'\\x1f') > 0 THEN "
        + _LIST_EXACT
        + " ELSE "
        + _LIST_FAST
        + " END",
        once=once,
    )


def _datetime_text(expression: Any) -> Expression:
    return SqlTemplate(expression, _ISO_UTC)


def _bool_cell(expression: Any) -> Expression:
    # A bool cast to text is "true"/"false" (its COPY output would be "t"/"f"); NULL stays NULL.
    return SqlTemplate(expression, "({x})::text")


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
