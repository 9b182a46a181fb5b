"""Hot-path reads in hand-written SQL that still hand back ordinary model instances.

On this hardware Django spends ~0.5 ms compiling a multi-join query, several times what
PostgreSQL needs to answer it. The few statements every move, detail or board read runs are
therefore written once, in SQL, and their rows are turned into model instances by `ModelColumns`
through `Model.from_db`, with the field converters the compiler would apply (JSON may arrive as
text). Instances behave as ORM-loaded ones: saving, related access and deferred fields work.
Only reads use this (ADR 0009); every write goes through the ORM or its app's `sql.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import JSONField, Model
from django.db.models.base import DEFERRED
from psycopg.pq import Format

M = TypeVar("M", bound=Model)
BINARY = Format.BINARY


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
    _all_fields: list[str] = field(init=False)
    _deferred_at: list[int] = field(init=False)

    def __post_init__(self) -> None:
        every = self.model._meta.concrete_fields
        concrete = [f for f in every if f.name not in self.exclude]
        object.__setattr__(self, "fields", [f.attname for f in concrete])
        object.__setattr__(self, "_all_fields", [f.attname for f in every])
        # Where the excluded fields sit among all concrete fields: `from_db` is handed a value for
        # every field (DEFERRED for these, as its documented example builds), its quick path.
        deferred = [i for i, f in enumerate(every) if f.name in self.exclude]
        object.__setattr__(self, "_deferred_at", deferred)
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
        for index in self._deferred_at:
            values.insert(index, DEFERRED)
        return self.model.from_db(DEFAULT_DB_ALIAS, self._all_fields, values)


def _json_loader(json_field: JSONField) -> Callable[[Any], Any]:
    def load(value: Any) -> Any:
        if not isinstance(value, str):  # binary jsonb arrives parsed
            return value
        return json_field.from_db_value(value, cast(Any, None), connection)

    return load


@contextmanager
def _cursor(sql: str, params: Sequence[Any] | dict[str, Any]) -> Iterator[Any]:
    """Run `sql` on Django's cursor (its transaction, error translation and query log).

    With HELPLINE_PREPARE on (settings.PREPARE_HOT_SQL) Django binds server-side and psycopg
    prepares a statement on its fifth run, so these fixed statements skip planning as every
    repeated ORM statement does."""
    with connection.cursor() as cursor:
        if settings.PREPARE_HOT_SQL:
            # Results in binary (server-side binding only): a timestamp loads several times
            # faster than its ISO text is parsed, and a board card has a dozen (~1 ms a board).
            cursor.cursor.format = BINARY
        cursor.execute(sql, params)
        yield cursor


def fetch_one(sql: str, params: Sequence[Any] | dict[str, Any]) -> tuple[Any, ...] | None:
    with _cursor(sql, params) as cursor:
        row = cursor.fetchone()
    return tuple(row) if row is not None else None


def fetch_all(sql: str, params: Sequence[Any] | dict[str, Any]) -> list[tuple[Any, ...]]:
    with _cursor(sql, params) as cursor:
        return [tuple(row) for row in cursor.fetchall()]
