"""Reads of export jobs and the ticket query an export streams, both scoped to the requester."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import BooleanField, Expression, F, QuerySet, Subquery

from config.api import NotFound
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
    return apply_ticket_filters(qs, filters, user=user, now=as_of)


@dataclass(frozen=True)
class CopyPlan:
    """The statements a run executes: the row count, then the COPY that streams the rows.

    `range_copy(start, count)` compiles the COPY of rows `start` to `start + count` of the
    same ordered result (`count=None`: to the end), for reading contiguous ranges on several
    sessions that share one snapshot; None when the ordering does not allow it.
    """

    count_sql: str
    count_params: tuple[Any, ...]
    copy_sql: str
    copy_params: tuple[Any, ...]
    range_copy: Callable[[int, int | None], tuple[str, tuple[Any, ...]]] | None = None


def _alias(index: int) -> str:
    # Annotation names must not collide with model fields, so columns travel under
    # positional aliases and get their public names (JSON keys) in the outer SELECT.
    return f"export_col_{index}"


class _AfterRow(Expression):
    """`(key, id)` comes after the one row `boundary` selects, in the (key, id) ordering.

    A row comparison against the boundary subquery: PostgreSQL runs the subquery once (an
    InitPlan) and, for an indexed key, starts the index scan at the boundary. Only for keys
    that are never NULL (a NULL key would compare as unknown and drop its row).
    """

    conditional = True
    output_field = BooleanField()

    def __init__(self, key: Any, pk: Any, boundary: Any, *, descending: bool) -> None:
        super().__init__()
        self.key, self.pk, self.boundary = key, pk, boundary
        self.descending = descending

    def get_source_expressions(self) -> list[Any]:
        return [self.key, self.pk, self.boundary]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.key, self.pk, self.boundary = exprs

    def as_sql(
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        key_sql, key_params = compiler.compile(self.key)
        pk_sql, pk_params = compiler.compile(self.pk)
        boundary_sql, boundary_params = compiler.compile(self.boundary)
        op = "<" if self.descending else ">"
        return (
            f"({key_sql}, {pk_sql}) {op} {boundary_sql}",
            (*key_params, *pk_params, *boundary_params),
        )


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
        return f"COPY (SELECT {select} FROM ({inner_sql}) AS i) TO STDOUT (FORMAT csv)"  # noqa: S608
    renamed = ", ".join(
        f'i.{alias} AS "{name}"' for alias, name in zip(aliases, fields, strict=True)
    )
    # Text format: PostgreSQL backslash-escapes the JSON text, the reader undoes it.
    return f"COPY (SELECT row_to_json(r) FROM (SELECT {renamed} FROM ({inner_sql}) AS i) AS r) TO STDOUT"  # noqa: S608


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

    range_copy = None
    key, pk = (name.lstrip("-") for name in ordering)
    descending = ordering[0].startswith("-")
    if key in _NON_NULL_KEYS and pk == "id" and ordering[1].startswith("-") == descending:

        def range_copy(start: int, count: int | None) -> tuple[str, tuple[Any, ...]]:
            part = ordered.annotate(**annotations)
            if start > 0:
                # After the last row of the ranges before: found by position in the same order.
                boundary = ordered.order_by(*ordering).values_list(key, "id")[start - 1 : start]
                part = part.filter(
                    _AfterRow(
                        F(key),
                        F("id"),
                        Subquery(boundary, output_field=BooleanField()),
                        descending=descending,
                    )
                )
            part = part.order_by(*ordering).values_list(*aliases)
            if count is not None:
                part = part[:count]
            sql, part_params = part.query.sql_with_params()
            return _wrap_copy(sql, aliases, fields, csv=csv), tuple(part_params)

    return CopyPlan(
        count_sql=f"SELECT count(*) FROM ({count_sql}) AS c",  # noqa: S608
        count_params=tuple(count_params),
        copy_sql=_wrap_copy(inner_sql, aliases, fields, csv=csv),
        copy_params=tuple(params),
        range_copy=range_copy,
    )
