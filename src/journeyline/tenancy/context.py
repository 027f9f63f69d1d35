"""TenantContext: who is calling and the identity rules that apply to their tenant."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from journeyline.config import Settings
from journeyline.identity.normalize import DEFAULT_BLOCKLIST
from journeyline.identity.resolve import IdentityLimits
from journeyline.tenancy.keys import KeyKind


@dataclass(frozen=True, slots=True)
class TenantContext:
    tenant_id: uuid.UUID
    key_kind: KeyKind
    phone_region: str
    blocklist: frozenset[str]
    limits: IdentityLimits
    # Incomplete orders idle this long are abandoned (DESIGN §5).
    abandon_after: timedelta = timedelta(hours=1)

    @property
    def is_secret(self) -> bool:
        return self.key_kind == "secret"


def build_context(
    tenant_id: uuid.UUID, key_kind: KeyKind, tenant_settings: dict[str, Any], settings: Settings
) -> TenantContext:
    """Global defaults overridden by the tenant's own settings (bad values fall back)."""
    identity = settings.identity
    limits = tenant_settings.get("identifier_limits")
    limits = limits if isinstance(limits, dict) else {}

    def limit(kind: str, default: int) -> int:
        value = limits.get(kind)
        return (
            value
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0
            else default
        )

    extra = tenant_settings.get("blocked_values")
    blocked = {str(value).strip().lower() for value in extra} if isinstance(extra, list) else set()
    region = tenant_settings.get("phone_region")
    abandon = tenant_settings.get("abandon_after_seconds")
    abandon_seconds = (
        float(abandon)
        if isinstance(abandon, int | float) and not isinstance(abandon, bool) and abandon > 0
        else settings.orders.abandon_after_seconds
    )
    return TenantContext(
        tenant_id=tenant_id,
        key_kind=key_kind,
        phone_region=region
        if isinstance(region, str) and region
        else identity.default_phone_region,
        blocklist=DEFAULT_BLOCKLIST | blocked,
        limits=IdentityLimits(
            email=limit("email", identity.max_emails),
            phone=limit("phone", identity.max_phones),
            external_id=limit("external_id", identity.max_external_ids),
        ),
        abandon_after=timedelta(seconds=abandon_seconds),
    )
