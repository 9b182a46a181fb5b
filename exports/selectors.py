"""Reads of export jobs and the ticket query an export streams, both scoped to the requester."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import BooleanField, Expression, F, QuerySet, Value

from config.api import NotFound
from exports import sql as statements
from exports.columns import COLUMNS
from exports.models import ExportFormat, ExportJob
from tickets.filters import TicketFilters, apply_ticket_filters, order_tickets
from tickets.models import Project, Ticket
from tickets.selectors import visible_tickets


def my_exports(user: Any) -> QuerySet[ExportJob]:
    """The user's own export jobs, newest first."""
    return ExportJob.objects.filter(requester=user).select_related("project")


def get_my_export(user: Any, export_id: Any) -> ExportJob:
    """One of the user's own exports, or NotFound (another user's export is not visible)."""
    try:
        pk = int(export_id)
    except (TypeError, ValueError):
        raise NotFound("No such export.") from None
    job = my_exports(user).filter(pk=pk).first()
    if job is None:
        raise NotFound("No such export.")
    return job


def export_tickets(
    *, user: Any, project: Project, filters: TicketFilters, as_of: datetime
) -> QuerySet[Ticket]:
    """The tickets an export of `project` holds: what `user` may see, filtered, created by as_of.

    `user=None` is an operator export (the management command): every ticket of the project.
    """
    base = Ticket.objects.all() if user is None else visible_tickets(user)
    qs = base.filter(project=project, created_at__lte=as_of)
    # The export's project is its own field; a filter naming another project would only empty it.
    filters = dataclasses.replace(filters, project=None)
    return apply_ticket_filters(qs, filters, user=user, now=as_of, narrow_search=False)


# A row's place in an ordering that splits: its (key, id) values.
Boundary = tuple[Any, Any]


@dataclass(frozen=True)
class RangeSplit:
    """How to cut the ordered rows into contiguous ranges (for reading them on several sessions).

    `boundary_sql(n)` selects the (key, id) of row `n` (0-based) of the ordered rows; run in the
    export's snapshot it gives the cut points. `copy_sql(after, through)` is the COPY of the rows
    strictly after the `after` row and up to and including the `through` row (None: from the
    first row / to the last one), byte for byte the same rows as that stretch of the full COPY.
    """

    boundary_sql: Callable[[int], tuple[str, tuple[Any, ...]]]
    copy_sql: Callable[[Boundary | None, Boundary | None], tuple[str, tuple[Any, ...]]]


@dataclass(frozen=True)
class CopyPlan:
    """The statements a run executes: the row count, then the COPY that streams the rows.

    `split` is None when the ordering cannot be cut into ranges by a (key, id) comparison.
    """

    count_sql: str
    count_params: tuple[Any, ...]
    copy_sql: str
    copy_params: tuple[Any, ...]
    split: RangeSplit | None = None


def _alias(index: int) -> str:
    # Annotation names must not collide with model fields, so columns travel under
    # positional aliases and get their public names (JSON keys) in the outer SELECT.
    return f"export_col_{index}"


class _RowCompare(Expression):
    """`(key, id) <op> (key value, id value)`: a row comparison PostgreSQL can start an index at.

    Only for keys that are never NULL: a NULL key would compare as unknown and drop its row.
    """

    conditional = True
    output_field = BooleanField()

    def __init__(self, key: Any, pk: Any, key_value: Any, pk_value: Any, op: str) -> None:
        super().__init__()
        self.exprs = [key, pk, key_value, pk_value]
        self.op = op

    def get_source_expressions(self) -> list[Any]:
        return list(self.exprs)

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.exprs = list(exprs)

    def as_sql(
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        compiled = [compiler.compile(expr) for expr in self.exprs]
        (key, key_p), (pk, pk_p), (key_v, key_vp), (pk_v, pk_vp) = compiled
        return f"({key}, {pk}) {self.op} ({key_v}, {pk_v})", (*key_p, *pk_p, *key_vp, *pk_vp)


# Orderings whose key is never NULL (NOT NULL columns; priority_rank covers every priority the
# check constraint allows; sla_due_sort is coalesced), so a (key, id) row comparison is exact.
_NON_NULL_KEYS = frozenset({"created_at", "updated_at", "rank", "priority_rank", "sla_due_sort"})


def _wrap_copy(inner_sql: str, aliases: list[str], fields: tuple[str, ...], *, csv: bool) -> str:
    # Only Django-compiled SQL and fixed aliases are spliced in below; values travel as params.
    # A subquery scan keeps the inner ORDER BY, and any column Django adds for ordering
    # stays inside, out of the file.
    if csv:
        if len(fields) == 1:
            # Python's csv module writes a lone empty cell as "" so the row is not blank;
            # PostgreSQL does the same for an empty (non-NULL) string.
            select = f"coalesce(i.{aliases[0]}::text, '')"
        else:
            select = ", ".join(f"i.{alias}" for alias in aliases)
        # A last cell holding just CR, which PostgreSQL writes quoted: every row then ends in
        # the bytes ,"<CR>"<LF>, which cannot occur anywhere else in its CSV (see
        # streaming.ROW_END), and the reader turns them into RFC 4180's CRLF in one replace().
        select += ", E'\\r'"
        return statements.copy_csv(select, inner_sql)
    renamed = ", ".join(
        f'i.{alias} AS "{name}"' for alias, name in zip(aliases, fields, strict=True)
    )
    # Text format: PostgreSQL backslash-escapes the JSON text, the reader undoes it.
    return statements.copy_jsonl(renamed, inner_sql)


def copy_plan(
    queryset: QuerySet[Ticket],
    *,
    project: Project,
    fmt: str,
    fields: tuple[str, ...],
    filters: TicketFilters,
) -> CopyPlan:
    """Compile the count and the COPY statement for a filtered queryset of one project's tickets."""
    count_sql, count_params = queryset.order_by().values("pk").query.sql_with_params()
    ordered, ordering = order_tickets(queryset, filters)
    csv = fmt == ExportFormat.CSV
    annotations: dict[str, Any] = {}
    for index, name in enumerate(fields):
        column = COLUMNS[name]
        make = column.csv if csv else column.json
        annotations[_alias(index)] = make(project.key)
    aliases = list(annotations)
    inner = ordered.annotate(**annotations).order_by(*ordering).values_list(*aliases)
    inner_sql, params = inner.query.sql_with_params()

    split = None
    key, pk = (name.lstrip("-") for name in ordering)
    descending = ordering[0].startswith("-")
    if key in _NON_NULL_KEYS and pk == "id" and ordering[1].startswith("-") == descending:
        # In a descending order the rows after a boundary compare below it.
        after_op, through_op = ("<", ">=") if descending else (">", "<=")

        def boundary_sql(position: int) -> tuple[str, tuple[Any, ...]]:
            row = ordered.order_by(*ordering).values_list(key, "id")[position : position + 1]
            sql, row_params = row.query.sql_with_params()
            return sql, tuple(row_params)

        def range_sql(
            after: Boundary | None, through: Boundary | None
        ) -> tuple[str, tuple[Any, ...]]:
            part = ordered.annotate(**annotations)
            for bound, op in ((after, after_op), (through, through_op)):
                if bound is not None:
                    part = part.filter(
                        _RowCompare(F(key), F("id"), Value(bound[0]), Value(bound[1]), op)
                    )
            sql, part_params = (
                part.order_by(*ordering).values_list(*aliases).query.sql_with_params()
            )
            return _wrap_copy(sql, aliases, fields, csv=csv), tuple(part_params)

        split = RangeSplit(boundary_sql=boundary_sql, copy_sql=range_sql)

    return CopyPlan(
        count_sql=statements.count(count_sql),
        count_params=tuple(count_params),
        copy_sql=_wrap_copy(inner_sql, aliases, fields, csv=csv),
        copy_params=tuple(params),
        split=split,
    )
