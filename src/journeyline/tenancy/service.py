"""Creating tenants and keys, and authenticating a key to its tenant."""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from journeyline.config import Settings
from journeyline.store.db import Session
from journeyline.store.repositories import tenants as tenant_repo
from journeyline.store.repositories.tenants import KeyOwner
from journeyline.tenancy.cache import KeyCache
from journeyline.tenancy.context import TenantContext, build_context
from journeyline.tenancy.keys import KeyKind, display_prefix, generate_key, hash_key, kind_of


@dataclass(frozen=True, slots=True)
class CreatedTenant:
    tenant_id: uuid.UUID
    name: str
    public_key: str
    secret_key: str


async def create_key(session: Session, tenant_id: uuid.UUID, kind: KeyKind) -> str:
    key = generate_key(kind)
    await tenant_repo.add_key(
        session,
        tenant_id,
        kind=kind,
        key_hash=hash_key(key),
        prefix=display_prefix(key),
        now=datetime.now(UTC),
    )
    return key


async def create_tenant(session: Session, name: str) -> CreatedTenant:
    tenant_id = uuid.uuid4()
    await tenant_repo.add_tenant(session, tenant_id, name, datetime.now(UTC))
    public_key = await create_key(session, tenant_id, "public")
    secret_key = await create_key(session, tenant_id, "secret")
    return CreatedTenant(tenant_id, name, public_key, secret_key)


async def has_tenants(session: Session) -> bool:
    return await tenant_repo.count_tenants(session) > 0


def cached_key_owner(key: str, cache: KeyCache) -> KeyOwner | None:
    """The owner of `key` if the cache knows it (no database round trip on the hot path)."""
    claimed = kind_of(key)
    owner = cache.get(hash_key(key)) if claimed is not None else None
    if owner is None or not hmac.compare_digest(owner.kind, claimed or ""):
        return None
    return owner


async def authenticate_key(
    session: Session, key: str, cache: KeyCache | None = None
) -> KeyOwner | None:
    """The tenant and kind of `key`, or None. The stored kind must match the key's prefix."""
    claimed = kind_of(key)
    if claimed is None:
        return None
    key_hash = hash_key(key)
    owner = cache.get(key_hash) if cache is not None else None
    if owner is None:
        owner = await tenant_repo.find_key_owner(session, key_hash)
        if owner is not None and cache is not None:
            cache.put(key_hash, owner)
    if owner is None or not hmac.compare_digest(owner.kind, claimed):
        return None
    return owner


async def owner_of_key_hash(
    session: Session, key_hash: str, cache: KeyCache | None = None
) -> KeyOwner | None:
    """The owner of the key with this hash (a dashboard session names its key so), or None."""
    owner = cache.get(key_hash) if cache is not None else None
    if owner is None:
        owner = await tenant_repo.find_key_owner(session, key_hash)
        if owner is not None and cache is not None:
            cache.put(key_hash, owner)
    return owner


async def context_for_tenant(
    session: Session, tenant_id: uuid.UUID, key_kind: KeyKind, settings: Settings
) -> TenantContext | None:
    """The context a job runs under: the tenant's settings as they are now."""
    tenant = await tenant_repo.get_tenant(session, tenant_id)
    if tenant is None:
        return None
    return build_context(tenant_id, key_kind, dict(tenant.settings or {}), settings)


async def context_for_reference(
    session: Session, reference: str, settings: Settings
) -> TenantContext | None:
    """An operator's context (secret) for a tenant named by id or by a name only it has."""
    try:
        tenant_id: uuid.UUID | None = uuid.UUID(reference)
    except ValueError:
        matches = await tenant_repo.find_tenant_ids_by_name(session, reference)
        tenant_id = matches[0] if len(matches) == 1 else None
    if tenant_id is None:
        return None
    return await context_for_tenant(session, tenant_id, "secret", settings)
