"""The base of every tenant-scoped repository: a session and the one tenant it may touch."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import TypeVar, cast

from sqlalchemy import Table
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
