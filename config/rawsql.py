"""Hot-path reads in hand-written SQL that still hand back ordinary model instances.

On this hardware Django spends ~0.5 ms compiling a multi-join query, several times what
PostgreSQL needs to answer it. The few statements every move, detail or board read runs are
therefore written once, in SQL, and their rows are turned into model instances by `ModelColumns`:
the state `Model.from_db` gives (values in the instance's `__dict__`, `_state` not adding) plus the
field converters the compiler would apply (JSON may arrive as text). Instances behave as ORM-loaded ones: saving, related access and deferred
fields work. Only hot paths use this; everything else stays ORM.
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
from django.db.models.base import ModelState

from config.db.base import DatabaseWrapper, Deferred

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
        """`alias."col", ...` for a SELECT list."""
        return ", ".join(f'{self.alias}."{column}"' for column in self.columns)

    def build(self, row: Sequence[Any], offset: int = 0) -> M | None:
        """The instance from `row[offset:offset + width]`; None when its primary key is NULL
        (the far side of a LEFT JOIN).

        What `Model.from_db` gives, without `Model.__init__` (a third of a 250-card board went
        there): the field values go straight into the instance's `__dict__`, which is where
        Django keeps them, so excluded fields stay deferred (loaded on access) exactly as with
        `.only()`. No model here has `pre_init`/`post_init` receivers, the only thing skipped.
        """
        values = list(row[offset : offset + self.width])
        if values[self._pk_index] is None:
            return None
        for index, convert in self._converters:
            if values[index] is not None:
                values[index] = convert(values[index])
        instance = self.model.__new__(self.model)
        instance.__dict__.update(zip(self.fields, values, strict=True))
        state = ModelState()
        state.adding = False
        state.db = DEFAULT_DB_ALIAS  # this module runs on the default connection only
        instance._state = state
        return instance


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
    if _backend().deferred:
        # Queued write-behind statements ride in the same flight as this one (config/db/base.py).
        sent = _backend().send_deferred((sql, params, True))
        assert sent is not None
        try:
            with connection.wrap_database_errors:
                yield sent
        finally:
            sent.close()
        return
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


# --- write-behind ------------------------------------------------------------------------------


@contextmanager
def write_behind() -> Iterator[None]:
    """Inside this block (and a transaction), `later()` queues its statement instead of running it.

    The queue is sent in one round trip with the next statement the connection runs or with the
    COMMIT (config/db/base.py): a move's reads go out together, and its writes (the ticket row,
    audit, board event, webhook outbox) ride with the COMMIT. Errors of queued statements surface
    where the queue is sent, inside the same transaction.
    """
    if not settings.PREPARE_HOT_SQL:
        yield
        return
    backend = _backend()
    previous = backend.write_behind
    backend.write_behind = True
    try:
        yield
    finally:
        backend.write_behind = previous


def _backend() -> DatabaseWrapper:
    """The default connection as what it is: config.db's backend (settings.DATABASES)."""
    return cast(DatabaseWrapper, connection)


class Later:
    """A statement run now or queued by `write_behind`; its rows once the queue has been sent."""

    def __init__(self, item: Deferred) -> None:
        self._item = item

    @property
    def rows(self) -> list[tuple[Any, ...]]:
        """The result rows (sending the queue now if the statement is still in it)."""
        backend = _backend()
        if self._item.rows is None and self._item in backend.deferred:
            backend.validate_no_broken_transaction()
            backend.send_deferred()
        if self._item.rows is None:
            raise RuntimeError("The statement never ran: its transaction was rolled back.")
        return self._item.rows

    def one(self) -> tuple[Any, ...] | None:
        rows = self.rows
        return rows[0] if rows else None


def later(
    sql: str,
    params: Sequence[Any] | dict[str, Any],
    *,
    then: Callable[[list[tuple[Any, ...]]], None] | None = None,
) -> Later:
    """Run `sql` now, or inside `write_behind()` queue it for the connection's next flight.

    `then(rows)` is called once the rows are in (at once, or when the queue is sent).
    """
    item = Deferred(sql, params, prepare=True, then=then)
    backend = _backend()
    if backend.write_behind and backend.in_atomic_block and not backend.closed_in_transaction:
        backend.validate_no_broken_transaction()
        backend.deferred.append(item)
        return Later(item)
    with _cursor(sql, params) as cursor:
        item.receive(cursor)
    item.run_then()
    return Later(item)
