"""Tenants and keys. Key lookup is the one query that is not tenant-scoped: it finds the tenant."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from journeyline.store.models import ApiKey, Tenant
from journeyline.store.repositories.scoped import table_of


@dataclass(frozen=True, slots=True)
class KeyOwner:
    tenant_id: uuid.UUID
    kind: str
    tenant_settings: dict[str, Any]
    key_id: uuid.UUID


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
    name: str | None = None,
) -> ApiKey:
    key = ApiKey(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        kind=kind,
        name=name,
        key_hash=key_hash,
        prefix=prefix,
        created_at=now,
    )
    session.add(key)
    await session.flush()
    return key


async def find_key_owner(session: AsyncSession, key_hash: str) -> KeyOwner | None:
    statement = (
        select(ApiKey.tenant_id, ApiKey.kind, Tenant.settings, ApiKey.id)
        .join(Tenant, Tenant.id == ApiKey.tenant_id)
        .where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
    )
    row = (await session.execute(statement)).first()
    if row is None:
        return None
    return KeyOwner(
        tenant_id=row[0], kind=row[1], tenant_settings=dict(row[2] or {}), key_id=row[3]
    )


async def count_tenants(session: AsyncSession) -> int:
    rows = (await session.execute(select(Tenant.id).limit(1))).all()
    return len(rows)


async def get_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant | None:
    return await session.get(Tenant, tenant_id)


async def find_tenant_ids_by_name(session: AsyncSession, name: str) -> list[uuid.UUID]:
    statement = select(Tenant.id).where(Tenant.name == name).limit(2)
    return list((await session.scalars(statement)).all())


async def list_tenants(session: AsyncSession) -> list[Tenant]:
    return list((await session.scalars(select(Tenant).order_by(Tenant.created_at))).all())


async def lock_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant | None:
    """The tenant row, locked until the transaction ends on PostgreSQL (SQLite has one writer):
    key revocations and settings updates of one tenant run one at a time."""
    statement = select(Tenant).where(Tenant.id == tenant_id).with_for_update()
    return await session.scalar(statement)


async def set_tenant_settings(
    session: AsyncSession, tenant_id: uuid.UUID, settings: dict[str, Any]
) -> None:
    await session.execute(update(Tenant).where(Tenant.id == tenant_id).values(settings=settings))


async def list_keys(session: AsyncSession, tenant_id: uuid.UUID) -> list[ApiKey]:
    statement = (
        select(ApiKey).where(ApiKey.tenant_id == tenant_id).order_by(ApiKey.created_at, ApiKey.id)
    )
    return list((await session.scalars(statement)).all())


async def get_key(session: AsyncSession, tenant_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
    statement = select(ApiKey).where(ApiKey.tenant_id == tenant_id, ApiKey.id == key_id)
    return await session.scalar(statement)


async def count_live_keys(session: AsyncSession, tenant_id: uuid.UUID, kind: str) -> int:
    statement = select(func.count()).where(
        ApiKey.tenant_id == tenant_id, ApiKey.kind == kind, ApiKey.revoked_at.is_(None)
    )
    return int(await session.scalar(statement) or 0)


async def revoke_key(
    session: AsyncSession, tenant_id: uuid.UUID, key_id: uuid.UUID, now: datetime
) -> None:
    await session.execute(
        update(ApiKey)
        .where(ApiKey.tenant_id == tenant_id, ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def record_key_usage(
    session: AsyncSession, used: list[tuple[uuid.UUID, uuid.UUID, datetime]]
) -> None:
    """`(tenant_id, key_id, used_at)` rows in one executemany; a time never moves backwards
    (another process may have written a later one)."""
    if not used:
        return
    # Core, not ORM: the ORM turns an executemany UPDATE into its bulk-by-primary-key mode.
    keys = table_of(ApiKey)
    statement = (
        update(keys)
        .where(
            keys.c.tenant_id == bindparam("w_tenant"),
            keys.c.id == bindparam("w_key"),
            or_(keys.c.last_used_at.is_(None), keys.c.last_used_at < bindparam("w_at")),
        )
        .values(last_used_at=bindparam("w_at"))
    )
    await session.execute(
        statement, [{"w_tenant": tenant, "w_key": key, "w_at": at} for tenant, key, at in used]
    )


async def key_id_of(session: AsyncSession, key_hash: str) -> uuid.UUID | None:
    """The id of the key with this hash (the audit names the key, never the key)."""
    row = (await session.execute(select(ApiKey.id).where(ApiKey.key_hash == key_hash))).first()
    return row[0] if row is not None else None
