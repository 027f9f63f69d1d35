"""Projecting a chunk's events into orders and products: one read per table, the pure plan,
one write per table."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from journeyline.orders.lifecycle import (
    LineItem,
    OrderFact,
    OrderState,
    ProductFact,
    ProductState,
    line_item_products,
    plan_chunk,
)
from journeyline.store.db import Session
from journeyline.store.models import Order, Product
from journeyline.store.repositories.events import EventRepository
from journeyline.store.repositories.orders import (
    OrderColumns,
    OrderRepository,
    ProductColumns,
    tenants_with_open_orders,
)


def order_state(row: Order | OrderColumns) -> OrderState:
    return OrderState(
        order_id=row.order_id,
        profile_id=row.profile_id,
        status=row.status,
        items=tuple(LineItem(**item) for item in row.items),
        total=row.total,
        currency=row.currency,
        source=row.source,
        created_at=row.created_at,
        last_activity_at=row.last_activity_at,
        completed_at=row.completed_at,
        abandoned_at=row.abandoned_at,
        reached_checkout=row.reached_checkout,
        last_event_id=row.last_event_id,
    )


def product_state(row: Product | ProductColumns) -> ProductState:
    return ProductState(
        product_id=row.product_id,
        name=row.name,
        category=row.category,
        price=row.price,
        sku=row.sku,
        skeleton=row.skeleton,
        updated_at=row.updated_at,
    )


# Rows are the states' fields, read without `asdict`'s recursive deep copy.
_ORDER_COLUMNS = tuple(f.name for f in fields(OrderState))
_PRODUCT_COLUMNS = tuple(f.name for f in fields(ProductState))


def _order_row(state: OrderState) -> dict[str, Any]:
    row = {name: getattr(state, name) for name in _ORDER_COLUMNS}
    row["items"] = [item.as_json() for item in state.items]
    return row


def _product_row(state: ProductState) -> dict[str, Any]:
    return {name: getattr(state, name) for name in _PRODUCT_COLUMNS}


async def project(
    session: Session,
    tenant_id: uuid.UUID,
    order_facts: Sequence[OrderFact],
    product_facts: Sequence[ProductFact],
    *,
    merged: Mapping[uuid.UUID, uuid.UUID],
) -> list[OrderState]:
    """Apply a chunk: orders of profiles merged in it move to their survivors first, then the
    chunk's facts (already attributed to survivors) are applied in order. Returns the orders
    the facts changed."""
    repo = OrderRepository(session, tenant_id)
    await repo.repoint_orders(merged)
    if not order_facts and not product_facts:
        return []
    stored_orders = await repo.orders_by_id([fact.order_id for fact in order_facts])
    all_products = [*product_facts, *(p for f in order_facts for p in line_item_products(f))]
    stored_products = await repo.products_by_id([fact.product_id for fact in all_products])
    # Line items first: a product event of the same chunk then enriches the skeleton.
    ordered_products: list[ProductFact] = sorted(all_products, key=lambda f: not f.from_line_item)
    plan = plan_chunk(
        {key: order_state(row) for key, row in stored_orders.items()},
        {key: product_state(row) for key, row in stored_products.items()},
        order_facts,
        ordered_products,
    )
    await repo.save_orders(
        [_order_row(s) for key, s in plan.orders.items() if key not in stored_orders],
        [_order_row(s) for key, s in plan.orders.items() if key in stored_orders],
    )
    await repo.save_products(
        [_product_row(s) for key, s in plan.products.items() if key not in stored_products],
        [_product_row(s) for key, s in plan.products.items() if key in stored_products],
    )
    return list(plan.orders.values())


async def move_merged(
    session: Session, tenant_id: uuid.UUID, merged: Mapping[uuid.UUID, uuid.UUID]
) -> None:
    """Orders of merged profiles belong to the profiles they were merged into."""
    await OrderRepository(session, tenant_id).repoint_orders(merged)


async def restore_unmerged(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    survivor_id: uuid.UUID,
    restored_family: Sequence[uuid.UUID],
    restored_id: uuid.UUID,
) -> list[str]:
    """After an unmerge, the restored profile takes back the orders its own events started
    (an order follows the profile of its earliest event, as it did when it was created);
    returns their ids."""
    events = EventRepository(session, tenant_id)
    candidates = await events.objects_of_profiles(restored_family)
    if not candidates:
        return []
    first = await events.first_profiles_of_objects(sorted(candidates))
    repo = OrderRepository(session, tenant_id)
    current = await repo.orders_by_id(sorted(candidates))
    family = set(restored_family)
    back = {
        order_id: restored_id
        for order_id, row in current.items()
        if row.profile_id == survivor_id and first.get(order_id) in family
    }
    await repo.assign_orders(back)
    return sorted(back)


async def idle_orders(
    session: Session, tenant_id: uuid.UUID, idle_since: datetime, limit: int
) -> list[OrderState]:
    rows = await OrderRepository(session, tenant_id).idle_orders(idle_since, limit)
    return [order_state(row) for row in rows]


async def tenants_with_idle_orders(session: Session, idle_since: datetime) -> list[uuid.UUID]:
    return await tenants_with_open_orders(session, idle_since)


async def get_order(session: Session, tenant_id: uuid.UUID, order_id: str) -> Order | None:
    return await OrderRepository(session, tenant_id).get_order(order_id)


async def list_orders(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    profile_ids: Sequence[uuid.UUID] | None,
    limit: int,
    after: str | None,
) -> tuple[list[Order], str | None]:
    rows = await OrderRepository(session, tenant_id).orders_page(
        profile_ids=profile_ids, limit=limit + 1, after=after
    )
    page = rows[:limit]
    return page, page[-1].order_id if len(rows) > limit else None


async def get_product(session: Session, tenant_id: uuid.UUID, product_id: str) -> Product | None:
    return await OrderRepository(session, tenant_id).get_product(product_id)


async def list_products(
    session: Session, tenant_id: uuid.UUID, *, limit: int, after: str | None
) -> tuple[list[Product], str | None]:
    rows = await OrderRepository(session, tenant_id).products_page(limit=limit + 1, after=after)
    page = rows[:limit]
    return page, page[-1].product_id if len(rows) > limit else None
