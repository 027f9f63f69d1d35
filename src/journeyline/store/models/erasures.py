"""GDPR erasure: the tenant's tombstone key, the tombstones, and the audit of each erasure."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from journeyline.store.base import Base, JsonType, UtcDateTime


class ErasureKey(Base):
    """The tenant's secret for tombstone hashes (HMAC-SHA256), made at its first erasure."""

    __tablename__ = "erasure_keys"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Tombstone(Base):
    """An erased identifier, kept only as HMAC(tenant secret, "kind:normalized value")."""

    __tablename__ = "erasure_tombstones"
    __table_args__ = (
        Index("uq_erasure_tombstones_tenant_hash", "tenant_id", "value_hash", unique=True),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    value_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ErasureRecord(Base):
    """The audit of one erasure: what, when, by which key, how much; no personal data."""

    __tablename__ = "erasure_records"
    __table_args__ = (Index("ix_erasure_records_tenant_created", "tenant_id", "created_at"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # "profile" (DELETE /v1/profiles/{id}) or the identifier kind given to POST /v1/erasures.
    requested_by: Mapped[str] = mapped_column(String(20))
    key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    profile_ids: Mapped[list[str]] = mapped_column(JsonType)
    # {"events": n, "identities": n, "tombstones": n, ...}
    counts: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
