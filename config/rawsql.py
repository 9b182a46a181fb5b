"""Hot-path reads in hand-written SQL that still hand back ordinary model instances.

On this hardware Django spends ~0.5 ms compiling a multi-join query, several times what
PostgreSQL needs to answer it. The few statements every move, detail or board read runs are
therefore written once, in SQL, and their rows are turned into model instances by `ModelColumns`:
`Model.from_db` (what the ORM itself calls) plus the field converters the compiler would apply
(JSON arrives as text). Instances behave as ORM-loaded ones: saving, related access and deferred
fields work. Only hot paths use this; everything else stays ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from django.db import connection
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

    def __post_init__(self) -> None:
        concrete = [f for f in self.model._meta.concrete_fields if f.name not in self.exclude]
        object.__setattr__(self, "fields", [f.attname for f in concrete])
        object.__setattr__(self, "columns", [f.column for f in concrete])
        converters = [
            (i, _json_loader(f)) for i, f in enumerate(concrete) if isinstance(f, JSONField)
        ]
        object.__setattr__(self, "_converters", converters)

    @property
    def width(self) -> int:
        return len(self.fields)

    def select(self) -> str:
        """`alias."col", ...` for a SELECT list."""
        return ", ".join(f'{self.alias}."{column}"' for column in self.columns)

    def build(self, row: Sequence[Any], offset: int = 0) -> M | None:
        """The instance from `row[offset:offset + width]`; None when its primary key is NULL
        (the far side of a LEFT JOIN)."""
        values = list(row[offset : offset + self.width])
        pk_index = self.fields.index(self.model._meta.pk.attname)
        if values[pk_index] is None:
            return None
        for index, convert in self._converters:
            if values[index] is not None:
                values[index] = convert(values[index])
        return self.model.from_db(connection.alias, self.fields, values)


def _json_loader(json_field: JSONField) -> Callable[[Any], Any]:
    def load(value: Any) -> Any:
        return json_field.from_db_value(value, cast(Any, None), connection)

    return load


def fetch_one(sql: str, params: Sequence[Any] | dict[str, Any]) -> tuple[Any, ...] | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return tuple(row) if row is not None else None


def fetch_all(sql: str, params: Sequence[Any] | dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]


def execute(sql: str, params: Sequence[Any] | dict[str, Any]) -> int:
    """Run a statement; returns the affected row count."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)
