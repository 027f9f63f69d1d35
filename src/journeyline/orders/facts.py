"""Reading what an event says about orders and products out of its payload (pure)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from journeyline.orders.lifecycle import PRODUCT_TYPES, LineItem, OrderFact, ProductFact

MAX_ID_LENGTH = 255
# Where a payload keeps the order's value, most specific first.
TOTAL_KEYS = ("total", "amount", "revenue", "value", "cart_value")


def read_id(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip() and len(value.strip()) <= MAX_ID_LENGTH:
        return value.strip()
    return None


def read_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def read_text(value: object) -> str | None:
    return value.strip()[:MAX_ID_LENGTH] if isinstance(value, str) and value.strip() else None


def line_items(value: object) -> tuple[LineItem, ...] | None:
    """`products: [{product_id, sku, name, price, quantity, category}]`; None when absent."""
    if not isinstance(value, list):
        return None
    items: list[LineItem] = []
    for entry in value:
        if not isinstance(entry, dict):
            continue
        quantity = read_number(entry.get("quantity"))
        items.append(
            LineItem(
                product_id=read_id(entry.get("product_id")) or read_id(entry.get("id")),
                sku=read_id(entry.get("sku")),
                name=read_text(entry.get("name")) or read_text(entry.get("product_name")),
                price=read_number(entry.get("price")),
                quantity=quantity if quantity is not None else 1,
                category=read_text(entry.get("category")),
            )
        )
    return tuple(items)


def order_id_of(payload: dict[str, Any]) -> str | None:
    """The order an event's payload names, as the string orders are keyed by."""
    return read_id(payload.get("order_id"))


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
    total = next(
        (number for key in TOTAL_KEYS if (number := read_number(payload.get(key))) is not None),
        None,
    )
    currency = read_text(payload.get("currency"))
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
        name=read_text(payload.get("product_name")) or read_text(payload.get("name")),
        category=read_text(payload.get("category")),
        price=read_number(payload.get("price")),
        sku=read_id(payload.get("sku")),
        from_line_item=False,
    )
