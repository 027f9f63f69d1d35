"""The order state machine and product inception, table-driven (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeyline.orders.lifecycle import (
    RANK,
    STATUS_OF,
    LineItem,
    OrderFact,
    OrderState,
    ProductFact,
    abandonment_payload,
    apply_order,
    apply_product,
    due_for_abandonment,
    line_item_products,
    plan_chunk,
)

T0 = datetime(2026, 11, 22, 10, tzinfo=UTC)
PROFILE = uuid.UUID("00000000-0000-4000-8000-000000000001")


def fact(event_type: str, minute: int = 0, **fields: object) -> OrderFact:
    return OrderFact(
        order_id=str(fields.pop("order_id", "o-1")),
        event_type=event_type,
        event_id=uuid.uuid4(),
        occurred_at=T0 + timedelta(minutes=minute),
        profile_id=fields.pop("profile_id", PROFILE),  # type: ignore[arg-type]
        **fields,  # type: ignore[arg-type]
    )


def run(*facts: OrderFact) -> OrderState:
    state: OrderState | None = None
    for item in facts:
        state = apply_order(state, item)
    assert state is not None
    return state


@pytest.mark.parametrize(
    ("types", "status"),
    [
        (["product_added"], "incomplete"),
        (["page_viewed"], "incomplete"),
        (["checkout_started", "purchase_completed"], "completed"),
        (["purchase_completed", "cart_updated"], "completed"),
        (["purchase_completed", "checkout_started", "product_added"], "completed"),
        (["purchase_completed", "order_refunded"], "refunded"),
        (["purchase_completed", "order_cancelled"], "cancelled"),
        (["order_cancelled", "purchase_completed"], "cancelled"),
        (["order_refunded", "order_cancelled"], "refunded"),
        (["purchase_completed", "purchase_confirmed"], "completed"),
        (["payment_succeeded"], "incomplete"),
    ],
)
def test_states_only_move_forward(types: list[str], status: str) -> None:
    assert run(*[fact(t, i) for i, t in enumerate(types)]).status == status


def test_line_items_replace_the_orders_items_but_not_from_a_late_cart_event() -> None:
    cart = (LineItem("p-1", price=10.0, quantity=2),)
    bought = (LineItem("p-1", price=10.0), LineItem("p-2", price=5.0))
    late = (LineItem("p-9", price=1.0),)
    state = run(
        fact("product_added", 0, items=cart, total=20.0),
        fact("purchase_completed", 1, items=bought, total=15.0, currency="EUR"),
        fact("cart_updated", 2, items=late, total=1.0),
    )
    assert state.items == bought
    assert (state.total, state.currency) == (15.0, "EUR")
    assert state.completed_at == T0 + timedelta(minutes=1)
    assert state.last_activity_at == T0 + timedelta(minutes=2)


def test_a_profileless_provider_order_takes_the_first_known_profile() -> None:
    state = run(fact("purchase_completed", 0, profile_id=None), fact("order_refunded", 1))
    assert state.profile_id == PROFILE


def test_out_of_order_facts_keep_the_earliest_creation_and_latest_activity() -> None:
    state = run(fact("purchase_completed", 5), fact("product_added", 1))
    assert (state.created_at, state.last_activity_at) == (
        T0 + timedelta(minutes=1),
        T0 + timedelta(minutes=5),
    )


STATUSES = [*sorted(STATUS_OF), "page_viewed", "purchase_abandoned"]


@given(st.lists(st.sampled_from(STATUSES), min_size=1, max_size=12))
def test_the_status_rank_never_decreases(types: list[str]) -> None:
    state: OrderState | None = None
    for index, event_type in enumerate(types):
        before = RANK[state.status] if state else 0
        state = apply_order(state, fact(event_type, index))
        assert RANK[state.status] >= before


def test_idle_carts_are_due_for_abandonment_once() -> None:
    now = T0 + timedelta(hours=2)
    idle = run(fact("checkout_started", 0, items=(LineItem("p-1", price=9.5, quantity=2),)))
    fresh = run(fact("product_added", 90, order_id="o-2"))
    done = run(fact("purchase_completed", 0, order_id="o-3"))
    due = due_for_abandonment([idle, fresh, done], now, timedelta(hours=1))
    assert [order.order_id for order in due] == ["o-1"]
    assert abandonment_payload(idle) == {
        "order_id": "o-1",
        "product_ids": ["p-1"],
        "cart_value": 19.0,
        "stage_abandoned": "checkout",
    }
    marked = apply_order(idle, fact("purchase_abandoned", 120))
    assert marked.abandoned_at == T0 + timedelta(minutes=120)
    assert marked.status == "incomplete"
    assert due_for_abandonment([marked], now + timedelta(hours=5), timedelta(hours=1)) == []
    # A recovered cart: the purchase after the abandonment still completes it.
    assert apply_order(marked, fact("purchase_completed", 130)).status == "completed"


def test_unknown_products_start_as_skeletons_that_product_events_enrich() -> None:
    order = fact("purchase_completed", 0, items=(LineItem("p-1", name="Nano - green", price=9.0),))
    [from_order] = line_item_products(order)
    skeleton = apply_product(None, from_order)
    assert (skeleton.skeleton, skeleton.name, skeleton.price) == (True, "Nano - green", 9.0)
    viewed = ProductFact("p-1", T0, name="iPod Nano", category="audio", from_line_item=False)
    real = apply_product(skeleton, viewed)
    assert (real.skeleton, real.name, real.category, real.price) == (
        False,
        "iPod Nano",
        "audio",
        9.0,
    )
    # A later line item does not rename a catalogued product; it only fills gaps.
    again = apply_product(real, ProductFact("p-1", T0, name="Nano - blue", sku="N-1"))
    assert (again.name, again.sku, again.skeleton) == ("iPod Nano", "N-1", False)


def test_a_chunk_plan_holds_only_what_changed() -> None:
    known = OrderState("o-1", PROFILE, "completed")
    plan = plan_chunk(
        {"o-1": known},
        {},
        [fact("product_added", 0, order_id="o-2"), fact("product_added", 1, order_id="o-2")],
        [ProductFact("p-1", T0, name="A", from_line_item=False)],
    )
    assert set(plan.orders) == {"o-2"}
    assert plan.orders["o-2"].created_at == T0
    assert set(plan.products) == {"p-1"}
