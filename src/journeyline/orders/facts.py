"""Reading what an event says about orders and products out of its payload (pure)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from journeyline.orders.lifecycle import PRODUCT_TYPES, LineItem, OrderFact, ProductFact
from journeyline.payloads import label, real, reference

# Where a payload keeps the order's value, most specific first.
TOTAL_KEYS = ("total", "amount", "revenue", "value", "cart_value")


def read_id(value: object) -> str | None:
    """An order's, a product's or a SKU's id: trimmed text or an integer, absent when too long."""
    return reference(value, strip=True)


def line_items(value: object) -> tuple[LineItem, ...] | None:
    """`products: [{product_id, sku, name, price, quantity, category}]`; None when absent."""
    if not isinstance(value, list):
        return None
    items: list[LineItem] = []
    for entry in value:
        if not isinstance(entry, dict):
            continue
        quantity = real(entry.get("quantity"))
        items.append(
            LineItem(
                product_id=read_id(entry.get("product_id")) or read_id(entry.get("id")),
                sku=read_id(entry.get("sku")),
                name=label(entry.get("name")) or label(entry.get("product_name")),
                price=real(entry.get("price")),
                quantity=quantity if quantity is not None else 1,
                category=label(entry.get("category")),
            )
        )
    return tuple(items)


def order_id_of(payload: dict[str, Any]) -> str | None:
    """The order an event's payload names, as the string orders are keyed by."""
    return read_id(payload.get("order_id"))


def order_total(payload: dict[str, Any]) -> float | None:
    """The order's value: the first of TOTAL_KEYS that holds a number."""
    return next(
        (number for key in TOTAL_KEYS if (number := real(payload.get(key))) is not None),
        None,
    )


def order_fact(
    event_type: str,
    payload: dict[str, Any],
    *,
    event_id: uuid.UUID,
    occurred_at: datetime,
    profile_id: uuid.UUID | None,
    source: str,
) -> OrderFact | None:
    """The order an event names with `payload.order_id`, or None."""
    order_id = order_id_of(payload)
    if order_id is None:
        return None
    total = order_total(payload)
    currency = label(payload.get("currency"))
    return OrderFact(
        order_id=order_id,
        event_type=event_type,
        event_id=event_id,
        occurred_at=occurred_at,
        profile_id=profile_id,
        items=line_items(payload.get("products")),
        total=total,
        currency=currency.upper()[:8] if currency else None,
        source=source,
    )


def product_fact(
    event_type: str, payload: dict[str, Any], occurred_at: datetime
) -> ProductFact | None:
    """A product event describing its product (`product_id`, name, category, price)."""
    if event_type not in PRODUCT_TYPES:
        return None
    product_id = read_id(payload.get("product_id"))
    if product_id is None:
        return None
    return ProductFact(
        product_id=product_id,
        occurred_at=occurred_at,
        name=label(payload.get("product_name")) or label(payload.get("name")),
        category=label(payload.get("category")),
        price=real(payload.get("price")),
        sku=read_id(payload.get("sku")),
        from_line_item=False,
    )
