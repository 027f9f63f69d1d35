"""Orders and products: loaded by key list, written set-based (one statement per table)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from journeyline.store.models import Order, Product
from journeyline.store.repositories.scoped import TenantRepository, slices, table_of

ORDERS = table_of(Order)
PRODUCTS = table_of(Product)


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

    async def orders_by_id(self, order_ids: Sequence[str]) -> dict[str, Order]:
        found: dict[str, Order] = {}
        for part in slices(sorted(set(order_ids))):
            rows = await self.session.scalars(
                select(Order)
                .where(Order.tenant_id == self.tenant_id, Order.order_id.in_(part))
                .execution_options(populate_existing=True)
            )
            found.update((row.order_id, row) for row in rows)
        return found

    async def products_by_id(self, product_ids: Sequence[str]) -> dict[str, Product]:
        found: dict[str, Product] = {}
        for part in slices(sorted(set(product_ids))):
            rows = await self.session.scalars(
                select(Product)
                .where(Product.tenant_id == self.tenant_id, Product.product_id.in_(part))
                .execution_options(populate_existing=True)
            )
            found.update((row.product_id, row) for row in rows)
        return found

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
            statement = statement.where(Order.profile_id.in_(profile_ids))
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
