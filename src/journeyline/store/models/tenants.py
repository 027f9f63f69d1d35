"""Tenants and their hashed API keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from journeyline.statuses import KeyKind
from journeyline.store.base import Base, JsonType, UtcDateTime


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Per-tenant overrides (tenancy/settings.py): phone region, identifier limits, extra blocked
    # values, abandonment, rate limits.
    settings: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[KeyKind] = mapped_column(String(10))
    # What the tenant calls the key ("checkout service"); optional.
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # SHA-256 of the whole key: keys are 190 random bits, so a fast hash is enough to make a
    # leaked table useless while keeping the lookup a single indexed equality.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Written at most once a minute per key and process (tenancy/usage.py), never per request.
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
