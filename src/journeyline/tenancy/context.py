"""TenantContext: who is calling and the identity rules that apply to their tenant."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from journeyline.config import Settings
from journeyline.identity.normalize import DEFAULT_BLOCKLIST
from journeyline.identity.resolve import IdentityLimits
from journeyline.statuses import KeyKind
from journeyline.tenancy import settings as tenant_config
from journeyline.tenancy.settings import Budget

# A context built by hand (a job, a test) spends from no budget it could exhaust.
UNLIMITED = Budget(1e9, 1_000_000_000)


@dataclass(frozen=True, slots=True)
class TenantContext:
    tenant_id: uuid.UUID
    key_kind: KeyKind
    phone_region: str
    blocklist: frozenset[str]
    limits: IdentityLimits
    # Incomplete orders idle this long are abandoned (DESIGN §5).
    abandon_after: timedelta = timedelta(hours=1)
    # The key the caller presented (None for a job or an operator): its budgets are kept
    # under its id (DESIGN §8).
    key_id: uuid.UUID | None = None
    request_budget: Budget = UNLIMITED
    batch_budget: Budget = UNLIMITED

    @property
    def is_secret(self) -> bool:
        return self.key_kind == "secret"


def build_context(
    tenant_id: uuid.UUID,
    key_kind: KeyKind,
    tenant_settings: dict[str, Any],
    settings: Settings,
    key_id: uuid.UUID | None = None,
) -> TenantContext:
    """Global defaults overridden by the tenant's own settings (bad values fall back)."""
    identity = settings.identity
    extra = tenant_settings.get("blocklist")
    blocked = (
        DEFAULT_BLOCKLIST | {value.strip().lower() for value in extra if isinstance(value, str)}
        if isinstance(extra, list) and extra
        else DEFAULT_BLOCKLIST
    )
    return TenantContext(
        tenant_id=tenant_id,
        key_kind=key_kind,
        phone_region=tenant_config.phone_region(tenant_settings, settings),
        blocklist=blocked,
        limits=IdentityLimits(
            email=tenant_config.identifier_limit(tenant_settings, "email", identity.max_emails),
            phone=tenant_config.identifier_limit(tenant_settings, "phone", identity.max_phones),
            external_id=tenant_config.identifier_limit(
                tenant_settings, "external_id", identity.max_external_ids
            ),
        ),
        abandon_after=timedelta(
            seconds=tenant_config.abandon_after_seconds(tenant_settings, settings)
        ),
        key_id=key_id,
        request_budget=tenant_config.request_budget(
            tenant_settings, key_kind, settings.rate_limits
        ),
        batch_budget=tenant_config.batch_budget(tenant_settings, settings.rate_limits),
    )
