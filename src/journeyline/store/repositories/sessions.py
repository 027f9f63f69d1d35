"""Dashboard sign-ins: found by the hash of their id (not tenant-scoped: this is how a
session's tenant is found), deleted at sign-out, purged once expired."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from journeyline.store.models import DashboardSession


async def add_session(
    session: AsyncSession, id_hash: str, tenant_id: uuid.UUID, key_hash: str, now: datetime
) -> None:
    session.add(
        DashboardSession(id_hash=id_hash, tenant_id=tenant_id, key_hash=key_hash, created_at=now)
    )
    await session.flush()


async def key_hash_of(session: AsyncSession, id_hash: str) -> str | None:
    return await session.scalar(
        select(DashboardSession.key_hash).where(DashboardSession.id_hash == id_hash)
    )


async def delete_session(session: AsyncSession, id_hash: str) -> None:
    await session.execute(delete(DashboardSession).where(DashboardSession.id_hash == id_hash))


async def delete_sessions_before(session: AsyncSession, cutoff: datetime) -> None:
    await session.execute(delete(DashboardSession).where(DashboardSession.created_at < cutoff))
