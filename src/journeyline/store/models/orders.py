"""Orders and products, projected from the log (DESIGN §5)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from journeyline.statuses import OrderStatus
from journeyline.store.base import Base, JsonType, UtcDateTime


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_tenant_profile", "tenant_id", "profile_id"),
        # The abandonment sweep: incomplete orders by idle time.
        Index("ix_orders_tenant_status_activity", "tenant_id", "status", "last_activity_at"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    order_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    profile_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    status: Mapped[OrderStatus] = mapped_column(String(16))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    # Amounts arrive as JSON numbers in major units; they are kept as such.
    total: Mapped[float | None] = mapped_column(Float, nullable=True)
    currency: Mapped[str | None] = mapped_column(String(8), nullable=True)
    source: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_activity_at: Mapped[datetime] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    abandoned_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    reached_checkout: Mapped[bool] = mapped_column(Boolean)
    last_event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)


class Product(Base):
    __tablename__ = "products"

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    product_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    category: Mapped[str | None] = mapped_column(String(255), nullable=True)
    price: Mapped[float | None] = mapped_column(Float, nullable=True)
    sku: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # Provisioned from an order's line item; product events make it a real catalogue entry.
    skeleton: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
