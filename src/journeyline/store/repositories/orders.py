"""Orders and products: loaded by key list, written set-based (one statement per table)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from journeyline.statuses import OrderStatus
from journeyline.store.models import Order, Product
from journeyline.store.repositories.scoped import TenantRepository, table_of

ORDERS = table_of(Order)
PRODUCTS = table_of(Product)


class OrderColumns(NamedTuple):
    """An order's row as the projection reads it (no ORM object)."""

    order_id: str
    profile_id: uuid.UUID | None
    status: OrderStatus
    items: list[dict[str, Any]]
    total: float | None
    currency: str | None
    source: str | None
    created_at: datetime
    last_activity_at: datetime
    completed_at: datetime | None
    abandoned_at: datetime | None
    reached_checkout: bool
    last_event_id: uuid.UUID | None


class ProductColumns(NamedTuple):
    product_id: str
    name: str | None
    category: str | None
    price: float | None
    sku: str | None
    skeleton: bool
    updated_at: datetime | None


async def tenants_with_open_orders(session: AsyncSession, idle_since: datetime) -> list[uuid.UUID]:
    """Tenants with an incomplete, not yet abandoned order idle since `idle_since` (across
    tenants: the abandonment sweep's first step)."""
    statement = (
        select(Order.tenant_id)
        .where(
            Order.status == "incomplete",
            Order.abandoned_at.is_(None),
            Order.last_activity_at <= idle_since,
        )
        .distinct()
    )
    return list((await session.scalars(statement)).all())


class OrderRepository(TenantRepository):
    async def reset(self) -> None:
        """Every order and product, before `rebuild` derives them again."""
        for table in (ORDERS, PRODUCTS):
            await self.session.execute(delete(table).where(table.c.tenant_id == self.tenant_id))

    async def order_ids_of(self, profile_id: uuid.UUID) -> list[str]:
        rows = await self.session.scalars(
            select(Order.order_id)
            .where(Order.tenant_id == self.tenant_id, Order.profile_id == profile_id)
            .order_by(Order.order_id)
        )
        return list(rows)

    async def counts_by_status(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(Order.status, func.count())
            .where(Order.tenant_id == self.tenant_id)
            .group_by(Order.status)
        )
        return {status: int(count) for status, count in rows}

    async def idle_orders(self, idle_since: datetime, limit: int) -> list[Order]:
        """Incomplete orders not yet abandoned, idle since `idle_since`, oldest first."""
        statement = (
            select(Order)
            .where(
                Order.tenant_id == self.tenant_id,
                Order.status == "incomplete",
                Order.abandoned_at.is_(None),
                Order.last_activity_at <= idle_since,
            )
            .order_by(Order.last_activity_at, Order.order_id)
            .limit(limit)
        )
        return list((await self.session.scalars(statement)).all())

    async def orders_by_id(self, order_ids: Collection[str]) -> dict[str, OrderColumns]:
        rows = await self.lookup(ORDERS, ("order_id",), set(order_ids), OrderColumns._fields)
        return {row[0]: OrderColumns(*row) for row in rows}

    async def products_by_id(self, product_ids: Collection[str]) -> dict[str, ProductColumns]:
        rows = await self.lookup(
            PRODUCTS, ("product_id",), set(product_ids), ProductColumns._fields
        )
        return {row[0]: ProductColumns(*row) for row in rows}

    async def save_orders(
        self, new: Sequence[dict[str, Any]], changed: Sequence[dict[str, Any]]
    ) -> None:
        """One multi-row INSERT for new orders, one executemany UPDATE for changed ones."""
        await self.save_rows(ORDERS, "order_id", new, changed)

    async def save_products(
        self, new: Sequence[dict[str, Any]], changed: Sequence[dict[str, Any]]
    ) -> None:
        await self.save_rows(PRODUCTS, "product_id", new, changed)

    async def repoint_orders(self, moves: Mapping[uuid.UUID, uuid.UUID]) -> None:
        """Orders of merged profiles now belong to the survivors (one executemany)."""
        if not moves:
            return
        statement = (
            update(ORDERS)
            .where(ORDERS.c.tenant_id == self.tenant_id, ORDERS.c.profile_id == bindparam("b_from"))
            .values(profile_id=bindparam("b_into"))
        )
        await self.session.execute(
            statement, [{"b_from": source, "b_into": target} for source, target in moves.items()]
        )

    async def assign_orders(self, owners: Mapping[str, uuid.UUID]) -> None:
        """Give each order to a profile (one executemany)."""
        if not owners:
            return
        statement = (
            update(ORDERS)
            .where(ORDERS.c.tenant_id == self.tenant_id, ORDERS.c.order_id == bindparam("b_id"))
            .values(profile_id=bindparam("b_profile"))
        )
        await self.session.execute(
            statement, [{"b_id": key, "b_profile": owner} for key, owner in owners.items()]
        )

    async def get_order(self, order_id: str) -> Order | None:
        return await self.session.scalar(
            select(Order).where(Order.tenant_id == self.tenant_id, Order.order_id == order_id)
        )

    async def orders_page(
        self, *, profile_ids: Sequence[uuid.UUID] | None, limit: int, after: str | None
    ) -> list[Order]:
        """Keyset-paged on order_id."""
        statement = select(Order).where(Order.tenant_id == self.tenant_id)
        if profile_ids is not None:
            statement = statement.where(self.among(Order.profile_id, profile_ids))
        if after is not None:
            statement = statement.where(Order.order_id > after)
        statement = statement.order_by(Order.order_id).limit(limit)
        return list((await self.session.scalars(statement)).all())

    async def get_product(self, product_id: str) -> Product | None:
        return await self.session.scalar(
            select(Product).where(
                Product.tenant_id == self.tenant_id, Product.product_id == product_id
            )
        )

    async def products_page(self, *, limit: int, after: str | None) -> list[Product]:
        statement = select(Product).where(Product.tenant_id == self.tenant_id)
        if after is not None:
            statement = statement.where(Product.product_id > after)
        statement = statement.order_by(Product.product_id).limit(limit)
        return list((await self.session.scalars(statement)).all())
