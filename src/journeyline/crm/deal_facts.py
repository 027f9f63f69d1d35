"""What an event says about a CRM deal, read from its payload as the orders projection reads
the same order (pure)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from journeyline.crm.deals import STAGE_BY_EVENT, DealFact
from journeyline.orders.facts import order_total, read_id
from journeyline.payloads import label


def _amount(payload: dict[str, Any]) -> Decimal | None:
    """The deal's amount is its order's total, read as the orders projection reads it."""
    total = order_total(payload)
    if total is None:
        return None
    try:
        return Decimal(str(total))
    except InvalidOperation:
        return None


def _product_names(payload: dict[str, Any]) -> tuple[str, ...]:
    names: list[str] = []
    products = payload.get("products")
    if isinstance(products, list):
        for item in products:
            if isinstance(item, dict):
                name = label(item.get("name")) or label(item.get("product_name"))
                if name:
                    names.append(name)
    single = label(payload.get("product_name"))
    if not names and single:
        names.append(single)
    return tuple(names)


def deal_fact(
    event_type: str,
    payload: dict[str, Any],
    *,
    event_id: uuid.UUID,
    occurred_at: datetime,
    profile_id: uuid.UUID | None,
) -> DealFact | None:
    """The deal fact of a commerce event (cart, checkout, purchase, subscription, refund,
    cancellation, abandonment), or None."""
    if event_type not in STAGE_BY_EVENT:
        return None
    return DealFact(
        event_id=event_id,
        event_type=event_type,
        occurred_at=occurred_at,
        profile_id=profile_id,
        order_id=read_id(payload.get("order_id")),
        order_number=read_id(payload.get("order_number")) or read_id(payload.get("order_name")),
        subscription_id=read_id(payload.get("subscription_id")),
        plan_id=read_id(payload.get("plan_id")),
        plan_name=label(payload.get("plan_name")),
        product_names=_product_names(payload),
        amount=_amount(payload),
        currency=label(payload.get("currency")),
    )
