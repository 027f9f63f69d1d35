"""Tenants and keys. Key lookup is the one query that is not tenant-scoped: it finds the tenant."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from journeyline.store.models import ApiKey, Tenant


@dataclass(frozen=True, slots=True)
class KeyOwner:
    tenant_id: uuid.UUID
    kind: str
    tenant_settings: dict[str, Any]


async def add_tenant(session: AsyncSession, tenant_id: uuid.UUID, name: str, now: datetime) -> None:
    session.add(Tenant(id=tenant_id, name=name, settings={}, created_at=now))
    await session.flush()


async def add_key(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    kind: str,
    key_hash: str,
    prefix: str,
    now: datetime,
) -> None:
    session.add(
        ApiKey(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            kind=kind,
            key_hash=key_hash,
            prefix=prefix,
            created_at=now,
        )
    )
    await session.flush()


async def find_key_owner(session: AsyncSession, key_hash: str) -> KeyOwner | None:
    statement = (
        select(ApiKey.tenant_id, ApiKey.kind, Tenant.settings)
        .join(Tenant, Tenant.id == ApiKey.tenant_id)
        .where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
    )
    row = (await session.execute(statement)).first()
    if row is None:
        return None
    return KeyOwner(tenant_id=row[0], kind=row[1], tenant_settings=dict(row[2] or {}))


async def count_tenants(session: AsyncSession) -> int:
    rows = (await session.execute(select(Tenant.id).limit(1))).all()
    return len(rows)


async def get_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant | None:
    return await session.get(Tenant, tenant_id)


async def find_tenant_ids_by_name(session: AsyncSession, name: str) -> list[uuid.UUID]:
    statement = select(Tenant.id).where(Tenant.name == name).limit(2)
    return list((await session.scalars(statement)).all())


async def key_id_of(session: AsyncSession, key_hash: str) -> uuid.UUID | None:
    """The id of the key with this hash (the audit names the key, never the key)."""
    row = (await session.execute(select(ApiKey.id).where(ApiKey.key_hash == key_hash))).first()
    return row[0] if row is not None else None
