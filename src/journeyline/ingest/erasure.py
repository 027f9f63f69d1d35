"""GDPR erasure (DESIGN §2): a person and every profile merged into it, from a profile id or
any identifier. The log's rows stay (counts and order survive) with their personal content
redacted in place; identities, attributes, lineage, the merge journal, conflicts, the CRM person
and stage rows go; orders and deals stay without their person; and every identifier the family
held is kept as a keyed-hash tombstone the pipeline checks (ingest/suppression.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from journeyline.errors import InvalidPayload
from journeyline.identity import reads
from journeyline.identity import service as identity_service
from journeyline.identity.normalize import Identifier, IdentifierKind, normalize_identifier
from journeyline.identity.tombstones import tombstone_hash
from journeyline.ids import uuid7
from journeyline.ingest.suppression import ensure_secret
from journeyline.realtime.messages import message
from journeyline.store.db import Session, leave_for_commit
from journeyline.store.repositories.erasures import ErasureRepository
from journeyline.store.repositories.profiles import ProfileRepository
from journeyline.tenancy.context import TenantContext

ERASABLE_KINDS: tuple[IdentifierKind, ...] = ("email", "phone", "external_id", "anonymous_id")

# What a redacted payload keeps: the commerce facts the order and deal projections read (no
# person in them), so the tenant's orders, revenue and a `rebuild` still add up. Everything
# else in the payload, the raw payload, traits and identifiers go.
_KEPT_KEYS = frozenset(
    {
        "order_id",
        "order_number",
        "order_name",
        "total",
        "amount",
        "revenue",
        "value",
        "cart_value",
        "currency",
        "plan_id",
        "plan_name",
        "subscription_id",
        "product_id",
        "product_name",
        "sku",
        "price",
        "quantity",
        "category",
    }
)
_PRODUCT_KEYS = frozenset(
    {"product_id", "sku", "name", "product_name", "price", "quantity", "category"}
)

# A redacted event presents no identifier: `rebuild` replays it as a profile-less event.
REDACTED_IDENTIFIERS: dict[str, Any] = {"erased": True, "allow_no_identity": True}


def redacted_payload(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        return {}
    kept: dict[str, Any] = {
        key: value
        for key, value in payload.items()
        if key in _KEPT_KEYS and (value is None or isinstance(value, str | int | float))
    }
    products = payload.get("products")
    if isinstance(products, list):
        kept["products"] = [
            {key: value for key, value in item.items() if key in _PRODUCT_KEYS}
            for item in products
            if isinstance(item, dict)
        ]
    kept["erased"] = True
    return kept


def normalized(context: TenantContext, kind: IdentifierKind, raw: object) -> str:
    outcome = normalize_identifier(kind, raw, region=context.phone_region, blocklist=frozenset())
    if not isinstance(outcome, Identifier):
        raise InvalidPayload(f"{kind} is not a valid {kind}", field=kind)
    return outcome.value


async def erase_profile(
    session: Session,
    tenant_id: uuid.UUID,
    profile_id: uuid.UUID,
    *,
    key_id: uuid.UUID | None,
    now: datetime,
) -> list[uuid.UUID]:
    """Erase the person `profile_id` belongs to (404 when there is none)."""
    family = await reads.family_of(session, tenant_id, profile_id)
    return await _erase(session, tenant_id, family, [], "profile", key_id, now)


async def erase_identifier(
    session: Session,
    context: TenantContext,
    kind: IdentifierKind,
    value: str,
    *,
    key_id: uuid.UUID | None,
    now: datetime,
) -> list[uuid.UUID]:
    """Erase whoever holds the (normalized) identifier; its tombstone is written either way."""
    owner = await ProfileRepository(session, context.tenant_id).find_owner(kind, value)
    family = await reads.family_of(session, context.tenant_id, owner) if owner else []
    return await _erase(session, context.tenant_id, family, [(kind, value)], kind, key_id, now)


async def _erase(
    session: Session,
    tenant_id: uuid.UUID,
    family: Sequence[uuid.UUID],
    given: Sequence[tuple[str, str]],
    requested_by: str,
    key_id: uuid.UUID | None,
    now: datetime,
) -> list[uuid.UUID]:
    repo = ErasureRepository(session, tenant_id)
    secret = await ensure_secret(session, tenant_id, now)
    # The ingest's locks on these identifiers (DESIGN §3): a chunk that carries one waits for
    # this erasure, then finds its tombstones. Read again under the locks: an identifier added
    # to the family meanwhile is erased and tombstoned with the rest.
    held = set(await repo.identities_of(family)) if family else set()
    await identity_service.lock_identifiers(session, tenant_id, sorted(held | set(given)))
    held = set(await repo.identities_of(family)) if family else set()
    identifiers = held | set(given)
    events = await repo.events_of(family) if family else []
    await repo.redact_events(
        [
            {
                "id": event_id,
                "profile_id": None,
                "payload": redacted_payload(payload),
                "raw_payload": None,
                "traits": None,
                "identifiers": REDACTED_IDENTIFIERS,
                "anonymous_id": None,
                "session_id": None,
            }
            for event_id, payload, _, _ in events
        ]
    )
    shared = {("Channel", channel) for _, _, channel, _ in events if channel is not None}
    shared |= {("Campaign", campaign) for _, _, _, campaign in events if campaign is not None}
    await repo.forget_touchpoints([event[0] for event in events], shared)
    counts = await repo.erase_profiles(family, held) if family else {}
    counts["events"] = len(events)
    counts["deliveries"] = await repo.redact_deliveries([event[0] for event in events])
    counts["tombstones"] = await repo.add_tombstones(
        [
            {
                "id": uuid7(),
                "kind": kind,
                "value_hash": tombstone_hash(secret, kind, value),
                "created_at": now,
            }
            for kind, value in sorted(identifiers)
        ]
    )
    await repo.add_record(
        {
            "id": uuid7(),
            "requested_by": requested_by,
            "key_id": key_id,
            "profile_ids": [str(profile_id) for profile_id in family],
            "counts": counts,
            "created_at": now,
        }
    )
    if family:
        leave_for_commit(
            session,
            [
                message(tenant_id, "profile.erased", {"profile_id": str(profile_id)})
                for profile_id in family
            ],
        )
    return list(family)
