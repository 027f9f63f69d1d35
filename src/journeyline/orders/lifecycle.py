"""The order state machine and product inception (DESIGN §5, Keystone order inception): pure
facts in, new states out.

An order is created by the first event that names its `order_id` and moves forward only:
incomplete → completed → cancelled → refunded (a late cart event never reopens a completed
order). Line items replace the order's items, unless they come from an event that would move
the order backwards. A product id never seen before provisions a skeleton product; product
events (a view, a cart add with its own name, category and price) enrich it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from journeyline.statuses import OrderStatus

RANK: Mapping[str, int] = {"incomplete": 0, "completed": 1, "cancelled": 2, "refunded": 3}

# The status an event type moves an order to; other types with an `order_id` create the order
# (incomplete) or touch it (last activity) without moving it.
STATUS_OF: Mapping[str, OrderStatus] = {
    "cart_updated": "incomplete",
    "product_added": "incomplete",
    "product_removed": "incomplete",
    "checkout_started": "incomplete",
    "order_created": "incomplete",
    "purchase_completed": "completed",
    "purchase_confirmed": "completed",
    "order_cancelled": "cancelled",
    "order_refunded": "refunded",
}
CHECKOUT_TYPES = frozenset({"checkout_started", "order_created"})
# Events that describe a product by themselves (their payload's product_id, name, category,
# price): they enrich the catalogue.
PRODUCT_TYPES = frozenset({"product_viewed", "product_added", "product_removed"})
ABANDONED = "purchase_abandoned"


@dataclass(frozen=True, slots=True)
class LineItem:
    product_id: str | None
    sku: str | None = None
    name: str | None = None
    price: float | None = None
    quantity: float = 1
    category: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            key: value
            for key, value in (
                ("product_id", self.product_id),
                ("sku", self.sku),
                ("name", self.name),
                ("price", self.price),
                ("quantity", self.quantity),
                ("category", self.category),
            )
            if value is not None
        }


@dataclass(frozen=True, slots=True)
class OrderFact:
    """What one event says about one order."""

    order_id: str
    event_type: str
    event_id: uuid.UUID
    occurred_at: datetime
    profile_id: uuid.UUID | None
    items: tuple[LineItem, ...] | None = None
    total: float | None = None
    currency: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class ProductFact:
    """What one event says about one product."""

    product_id: str
    occurred_at: datetime
    name: str | None = None
    category: str | None = None
    price: float | None = None
    sku: str | None = None
    # From an order's line items (provisions a skeleton) or from a product event (enriches).
    from_line_item: bool = True


@dataclass(frozen=True, slots=True)
class OrderState:
    order_id: str
    profile_id: uuid.UUID | None
    status: OrderStatus
    items: tuple[LineItem, ...] = ()
    total: float | None = None
    currency: str | None = None
    source: str | None = None
    created_at: datetime | None = None
    last_activity_at: datetime | None = None
    completed_at: datetime | None = None
    abandoned_at: datetime | None = None
    reached_checkout: bool = False
    last_event_id: uuid.UUID | None = None

    @property
    def cart_value(self) -> float:
        """The order's total, else what its items add up to."""
        if self.total is not None:
            return self.total
        return round(sum((item.price or 0) * item.quantity for item in self.items), 2)


@dataclass(frozen=True, slots=True)
class ProductState:
    product_id: str
    name: str | None = None
    category: str | None = None
    price: float | None = None
    sku: str | None = None
    skeleton: bool = True
    updated_at: datetime | None = None


def apply_order(state: OrderState | None, fact: OrderFact) -> OrderState:
    """The order after `fact`. States only move forward; a fact that would move it backwards
    still counts as activity but changes neither its status nor its items."""
    target = STATUS_OF.get(fact.event_type)
    if state is None:
        state = OrderState(
            order_id=fact.order_id,
            profile_id=fact.profile_id,
            status="incomplete",
            source=fact.source,
            created_at=fact.occurred_at,
        )
    regresses = target is not None and RANK[target] < RANK[state.status]
    status: OrderStatus = state.status
    if target is not None and RANK[target] > RANK[state.status]:
        status = target
    changes: dict[str, Any] = {
        "status": status,
        "profile_id": state.profile_id or fact.profile_id,
        "last_event_id": fact.event_id,
        "last_activity_at": _latest(state.last_activity_at, fact.occurred_at),
        "created_at": _earliest(state.created_at, fact.occurred_at),
        "reached_checkout": state.reached_checkout or fact.event_type in CHECKOUT_TYPES,
    }
    if status == "completed" and state.status != "completed":
        changes["completed_at"] = fact.occurred_at
    if fact.event_type == ABANDONED and state.abandoned_at is None:
        changes["abandoned_at"] = fact.occurred_at
    if not regresses:
        if fact.items is not None:
            changes["items"] = fact.items
        if fact.total is not None:
            changes["total"] = fact.total
        if fact.currency is not None:
            changes["currency"] = fact.currency
    return replace(state, **changes)


def apply_product(state: ProductState | None, fact: ProductFact) -> ProductState:
    """A line item provisions a skeleton; a product event fills in what it knows and makes the
    product a real one. Known fields are never erased by an absent one."""
    if state is None:
        state = ProductState(product_id=fact.product_id, updated_at=fact.occurred_at)
    if fact.from_line_item and not state.skeleton:
        # The catalogue knows this product already: a line item's name (often with the variant,
        # "iPod Nano - 8gb - green") does not overwrite it; it only fills gaps.
        return replace(
            state,
            name=state.name or fact.name,
            category=state.category or fact.category,
            price=state.price if state.price is not None else fact.price,
            sku=state.sku or fact.sku,
        )
    updated = replace(
        state,
        name=fact.name or state.name,
        category=fact.category or state.category,
        price=fact.price if fact.price is not None else state.price,
        sku=fact.sku or state.sku,
        skeleton=state.skeleton and fact.from_line_item,
    )
    # A fact that teaches nothing new leaves the product as it was (no write for it): most of
    # a catalogue's events repeat what it knows.
    if updated == state and state.updated_at is not None:
        return state
    return replace(updated, updated_at=_latest(state.updated_at, fact.occurred_at))


@dataclass
class Plan:
    """The orders and products a chunk changed, to be written in one statement each."""

    orders: dict[str, OrderState] = field(default_factory=dict)
    products: dict[str, ProductState] = field(default_factory=dict)


def plan_chunk(
    orders: Mapping[str, OrderState],
    products: Mapping[str, ProductState],
    order_facts: Iterable[OrderFact],
    product_facts: Iterable[ProductFact],
) -> Plan:
    """Apply a chunk's facts in order to the current states; returns only what changed."""
    plan = Plan()
    for fact in order_facts:
        current = plan.orders.get(fact.order_id) or orders.get(fact.order_id)
        plan.orders[fact.order_id] = apply_order(current, fact)
    for product in product_facts:
        known = plan.products.get(product.product_id) or products.get(product.product_id)
        updated = apply_product(known, product)
        if updated != known:
            plan.products[product.product_id] = updated
    return plan


def line_item_products(fact: OrderFact) -> list[ProductFact]:
    return [
        ProductFact(
            product_id=item.product_id,
            occurred_at=fact.occurred_at,
            name=item.name,
            category=item.category,
            price=item.price,
            sku=item.sku,
        )
        for item in fact.items or ()
        if item.product_id
    ]


def due_for_abandonment(
    orders: Sequence[OrderState], now: datetime, abandon_after: timedelta
) -> list[OrderState]:
    """Incomplete orders idle for longer than `abandon_after` and not yet marked abandoned."""
    cutoff = now - abandon_after
    return [
        order
        for order in orders
        if order.status == "incomplete"
        and order.abandoned_at is None
        and order.last_activity_at is not None
        and order.last_activity_at <= cutoff
    ]


def abandonment_payload(order: OrderState) -> dict[str, Any]:
    """The `purchase_abandoned` event of an idle cart (Lead Domain fields)."""
    return {
        "order_id": order.order_id,
        "product_ids": [item.product_id for item in order.items if item.product_id],
        "cart_value": order.cart_value,
        "stage_abandoned": "checkout" if order.reached_checkout else "cart",
        **({"currency": order.currency} if order.currency else {}),
    }


def _latest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current


def _earliest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate < current else current
