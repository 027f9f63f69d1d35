"""Typed ids and the helpers that make them (time-ordered UUIDv7, deterministic UUIDv5)."""

from __future__ import annotations

import os
import time
import uuid
from typing import NewType

TenantId = NewType("TenantId", uuid.UUID)
ProfileId = NewType("ProfileId", uuid.UUID)
EventId = NewType("EventId", uuid.UUID)

NAMESPACE = uuid.UUID("4f6c1d2e-8a1b-5c3d-9e0f-6a7b8c9d0e1f")


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    """A UUIDv7 (RFC 9562): time-ordered, so new rows land at the right edge of indexes."""
    millis = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def deterministic_id(tenant_id: uuid.UUID, kind: str, key: str) -> uuid.UUID:
    """UUIDv5 of (tenant, kind, key): the same inputs always give the same id."""
    return uuid.uuid5(NAMESPACE, f"{tenant_id}:{kind}:{key}")


def parse_uuid(value: str) -> uuid.UUID | None:
    """The UUID in `value`, or None when it is not one."""
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None
