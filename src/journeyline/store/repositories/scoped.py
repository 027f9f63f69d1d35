"""The base of every tenant-scoped repository: a session and the one tenant it may touch."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

# Bound parameters per statement: SQLite allows 32,766, asyncpg 32,767; stay well under.
SLICE = 2000


def slices(items: Sequence[T], size: int = SLICE) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class TenantRepository:
    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id
