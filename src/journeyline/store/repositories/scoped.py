"""The base of every tenant-scoped repository: a session and the one tenant it may touch."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from journeyline.store.base import Base

T = TypeVar("T")

# Bound parameters per statement: SQLite allows 32,766, asyncpg 32,767; stay well under.
SLICE = 2000


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

    async def save_rows(
        self,
        table: Table,
        key: str,
        new: Sequence[dict[str, Any]],
        changed: Sequence[dict[str, Any]],
    ) -> None:
        """A projection's chunk: one multi-row INSERT for the new rows (per 500), one
        executemany UPDATE by `key` for the changed ones (all with the same columns)."""
        for part in slices(new, 500):
            await self.session.execute(
                insert(table), [{**row, "tenant_id": self.tenant_id} for row in part]
            )
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
