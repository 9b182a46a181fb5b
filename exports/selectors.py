"""Reads of export jobs and the ticket query an export streams, both scoped to the requester."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

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
    """The statements a run executes: the row count, then the COPY that streams the rows."""

    count_sql: str
    count_params: tuple[Any, ...]
    copy_sql: str
    copy_params: tuple[Any, ...]


def _alias(index: int) -> str:
    # Annotation names must not collide with model fields, so columns travel under
    # positional aliases and get their public names (JSON keys) in the outer SELECT.
    return f"export_col_{index}"


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
        sql = f"COPY (SELECT {select} FROM ({inner_sql}) AS i) TO STDOUT (FORMAT csv)"  # noqa: S608
    else:
        renamed = ", ".join(
            f'i.{alias} AS "{name}"' for alias, name in zip(aliases, fields, strict=True)
        )
        # Text format: PostgreSQL backslash-escapes the JSON text, the reader undoes it.
        sql = f"COPY (SELECT row_to_json(r) FROM (SELECT {renamed} FROM ({inner_sql}) AS i) AS r) TO STDOUT"  # noqa: S608
    return CopyPlan(
        count_sql=f"SELECT count(*) FROM ({count_sql}) AS c",  # noqa: S608
        count_params=tuple(count_params),
        copy_sql=sql,
        copy_params=tuple(params),
    )
