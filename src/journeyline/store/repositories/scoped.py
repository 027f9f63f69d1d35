"""The base of every tenant-scoped repository: a session and the one tenant it may touch."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar, cast

from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    Table,
    any_,
    bindparam,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from journeyline.store.base import Base, UtcDateTime
from journeyline.store.db import driver_executed, json_text

T = TypeVar("T")

# Bound parameters per statement: SQLite allows 32,766, asyncpg 32,767; stay well under.
SLICE = 2000
# Below this many rows new rows are written with INSERT: COPY's setup costs more than it saves.
COPY_FROM = 50


def slices(items: Sequence[T], size: int = SLICE) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# The escape character of every LIKE pattern `containing` builds.
LIKE_ESCAPE = "\\"


def containing(fragment: str) -> str:
    """A LIKE pattern matching `fragment` anywhere, literally: its `%`, `_` and escape
    characters are escaped (use with `escape=LIKE_ESCAPE`)."""
    escaped = (
        fragment.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


def table_of(model: type[Base]) -> Table:
    """A model's Core table. Bulk inserts go through it: the ORM's bulk INSERT splits a list into
    a new statement whenever the set of None-valued keys changes from one row to the next (one
    statement per row or two for a mixed chunk), while Core sends every row in multi-row VALUES."""
    return cast(Table, model.__table__)


class TenantRepository:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    @property
    def on_postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def among(
        self, column: ColumnElement[Any] | QueryableAttribute[Any], values: Collection[Any]
    ) -> ColumnElement[bool]:
        """`column IN (values)`. On PostgreSQL `column = ANY(:array)`: one parameter and one SQL
        text whatever the number of values, where an IN list renders a parameter per value
        (SQLAlchemy's per-parameter work) and each length is a statement asyncpg prepares anew."""
        expression = column.expression if isinstance(column, QueryableAttribute) else column
        if self.on_postgres:
            array = bindparam(None, list(values), type_=ARRAY(expression.type))
            return expression == any_(array)
        return expression.in_(values)

    async def lookup(
        self,
        table: Table,
        keys: Sequence[str],
        wanted: Collection[Any],
        columns: Sequence[str],
    ) -> list[Sequence[Any]]:
        """The tenant's rows of `table` whose `keys` equal one of `wanted` (scalars for one key,
        tuples for several), as tuples of `columns`, in no order.

        On PostgreSQL one statement per SLICE: `unnest` of one array per key, and per element a
        LATERAL probe of the index on (tenant_id, keys…), fenced by OFFSET 0. With a plain
        `IN`/`ANY` the planner may apply the list as a filter over every row of the tenant when
        statistics are stale (a fresh table under a bulk load, before autovacuum's first
        ANALYZE), which makes a backfill quadratic; this leaves it no such choice, and its text
        and its parameters are the same whatever the number of keys (one prepared statement).
        It goes to the driver directly: no SQLAlchemy work per row."""
        if not wanted:
            return []
        items = list(wanted)
        if not self.on_postgres:
            found: list[Sequence[Any]] = []
            key_columns = [table.c[key] for key in keys]
            target = key_columns[0] if len(keys) == 1 else tuple_(*key_columns)
            for part in slices(items, SLICE // len(keys)):
                rows = await self.session.execute(
                    select(*(table.c[name] for name in columns)).where(
                        table.c.tenant_id == self.tenant_id, target.in_(part)
                    )
                )
                found.extend(rows.all())
            return found
        sql = _lookup_sql(table, tuple(keys), tuple(columns))
        arrays_of: Callable[[Sequence[Any]], list[list[Any]]] = (
            (lambda part: [list(part)])
            if len(keys) == 1
            else (lambda part: [list(column) for column in zip(*part, strict=True)])
        )
        found = []
        for part in slices(items):
            found.extend(await self._driver_fetch(sql, self.tenant_id, *arrays_of(part)))
        return found

    async def append_rows(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """Rows known to be new (all with the columns of the first): multi-row INSERTs, or on
        PostgreSQL, from COPY_FROM rows, one binary COPY in the same transaction, which skips
        SQLAlchemy's per-parameter work. A conflict fails the whole statement either way. COPY
        knows nothing of Python-side column defaults, so a table relying on one gets INSERTs."""
        if not rows:
            return
        columns = ["tenant_id", *(name for name in rows[0] if name != "tenant_id")]
        defaulted = any(c.default is not None and c.name not in columns for c in table.c)
        if defaulted or not self.on_postgres:
            for part in slices(rows, 500):
                await self.session.execute(
                    insert(table), [{**row, "tenant_id": self.tenant_id} for row in part]
                )
            return
        names = columns[1:]
        if len(rows) < COPY_FROM:
            await self.insert_unnest(table, rows)
            return
        records = _records(table, names, rows, lead=(self.tenant_id,))
        raw = await self._driver()
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        status = await _driver_call(
            statement, raw.copy_records_to_table(table.name, records=records, columns=columns)
        )
        driver_executed(self.session.get_bind(), statement, _status_rows(status))

    async def insert_unnest(
        self, table: Table, rows: Sequence[dict[str, Any]], *, on_conflict: str = ""
    ) -> None:
        """PostgreSQL: `INSERT … SELECT FROM unnest(…)`, one array parameter per column (all
        rows with the columns of the first), then `on_conflict` as given. Its text is the same
        for any number of rows: one prepared statement, no SQLAlchemy work per value."""
        if not rows:
            return
        names = tuple(name for name in rows[0] if name != "tenant_id")
        sql = _insert_sql(table, names) + (f" {on_conflict}" if on_conflict else "")
        raw = await self._driver()
        for part in slices(rows, 5000):
            records = _records(table, names, part)
            arrays = [list(column) for column in zip(*records, strict=True)]
            status = await _driver_call(sql, raw.execute(sql, self.tenant_id, *arrays))
            driver_executed(self.session.get_bind(), sql, _status_rows(status))

    async def update_rows(
        self, table: Table, keys: Sequence[str], rows: Sequence[dict[str, Any]]
    ) -> None:
        """Existing rows (all with the columns of the first) set by `keys` within the tenant.
        PostgreSQL: one `UPDATE … FROM unnest(…)` per slice, one array parameter per column, so
        its cost is the rows' values, not SQLAlchemy's work per parameter. SQLite: one
        executemany."""
        if not rows:
            return
        names = [name for name in rows[0] if name != "tenant_id"]
        setting = [name for name in names if name not in keys]
        if not self.on_postgres:
            statement = (
                update(table)
                .where(
                    table.c.tenant_id == self.tenant_id,
                    *(table.c[key] == bindparam(f"w_{key}") for key in keys),
                )
                .values({name: bindparam(f"b_{name}") for name in setting})
            )
            await self.session.execute(
                statement,
                [
                    {
                        **{f"w_{key}": row[key] for key in keys},
                        **{f"b_{name}": row[name] for name in setting},
                    }
                    for row in rows
                ],
            )
            return
        types = [_array_type(table, name) for name in names]
        sql = (
            f"UPDATE {table.name} AS t SET "
            + ", ".join(f'"{name}" = v."{name}"{_cast_back(table, name)}' for name in setting)
            + " FROM unnest("
            + ", ".join(f"${i + 2}::{kind}[]" for i, kind in enumerate(types))
            + ") AS v("
            + ", ".join(f'"{name}"' for name in names)
            + ") WHERE t.tenant_id = $1 AND "
            + " AND ".join(f't."{key}" = v."{key}"' for key in keys)
        )
        raw = await self._driver()
        for part in slices(rows, 5000):
            records = _records(table, names, part)
            arrays = [list(column) for column in zip(*records, strict=True)]
            status = await _driver_call(sql, raw.execute(sql, self.tenant_id, *arrays))
            driver_executed(self.session.get_bind(), sql, _status_rows(status))

    async def _driver_fetch(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        raw = await self._driver()
        rows: list[Sequence[Any]] = await _driver_call(sql, raw.fetch(sql, *args))
        driver_executed(self.session.get_bind(), sql, len(rows))
        return rows

    async def _driver(self) -> Any:
        """The asyncpg connection under the session's transaction. SQLAlchemy's adapter opens
        the transaction (BEGIN) lazily, at its own first statement; a statement sent to the
        driver before that would run outside it, committed at once whatever the unit of work
        does next. So the transaction is begun here if it is not yet."""
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        adapted: Any = raw.dbapi_connection
        if getattr(adapted, "_transaction", True) is None:
            await adapted._start_transaction()
        return raw.driver_connection

    async def save_rows(
        self,
        table: Table,
        key: str,
        new: Sequence[dict[str, Any]],
        changed: Sequence[dict[str, Any]],
    ) -> None:
        """A projection's chunk: the new rows appended, the changed ones updated by `key`."""
        await self.append_rows(table, new)
        await self.update_rows(table, (key,), changed)


async def _driver_call(what: str, call: Awaitable[T]) -> T:
    """Await a raw asyncpg call; its errors bypass SQLAlchemy's wrapping, so they get its types
    here, as the session would have given them: a unique-key race or a deadlock is retried, a
    value the driver refuses is a DBAPIError the batch lane isolates, an outage stays one
    (store/outages.py reads the SQLSTATE or the driver's error through `orig`)."""
    try:
        return await call
    except Exception as exc:
        sqlstate = getattr(exc, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith("23"):
            raise IntegrityError(what, None, exc) from exc
        if isinstance(sqlstate, str) or type(exc).__module__.startswith("asyncpg"):
            raise DBAPIError(what, None, exc) from exc
        raise


@lru_cache(maxsize=256)
def _insert_sql(table: Table, names: tuple[str, ...]) -> str:
    return (
        f"INSERT INTO {table.name} (tenant_id, "
        + ", ".join(f'"{name}"' for name in names)
        + ") SELECT $1, "
        + ", ".join(f'v."{name}"{_cast_back(table, name)}' for name in names)
        + " FROM unnest("
        + ", ".join(f"${i + 2}::{_array_type(table, name)}[]" for i, name in enumerate(names))
        + ") AS v("
        + ", ".join(f'"{name}"' for name in names)
        + ")"
    )


@lru_cache(maxsize=256)
def _lookup_sql(table: Table, keys: tuple[str, ...], columns: tuple[str, ...]) -> str:
    listed = ", ".join(f'"{name}"' for name in columns)
    return (
        "SELECT "
        + ", ".join(f'found."{name}"' for name in columns)
        + " FROM unnest("
        + ", ".join(f"${i + 2}::{_array_type(table, key)}[]" for i, key in enumerate(keys))
        + ") AS w("
        + ", ".join(f'"{key}"' for key in keys)
        + f") CROSS JOIN LATERAL (SELECT {listed} FROM {table.name} AS t WHERE t.tenant_id = $1 AND "
        + " AND ".join(f't."{key}" = w."{key}"' for key in keys)
        + " OFFSET 0) AS found"
    )


def _status_rows(status: object) -> int:
    """The row count of a command status ("UPDATE 3", "COPY 1000")."""
    last = str(status).rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


def _is_json(table: Table, name: str) -> bool:
    return isinstance(table.c[name].type, JSON | JSONB) or isinstance(
        getattr(table.c[name].type, "impl", None), JSON | JSONB
    )


_POSTGRESQL = postgresql.dialect()  # type: ignore[no-untyped-call]


def _array_type(table: Table, name: str) -> str:
    """The element type of a column's array parameter (JSON travels as text: see _cast_back)."""
    if _is_json(table, name):
        return "text"
    return str(table.c[name].type.compile(dialect=_POSTGRESQL))


def _cast_back(table: Table, name: str) -> str:
    return "::jsonb" if _is_json(table, name) else ""


def _records(
    table: Table, names: Sequence[str], rows: Sequence[dict[str, Any]], lead: tuple[Any, ...] = ()
) -> list[tuple[Any, ...]]:
    """Rows as the driver's tuples: JSON as its text, naive datetimes read as UTC. The
    converters are chosen once per column, not per value."""
    converters: list[tuple[int, Callable[[Any], Any]]] = []
    for index, name in enumerate(names):
        if _is_json(table, name):
            converters.append((index, _json_or_null))
        elif isinstance(table.c[name].type, DateTime | UtcDateTime):
            converters.append((index, _aware_or_null))
    if not converters:
        return [(*lead, *[row[name] for name in names]) for row in rows]
    records: list[tuple[Any, ...]] = []
    for row in rows:
        values = [row[name] for name in names]
        for index, convert in converters:
            values[index] = convert(values[index])
        records.append((*lead, *values))
    return records


def _json_or_null(value: Any) -> str | None:
    """JSON for a json/jsonb column (asyncpg takes the text); None stays SQL NULL."""
    return None if value is None else json_text(value)


def _aware_or_null(value: datetime | None) -> datetime | None:
    return None if value is None else aware(value)


def aware(value: datetime) -> datetime:
    """A naive datetime read as UTC (asyncpg's COPY encodes timestamptz from aware ones only;
    SQLite hands back naive ones)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
