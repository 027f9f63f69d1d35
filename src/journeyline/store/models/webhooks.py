"""Provider webhook connections and every delivery they received (DESIGN §7)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from journeyline.store.base import Base, JsonType, UtcDateTime

SEALED_SECRET_LENGTH = 1024


class WebhookConnection(Base):
    __tablename__ = "webhook_connections"
    __table_args__ = (
        # A delivery names only its connection: the lookup that finds the tenant.
        Index("uq_webhook_connections_id", "id", unique=True),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    # Signing secrets are needed in clear to compute HMACs (they cannot be hashed like API
    # keys): stored sealed (store/encryption.py, `fernet:…`, ~1.5 times the secret's length
    # plus 80), opened only to verify a delivery. 1024 holds a sealed 512-character secret.
    secret: Mapped[str] = mapped_column(String(SEALED_SECRET_LENGTH))
    # Shopify: app webhooks and store-admin webhooks sign with different keys.
    secondary_secret: Mapped[str | None] = mapped_column(
        String(SEALED_SECRET_LENGTH), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_tenant_received", "tenant_id", "received_at"),
        Index(
            "ix_webhook_deliveries_tenant_connection", "tenant_id", "connection_id", "received_at"
        ),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    connection_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    provider: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The provider's headers (credentials redacted) and the body byte for byte.
    headers: Mapped[dict[str, str]] = mapped_column(JsonType)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    verified: Mapped[bool] = mapped_column(Boolean)
    # accepted | duplicate | ignored | rejected (not verified) | invalid (unreadable) | failed
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # The provider's own event type and idempotency key, once it could be read.
    kind: Mapped[str | None] = mapped_column(String(255), nullable=True)
    delivery_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    event_ids: Mapped[list[str]] = mapped_column(JsonType)
    replays: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # Free for the adapter's per-event errors, when the pipeline refused some.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
