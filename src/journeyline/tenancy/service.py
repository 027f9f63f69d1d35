"""Creating tenants and keys, and authenticating a key to its tenant."""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from journeyline.config import Settings
from journeyline.errors import KeyNotFound, LastSecretKey
from journeyline.statuses import KeyKind
from journeyline.store.db import Database, Session
from journeyline.store.models import ApiKey, Tenant
from journeyline.store.repositories import tenants as tenant_repo
from journeyline.store.repositories.tenants import KeyOwner
from journeyline.tenancy import settings as tenant_config
from journeyline.tenancy.cache import KeyCache
from journeyline.tenancy.context import TenantContext, build_context
from journeyline.tenancy.keys import display_prefix, generate_key, hash_key, kind_of
from journeyline.tenancy.usage import KeyUsage


@dataclass(frozen=True, slots=True)
class CreatedTenant:
    tenant_id: uuid.UUID
    name: str
    public_key: str
    secret_key: str


@dataclass(frozen=True, slots=True)
class NewKey:
    id: uuid.UUID
    kind: KeyKind
    name: str | None
    prefix: str
    # The key itself: shown once, stored only hashed.
    key: str


@dataclass(frozen=True, slots=True)
class Revocation:
    key_id: uuid.UUID
    kind: KeyKind
    key_hash: str
    # The public key issued in place of a revoked one (None for a secret key, or a key that
    # was already revoked).
    replacement: NewKey | None


async def issue_key(
    session: Session, tenant_id: uuid.UUID, kind: KeyKind, name: str | None = None
) -> NewKey:
    key = generate_key(kind)
    row = await tenant_repo.add_key(
        session,
        tenant_id,
        kind=kind,
        name=name,
        key_hash=hash_key(key),
        prefix=display_prefix(key),
        now=datetime.now(UTC),
    )
    return NewKey(row.id, kind, name, row.prefix, key)


async def create_key(session: Session, tenant_id: uuid.UUID, kind: KeyKind) -> str:
    return (await issue_key(session, tenant_id, kind)).key


async def list_keys(session: Session, tenant_id: uuid.UUID) -> list[ApiKey]:
    """Every key the tenant has had, revoked ones included, oldest first."""
    return await tenant_repo.list_keys(session, tenant_id)


async def revoke_key(session: Session, tenant_id: uuid.UUID, key_id: uuid.UUID) -> Revocation:
    """Revoke one of the tenant's keys. The last live secret key cannot be (409); a public key
    is replaced by a new one at once. Revoking a revoked key changes nothing. The tenant row is
    locked first, so two revocations cannot together take the last two secret keys."""
    tenant = await tenant_repo.lock_tenant(session, tenant_id)
    key = await tenant_repo.get_key(session, tenant_id, key_id) if tenant is not None else None
    if key is None:
        raise KeyNotFound("the tenant has no key with this id")
    kind: KeyKind = "secret" if key.kind == "secret" else "public"
    if key.revoked_at is not None:
        return Revocation(key.id, kind, key.key_hash, None)
    if kind == "secret" and await tenant_repo.count_live_keys(session, tenant_id, "secret") <= 1:
        raise LastSecretKey(
            "this is the tenant's last live secret key: create another before revoking it"
        )
    await tenant_repo.revoke_key(session, tenant_id, key_id, datetime.now(UTC))
    replacement = await issue_key(session, tenant_id, "public") if kind == "public" else None
    return Revocation(key.id, kind, key.key_hash, replacement)


async def revoke_key_now(
    database: Database,
    cache: KeyCache,
    usage: KeyUsage,
    tenant_id: uuid.UUID,
    key_id: uuid.UUID,
) -> Revocation:
    """`revoke_key` in a unit of work of its own, then forgotten by this process at once: its
    key cache refuses the key from now on (other processes' within their cache's TTL) and its
    pending last-used time is dropped. The API's DELETE /v1/keys/{id} and the dashboard's
    Settings page both revoke through here."""
    revoked = await database.run(lambda session: revoke_key(session, tenant_id, key_id))
    cache.evict(revoked.key_hash)
    usage.forget(revoked.key_id)
    return revoked


async def list_keys_used(
    session: Session, database: Database, usage: KeyUsage, tenant_id: uuid.UUID
) -> list[ApiKey]:
    """`list_keys` after this process's noted uses are written, so a caller sees its own use
    in `last_used_at`. `session` must not have begun yet (a read session begins at its first
    statement, so it reads after the flush's commit)."""
    await usage.flush(database)
    return await list_keys(session, tenant_id)


async def list_tenants(session: Session) -> list[Tenant]:
    return await tenant_repo.list_tenants(session)


async def stored_settings(session: Session, tenant_id: uuid.UUID) -> dict[str, Any]:
    tenant = await tenant_repo.get_tenant(session, tenant_id)
    return dict(tenant.settings or {}) if tenant is not None else {}


async def update_settings(
    session: Session, tenant_id: uuid.UUID, patch: tenant_config.SettingsPatch
) -> dict[str, Any]:
    """The tenant's stored settings after `patch` (validated as a whole: 422 naming the field)."""
    tenant = await tenant_repo.lock_tenant(session, tenant_id)
    stored = dict(tenant.settings or {}) if tenant is not None else {}
    updated = tenant_config.apply_patch(stored, patch)
    await tenant_repo.set_tenant_settings(session, tenant_id, updated)
    return updated


async def create_tenant(session: Session, name: str) -> CreatedTenant:
    """A tenant with one public and one secret key (both shown once, here)."""
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
