"""Hot-path reads in hand-written SQL that still hand back ordinary model instances.

On this hardware Django spends ~0.5 ms compiling a multi-join query, several times what
PostgreSQL needs to answer it. The few statements every move, detail or board read runs are
therefore written once, in SQL, and their rows are turned into model instances by `ModelColumns`
through `Model.from_db`, with the field converters the compiler would apply (JSON may arrive as
text). Instances behave as ORM-loaded ones: saving, related access and deferred fields work.
Only reads use this (ADR 0009); every write goes through the ORM or its app's `sql.py`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import JSONField, Model

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class ModelColumns(Generic[M]):
    """The columns of `model` under a table alias, in concrete-field order (minus `exclude`)."""

    model: type[M]
    alias: str
    exclude: tuple[str, ...] = ()
    fields: list[str] = field(init=False)
    columns: list[str] = field(init=False)
    _converters: list[tuple[int, Callable[[Any], Any]]] = field(init=False)
    _pk_index: int = field(init=False)

    def __post_init__(self) -> None:
        concrete = [f for f in self.model._meta.concrete_fields if f.name not in self.exclude]
        object.__setattr__(self, "fields", [f.attname for f in concrete])
        object.__setattr__(self, "columns", [f.column for f in concrete])
        converters = [
            (i, _json_loader(f)) for i, f in enumerate(concrete) if isinstance(f, JSONField)
        ]
        object.__setattr__(self, "_converters", converters)
        object.__setattr__(self, "_pk_index", self.fields.index(self.model._meta.pk.attname))

    @property
    def width(self) -> int:
        return len(self.fields)

    def select(self) -> str:
        """`alias."col", ...` for a select list."""
        return ", ".join(f'{self.alias}."{column}"' for column in self.columns)

    def build(self, row: Sequence[Any], offset: int = 0) -> M | None:
        """The instance from `row[offset:offset + width]` through `Model.from_db` (what the ORM
        calls); None when its primary key is NULL (the far side of a LEFT JOIN). Excluded fields
        stay deferred (loaded on access) exactly as with `.only()`."""
        values = list(row[offset : offset + self.width])
        if values[self._pk_index] is None:
            return None
        for index, convert in self._converters:
            if values[index] is not None:
                values[index] = convert(values[index])
        return self.model.from_db(DEFAULT_DB_ALIAS, self.fields, values)


def _json_loader(json_field: JSONField) -> Callable[[Any], Any]:
    def load(value: Any) -> Any:
        if not isinstance(value, str):  # binary jsonb arrives parsed
            return value
        return json_field.from_db_value(value, cast(Any, None), connection)

    return load


class _PreparingCursor(psycopg.Cursor[Any]):
    """Server-side binding, every statement prepared on first use (psycopg keeps the statements
    per connection, least recently used out past `prepared_max`), results in binary (a binary
    timestamp loads ~5x faster than parsing its ISO text; a board card has a dozen)."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("prepare", True)
        kwargs.setdefault("binary", True)
        return super().execute(query, params, **kwargs)


@contextmanager
def _cursor(sql: str, params: Sequence[Any] | dict[str, Any]) -> Iterator[Any]:
    """Run `sql` on the Django connection (its transaction, error translation and query log)
    through a preparing psycopg cursor, and yield that cursor for fetching.

    Django binds parameters client-side and never prepares (poolers such as PgBouncer in
    transaction mode cannot keep prepared statements). PostgreSQL then plans a seven-way join
    afresh for every detail read: ~1 ms of planning for ~0.1 ms of execution here. The few
    fixed hot statements of this module are prepared instead (a generic plan after five runs);
    everything else stays as Django does it. Behind a transaction-mode pooler set
    HELPLINE_PREPARE=0 (settings.PREPARE_HOT_SQL) and these run as Django runs any SQL.
    """
    if not settings.PREPARE_HOT_SQL:
        with connection.cursor() as plain:
            plain.execute(sql, params)
            yield plain
        return
    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    started = time.monotonic()
    cursor = _PreparingCursor(connection.connection)
    try:
        with connection.wrap_database_errors:
            cursor.execute(sql, params)
    finally:
        if connection.queries_logged:
            connection.queries_log.append(
                {
                    "sql": connection.ops.compose_sql(sql, params),  # type: ignore[attr-defined]
                    "time": f"{time.monotonic() - started:.3f}",
                }
            )
    try:
        with connection.wrap_database_errors:
            yield cursor
    finally:
        cursor.close()


def fetch_one(sql: str, params: Sequence[Any] | dict[str, Any]) -> tuple[Any, ...] | None:
    with _cursor(sql, params) as cursor:
        row = cursor.fetchone()
    return tuple(row) if row is not None else None


def fetch_all(sql: str, params: Sequence[Any] | dict[str, Any]) -> list[tuple[Any, ...]]:
    with _cursor(sql, params) as cursor:
        return [tuple(row) for row in cursor.fetchall()]
