"""A tenant's own settings (pure): the stored overrides, a validated patch of them, and the
effective values once the process defaults fill the rest (decision 46)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, field_validator

from journeyline.config import RateLimitSettings, Settings
from journeyline.errors import InvalidPayload
from journeyline.identity.normalize import DEFAULT_BLOCKLIST
from journeyline.statuses import KeyKind

MAX_BLOCKED_VALUES = 1000
# A budget's window (burst / rate) is at most a day: beyond that it is not a rate any more.
MAX_WINDOW_SECONDS = 24 * 3600


class IdentifierLimitsPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    email: int | None = Field(default=None, ge=0, le=1000)
    phone: int | None = Field(default=None, ge=0, le=1000)
    external_id: int | None = Field(default=None, ge=0, le=1000)


class RateLimitPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    requests_per_second: float | None = Field(default=None, gt=0, le=1_000_000)
    burst: int | None = Field(default=None, ge=1, le=10_000_000)
    batch_events_per_second: float | None = Field(default=None, gt=0, le=10_000_000)
    batch_burst: int | None = Field(default=None, ge=1, le=100_000_000)


class SettingsPatch(BaseModel):
    """PATCH /v1/settings: any subset; `null` removes the tenant's own value (the default
    applies again), as in a JSON merge patch (RFC 7396)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    phone_region: str | None = Field(default=None, min_length=2, max_length=3)
    identifier_limits: IdentifierLimitsPatch | None = None
    blocklist: list[str] | None = Field(default=None, max_length=MAX_BLOCKED_VALUES)
    abandon_after_seconds: float | None = Field(default=None, gt=0, le=365 * 24 * 3600)
    rate_limit: RateLimitPatch | None = None

    @field_validator("phone_region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        if value is None:
            return None
        region = value.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a region phonenumbers knows (ISO 3166 alpha-2)")
        return region

    @field_validator("blocklist")
    @classmethod
    def _blocked_values(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        if any(len(value) > 500 for value in values):
            raise ValueError("a blocked value holds at most 500 characters")
        return sorted({value.strip().lower() for value in values})


@dataclass(frozen=True, slots=True)
class Budget:
    """A token bucket's shape: `per_second` refill, at most `burst` at once."""

    per_second: float
    burst: int

    @property
    def window_seconds(self) -> int:
        """The moving window that stands for the bucket (decision 47): `burst` per
        `burst / per_second` seconds, whole seconds, at least one."""
        return max(1, math.ceil(self.burst / self.per_second))


def _merge(stored: dict[str, Any], patch: BaseModel) -> dict[str, Any]:
    merged = dict(stored)
    for name in patch.model_fields_set:
        value = getattr(patch, name)
        if value is None:
            merged.pop(name, None)
        elif isinstance(value, BaseModel):
            inner = merged.get(name)
            merged[name] = _merge(inner if isinstance(inner, dict) else {}, value)
            if not merged[name]:
                merged.pop(name)
        else:
            merged[name] = value
    return merged


def _check_budget(rate: object, burst: object, *, rate_field: str, burst_field: str) -> None:
    if burst is not None and rate is None:
        raise InvalidPayload(
            f"{burst_field} needs {rate_field} (a burst alone is not a budget)", field=rate_field
        )
    if rate is None or burst is None:
        return
    assert isinstance(rate, int | float)
    assert isinstance(burst, int)
    if burst < rate:
        raise InvalidPayload(f"{burst_field} must be at least {rate_field}", field=burst_field)
    if burst / rate > MAX_WINDOW_SECONDS:
        raise InvalidPayload(
            f"{rate_field} is too low for {burst_field}: a burst must refill within a day",
            field=rate_field,
        )


def apply_patch(stored: dict[str, Any], patch: SettingsPatch) -> dict[str, Any]:
    """The tenant's stored overrides after `patch`, checked as a whole (a burst and its rate
    are checked together, whichever of the two the patch names)."""
    merged = _merge(stored, patch)
    rate_limit = merged.get("rate_limit") or {}
    _check_budget(
        rate_limit.get("requests_per_second"),
        rate_limit.get("burst"),
        rate_field="rate_limit.requests_per_second",
        burst_field="rate_limit.burst",
    )
    _check_budget(
        rate_limit.get("batch_events_per_second"),
        rate_limit.get("batch_burst"),
        rate_field="rate_limit.batch_events_per_second",
        burst_field="rate_limit.batch_burst",
    )
    return merged


def _number(value: object, *, minimum: float = 0.0) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > minimum:
        return float(value)
    return None


def _whole(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return None


def _overrides(stored: dict[str, Any], name: str) -> dict[str, Any]:
    value = stored.get(name)
    return value if isinstance(value, dict) else {}


def request_budget(stored: dict[str, Any], kind: KeyKind, defaults: RateLimitSettings) -> Budget:
    """A key's request budget: the tenant's rate limit if it set one, else its kind's default.
    A rate without a burst gets twice the rate (the defaults' shape)."""
    rate_limit = _overrides(stored, "rate_limit")
    rate = _number(rate_limit.get("requests_per_second"))
    if rate is None:
        if kind == "public":
            return Budget(defaults.public_requests_per_second, defaults.public_burst)
        return Budget(defaults.secret_requests_per_second, defaults.secret_burst)
    return Budget(rate, _whole(rate_limit.get("burst")) or max(1, math.ceil(2 * rate)))


def batch_budget(stored: dict[str, Any], defaults: RateLimitSettings) -> Budget:
    """A secret key's budget of batch events (POST /tenant/ingest/batch counts events)."""
    rate_limit = _overrides(stored, "rate_limit")
    rate = _number(rate_limit.get("batch_events_per_second"))
    if rate is None:
        return Budget(defaults.batch_events_per_second, defaults.batch_burst)
    return Budget(rate, _whole(rate_limit.get("batch_burst")) or max(1, math.ceil(10 * rate)))


def phone_region(stored: dict[str, Any], settings: Settings) -> str:
    region = stored.get("phone_region")
    return region if isinstance(region, str) and region else settings.identity.default_phone_region


def identifier_limit(stored: dict[str, Any], kind: str, default: int) -> int:
    value = _overrides(stored, "identifier_limits").get(kind)
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default
    )


def blocked_values(stored: dict[str, Any]) -> list[str]:
    """The tenant's own blocked values; the built-in ones always apply as well."""
    extra = stored.get("blocklist")
    return [str(value) for value in extra] if isinstance(extra, list) else []


def abandon_after_seconds(stored: dict[str, Any], settings: Settings) -> float:
    return _number(stored.get("abandon_after_seconds")) or settings.orders.abandon_after_seconds


def _budget_out(budget: Budget) -> dict[str, float | int]:
    return {"requests_per_second": budget.per_second, "burst": budget.burst}


def effective(stored: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """GET /v1/settings: every setting with the value that applies to the tenant now."""
    identity = settings.identity
    defaults = settings.rate_limits
    rate_limit = _overrides(stored, "rate_limit")
    batch = batch_budget(stored, defaults)
    return {
        "phone_region": phone_region(stored, settings),
        "identifier_limits": {
            "email": identifier_limit(stored, "email", identity.max_emails),
            "phone": identifier_limit(stored, "phone", identity.max_phones),
            "external_id": identifier_limit(stored, "external_id", identity.max_external_ids),
        },
        "blocklist": blocked_values(stored),
        "default_blocklist": sorted(DEFAULT_BLOCKLIST),
        "abandon_after_seconds": abandon_after_seconds(stored, settings),
        "rate_limit": {
            # The tenant's own values (null: each kind of key has its default, below).
            "requests_per_second": _number(rate_limit.get("requests_per_second")),
            "burst": _whole(rate_limit.get("burst")),
            "batch_events_per_second": batch.per_second,
            "batch_burst": batch.burst,
            "public": _budget_out(request_budget(stored, "public", defaults)),
            "secret": _budget_out(request_budget(stored, "secret", defaults)),
        },
    }
