"""Reading a deal out of an event's payload (pure): commerce events only, the amount read as
the orders projection reads the order's total, names and numbers from their several keys."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from journeyline.crm.deal_facts import deal_fact
from journeyline.crm.deals import DealFact
from journeyline.orders.facts import order_fact

EVENT = uuid.UUID("00000000-0000-4000-8000-0000000000e1")
JANE = uuid.UUID("00000000-0000-4000-8000-00000000000a")
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def fact(event_type: str, payload: dict[str, Any]) -> DealFact | None:
    return deal_fact(event_type, payload, event_id=EVENT, occurred_at=T0, profile_id=JANE)


@pytest.mark.parametrize("event_type", ["page_viewed", "identified", "product_viewed"])
def test_an_event_that_is_no_sale_says_nothing_about_a_deal(event_type: str) -> None:
    assert fact(event_type, {"order_id": "A1", "total": 10}) is None


@pytest.mark.parametrize(
    ("payload", "amount"),
    [
        ({"order_id": "A1", "total": 12.5, "amount": 99}, Decimal("12.5")),
        ({"order_id": "A1", "total": "12", "revenue": 7}, Decimal("7.0")),
        ({"order_id": "A1", "cart_value": 3}, Decimal("3.0")),
        ({"order_id": "A1", "total": True}, None),
        ({"order_id": "A1"}, None),
    ],
)
def test_the_amount_is_the_orders_total(payload: dict[str, Any], amount: Decimal | None) -> None:
    deal = fact("purchase_completed", payload)
    order = order_fact(
        "purchase_completed",
        payload,
        event_id=EVENT,
        occurred_at=T0,
        profile_id=JANE,
        source="web",
    )
    assert deal is not None
    assert order is not None
    assert deal.amount == amount
    assert (None if order.total is None else Decimal(str(order.total))) == deal.amount


def test_the_order_and_its_human_number_are_read_as_ids() -> None:
    deal = fact("checkout_started", {"order_id": " 1001 ", "order_name": "#1001"})
    assert deal is not None
    assert (deal.order_id, deal.order_number) == ("1001", "#1001")


@pytest.mark.parametrize(
    ("payload", "names"),
    [
        (
            {"products": [{"name": "Tent"}, {"product_name": "Stove"}, "junk", {}]},
            ("Tent", "Stove"),
        ),
        ({"product_name": "Lantern"}, ("Lantern",)),
        ({"products": [{"name": "Tent"}], "product_name": "Lantern"}, ("Tent",)),
        ({"products": "Tent"}, ()),
    ],
)
def test_product_names_come_from_the_line_items_else_the_single_product(
    payload: dict[str, Any], names: tuple[str, ...]
) -> None:
    deal = fact("product_added", payload)
    assert deal is not None
    assert deal.product_names == names
