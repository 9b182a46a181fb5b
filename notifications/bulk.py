"""Bulk inserts that stay cheap with thousands of JSON-carrying rows.

Django's `bulk_create` on PostgreSQL passes each column as an array parameter; with client-side
binding psycopg quotes every element of a text array in Python (a regex per element), which for
JSON documents full of quotes costs more than the insert itself. Here the rows travel as ONE JSON
document (one string parameter, quoted by libpq) and PostgreSQL unpacks it with
`jsonb_to_recordset`: one statement, one parameter, whatever the number of rows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, models

from notifications import sql as statements


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()  # full precision (DjangoJSONEncoder would drop microseconds)
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def bulk_insert(objs: Sequence[models.Model], *, ignore_conflicts: bool = False) -> list[int]:
    """Insert unsaved instances of one model (auto primary key) and set their pks, in order.

    Field defaults and `auto_now_add` apply as in `save()` (`pre_save(add=True)`); no signals, as
    with `bulk_create`. With `ignore_conflicts` pks are not set (conflicting rows return none).
    """
    if not objs:
        return []
    meta = objs[0]._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    rows = [{f.column: f.pre_save(obj, True) for f in fields} for obj in objs]
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    spec = ", ".join(
        f"{connection.ops.quote_name(str(f.column))} {f.db_type(connection)}" for f in fields
    )
    # Only model metadata is interpolated; the rows are one bound parameter.
    sql = statements.bulk_insert(
        table=connection.ops.quote_name(meta.db_table),
        columns=columns,
        spec=spec,
        pk=connection.ops.quote_name(str(meta.pk.column)),
        ignore_conflicts=ignore_conflicts,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(rows, default=_default, ensure_ascii=False)])
        ids = sorted(row[0] for row in cursor.fetchall())
    if not ignore_conflicts:
        for obj, pk in zip(objs, ids, strict=True):
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = connection.alias
    return ids
