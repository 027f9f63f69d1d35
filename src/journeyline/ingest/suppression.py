"""The ingest check against tombstones: an event that carries an erased identifier is dropped
(counted, answered as `suppressed`), never used to recreate the person (DESIGN §2)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from journeyline.identity.tombstones import new_secret, tombstone_hash
from journeyline.store.db import Session
from journeyline.store.repositories.erasures import ErasureRepository

# A tenant's secret never changes once made, so a process keeps it once it has seen it; a
# tenant without one yet (no erasure ever) is asked again each chunk, by primary key.
_SECRETS: dict[uuid.UUID, str] = {}


async def tenant_secret(session: Session, tenant_id: uuid.UUID) -> str | None:
    cached = _SECRETS.get(tenant_id)
    if cached is not None:
        return cached
    secret = await ErasureRepository(session, tenant_id).secret()
    if secret is not None:
        _SECRETS[tenant_id] = secret
    return secret


async def ensure_secret(session: Session, tenant_id: uuid.UUID, now: datetime) -> str:
    secret = await tenant_secret(session, tenant_id)
    if secret is None:
        secret = await ErasureRepository(session, tenant_id).create_secret(new_secret(), now)
    return secret


async def tombstoned(
    session: Session, tenant_id: uuid.UUID, keys_of: Mapping[int, Sequence[tuple[str, str]]]
) -> set[int]:
    """Which items (by index) carry a tombstoned identifier: one lookup for all of them."""
    if not any(keys_of.values()):
        return set()
    secret = await tenant_secret(session, tenant_id)
    if secret is None:
        return set()
    hashes = {
        index: {tombstone_hash(secret, kind, value) for kind, value in keys}
        for index, keys in keys_of.items()
    }
    found = await ErasureRepository(session, tenant_id).tombstoned(set().union(*hashes.values()))
    return {index for index, mine in hashes.items() if mine & found}
