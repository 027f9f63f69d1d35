"""The base of every tenant-scoped repository: a session and the one tenant it may touch."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import orjson
from sqlalchemy import JSON, Table, bindparam, insert, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from journeyline.store.base import Base

T = TypeVar("T")

# Bound parameters per statement: SQLite allows 32,766, asyncpg 32,767; stay well under.
SLICE = 2000
# Below this many rows new rows are written with INSERT: COPY's setup costs more than it saves.
COPY_FROM = 50


def slices(items: Sequence[T], size: int = SLICE) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def table_of(model: type[Base]) -> Table:
    """A model's Core table. Bulk inserts go through it: the ORM's bulk INSERT splits a list into
    a new statement whenever the set of None-valued keys changes from one row to the next (one
    statement per row or two for a mixed chunk), while Core sends every row in multi-row VALUES."""
    return cast(Table, model.__table__)


class TenantRepository:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def append_rows(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        """Rows known to be new (all with the columns of the first): multi-row INSERTs, or on
        PostgreSQL, from COPY_FROM rows, one binary COPY in the same transaction, which skips
        SQLAlchemy's per-parameter work. A conflict fails the whole statement either way. COPY
        knows nothing of Python-side column defaults, so a table relying on one gets INSERTs."""
        if not rows:
            return
        columns = ["tenant_id", *(name for name in rows[0] if name != "tenant_id")]
        defaulted = any(c.default is not None and c.name not in columns for c in table.c)
        if (
            len(rows) < COPY_FROM
            or defaulted
            or self.session.get_bind().dialect.name != "postgresql"
        ):
            for part in slices(rows, 500):
                await self.session.execute(
                    insert(table), [{**row, "tenant_id": self.tenant_id} for row in part]
                )
            return
        json_columns = {name for name in columns if isinstance(table.c[name].type, JSON | JSONB)}
        records = [
            tuple(
                self.tenant_id
                if name == "tenant_id"
                else _json_text(row[name])
                if name in json_columns
                else aware(row[name])
                if isinstance(row[name], datetime)
                else row[name]
                for name in columns
            )
            for row in rows
        ]
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        try:
            await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
                table.name, records=records, columns=columns
            )
        except Exception as exc:
            # The raw driver's errors bypass SQLAlchemy's wrapping: give them its types, so a
            # unique-key race or a deadlock is retried like one raised by an INSERT.
            sqlstate = getattr(exc, "sqlstate", None)
            if not isinstance(sqlstate, str):
                raise
            wrapper = IntegrityError if sqlstate.startswith("23") else DBAPIError
            raise wrapper(f"COPY {table.name}", None, exc) from exc

    async def save_rows(
        self,
        table: Table,
        key: str,
        new: Sequence[dict[str, Any]],
        changed: Sequence[dict[str, Any]],
    ) -> None:
        """A projection's chunk: one multi-row INSERT for the new rows (per 500), one
        executemany UPDATE by `key` for the changed ones (all with the same columns)."""
        await self.append_rows(table, new)
        if not changed:
            return
        columns = [name for name in changed[0] if name != key]
        statement = (
            update(table)
            .where(table.c.tenant_id == self.tenant_id, table.c[key] == bindparam("w_id"))
            .values({name: bindparam(f"b_{name}") for name in columns})
        )
        await self.session.execute(
            statement,
            [{"w_id": row[key], **{f"b_{name}": row[name] for name in columns}} for row in changed],
        )


def _json_text(value: Any) -> str | None:
    """JSON for a json/jsonb column in a COPY (asyncpg takes the text); None stays SQL NULL."""
    return None if value is None else orjson.dumps(value).decode()


def aware(value: datetime) -> datetime:
    """A naive datetime read as UTC (asyncpg's COPY encodes timestamptz from aware ones only;
    SQLite hands back naive ones)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
