"""Deals: keys, the forward-only stage machine, names and amounts, set-based apply, merges."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import reduce
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeyline.crm.deals import (
    STAGE_BY_EVENT,
    STAGE_RANK,
    Deal,
    DealFact,
    apply_deal_fact,
    apply_deal_facts,
    deal_id,
    deal_key,
    deal_keys,
    move_deals,
    normalize_currency,
    products_summary,
)
from journeyline.ids import deterministic_id
from journeyline.statuses import DealStage

TENANT = uuid.UUID("00000000-0000-4000-8000-000000000001")
JANE = uuid.UUID("00000000-0000-4000-8000-00000000000a")
SHADOW = uuid.UUID("00000000-0000-4000-8000-00000000000b")
ACME = uuid.UUID("00000000-0000-4000-8000-0000000000c0")
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ORDER_EVENTS = sorted(set(STAGE_BY_EVENT) - {"subscription_created", "subscription_cancelled"})


def fact(
    event_type: str,
    minute: int = 0,
    *,
    seq: int | None = None,
    order_id: str | None = "1001",
    **fields: Any,
) -> DealFact:
    """A fact at T0 + minute; its event id grows with `seq` (default: the minute), as UUIDv7s
    grow with time."""
    base = DealFact(
        event_id=uuid.UUID(int=(minute if seq is None else seq) + 1),
        event_type=event_type,
        occurred_at=T0 + timedelta(minutes=minute),
        profile_id=JANE,
        order_id=order_id,
    )
    return replace(base, **fields)


def run(facts: Sequence[DealFact], deal: Deal | None = None) -> Deal | None:
    return reduce(lambda current, item: apply_deal_fact(TENANT, current, item), facts, deal)


def final(facts: Sequence[DealFact]) -> Deal:
    deal = run(facts)
    assert deal is not None
    return deal


# --- keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        pytest.param(fact("product_added"), "order:1001", id="cart"),
        pytest.param(fact("purchase_completed"), "order:1001", id="purchase"),
        pytest.param(
            fact("purchase_completed", subscription_id="sub_1"),
            "subscription:sub_1",
            id="sub-checkout",
        ),
        pytest.param(
            fact("purchase_completed", order_id=None, subscription_id="sub_1"),
            "subscription:sub_1",
            id="renewal-without-order",
        ),
        pytest.param(
            fact("order_refunded", order_id=None, subscription_id="sub_1"),
            "subscription:sub_1",
            id="refund-of-subscription",
        ),
        pytest.param(
            fact("subscription_created", order_id=None, subscription_id="sub_1"),
            "subscription:sub_1",
            id="subscription",
        ),
        pytest.param(
            fact("subscription_cancelled", order_id="inv_9", subscription_id="sub_1"),
            "subscription:sub_1",
            id="subscription-event-ignores-order",
        ),
        pytest.param(
            fact("subscription_created", order_id=None, plan_id="pro"),
            f"subscription:{JANE}:plan:pro",
            id="lead-domain-plan-only",
        ),
        pytest.param(
            fact("subscription_created", order_id=None, plan_id="pro", profile_id=None),
            None,
            id="plan-without-person",
        ),
        pytest.param(
            fact("purchase_completed", order_id=None, seq=41),
            f"purchase:{uuid.UUID(int=42)}",
            id="orderless-sale",
        ),
        pytest.param(fact("cart_updated", order_id=None), None, id="orderless-cart"),
        pytest.param(fact("checkout_started", order_id=""), None, id="blank-order-id"),
        pytest.param(fact("page_viewed"), None, id="not-a-deal-event"),
        pytest.param(fact("product_viewed"), None, id="product-view"),
    ],
)
def test_deal_key(item: DealFact, expected: str | None) -> None:
    assert deal_key(item) == expected


def test_deal_keys_are_unique_in_first_seen_order() -> None:
    facts = [
        fact("product_added", order_id="2"),
        fact("page_viewed"),
        fact("product_added", order_id="1"),
        fact("checkout_started", order_id="2"),
    ]
    assert deal_keys(facts) == ["order:2", "order:1"]


def test_deal_id_is_deterministic() -> None:
    deal = final([fact("product_added")])
    assert (
        deal.id == deal_id(TENANT, "order:1001") == deterministic_id(TENANT, "deal", "order:1001")
    )


def test_a_fact_of_another_kind_leaves_the_deal_alone() -> None:
    deal = final([fact("product_added")])
    assert apply_deal_fact(TENANT, deal, fact("page_viewed", 5)) is deal
    assert apply_deal_fact(TENANT, None, fact("page_viewed", 5)) is None


# --- the stage machine ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "stage"),
    [
        ("order_created", "open"),
        ("product_added", "open"),
        ("product_removed", "open"),
        ("cart_updated", "open"),
        ("checkout_started", "checkout"),
        ("purchase_completed", "won"),
        ("purchase_confirmed", "won"),
        ("payment_succeeded", "won"),
        ("purchase_abandoned", "lost"),
        ("order_cancelled", "lost"),
        ("order_refunded", "refunded"),
    ],
)
def test_first_fact_sets_the_stage(event_type: str, stage: DealStage) -> None:
    assert final([fact(event_type)]).stage == stage


@pytest.mark.parametrize(
    ("events", "stage"),
    [
        pytest.param(["product_added", "checkout_started"], "checkout", id="open-checkout"),
        pytest.param(["checkout_started", "purchase_completed"], "won", id="checkout-won"),
        pytest.param(["product_added", "purchase_abandoned"], "lost", id="abandoned"),
        pytest.param(["checkout_started", "cart_updated"], "checkout", id="no-back-to-open"),
        pytest.param(["purchase_completed", "cart_updated"], "won", id="late-cart-after-won"),
        pytest.param(["purchase_completed", "checkout_started"], "won", id="late-checkout"),
        pytest.param(["purchase_completed", "purchase_abandoned"], "won", id="won-not-lost"),
        pytest.param(["purchase_completed", "order_cancelled"], "won", id="won-stays-won"),
        pytest.param(["purchase_completed", "order_refunded"], "refunded", id="refund"),
        pytest.param(["purchase_abandoned", "purchase_completed"], "won", id="recovered-cart"),
        pytest.param(["order_cancelled", "purchase_completed"], "won", id="cancel-then-buy"),
        pytest.param(["purchase_abandoned", "checkout_started"], "lost", id="lost-is-terminal"),
        pytest.param(["purchase_abandoned", "product_added"], "lost", id="lost-no-reopen"),
        pytest.param(["order_refunded", "purchase_completed"], "refunded", id="refund-first"),
        pytest.param(["order_refunded", "cart_updated"], "refunded", id="refund-terminal"),
        pytest.param(["product_added", "order_refunded"], "refunded", id="refund-of-open"),
    ],
)
def test_stage_transitions(events: list[str], stage: DealStage) -> None:
    facts = [fact(event_type, minute) for minute, event_type in enumerate(events)]
    assert final(facts).stage == stage


def test_a_purchase_beats_an_abandonment_stamped_later() -> None:
    # The abandonment job fires an hour after the cart idles; the purchase webhook that took
    # longer to arrive still wins the deal.
    facts = [
        fact("product_added", 0),
        fact("purchase_abandoned", 60),
        fact("purchase_completed", 30),
    ]
    assert final(facts).stage == "won"


@pytest.mark.parametrize(
    ("events", "stage", "cancelled"),
    [
        pytest.param(["subscription_created"], "won", False, id="created"),
        pytest.param(
            ["subscription_created", "subscription_cancelled"], "won", True, id="churned-stays-won"
        ),
        pytest.param(["subscription_cancelled"], "lost", True, id="cancelled-before-created"),
        pytest.param(
            ["subscription_cancelled", "subscription_created"], "won", True, id="out-of-order"
        ),
    ],
)
def test_subscription_deal(events: list[str], stage: DealStage, cancelled: bool) -> None:
    facts = [
        fact(event_type, minute, order_id=None, subscription_id="sub_1", plan_name="Pro")
        for minute, event_type in enumerate(events)
    ]
    deal = final(facts)
    assert (deal.kind, deal.key, deal.stage, deal.cancelled) == (
        "subscription",
        "subscription:sub_1",
        stage,
        cancelled,
    )


def test_order_cancelled_flags_the_deal() -> None:
    assert final([fact("purchase_completed", 0), fact("order_cancelled", 1)]).cancelled
    assert not final([fact("product_added", 0), fact("purchase_abandoned", 1)]).cancelled


# --- names, amounts, people ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "name"),
    [
        pytest.param(fact("product_added"), "Order #1001", id="order-id"),
        pytest.param(fact("product_added", order_number="#A-7"), "Order ##A-7", id="number"),
        pytest.param(fact("product_added", product_names=("Hat",)), "Hat", id="one-product"),
        pytest.param(
            fact("product_added", product_names=("Hat", " Scarf ", "Hat")),
            "Hat, Scarf",
            id="two-products-deduped",
        ),
        pytest.param(
            fact("product_added", product_names=("Hat", "Scarf", "Gloves", "Boots")),
            "Hat, Scarf + 2 more",
            id="many-products",
        ),
        pytest.param(
            fact("subscription_created", order_id=None, subscription_id="sub_1"),
            "Subscription sub_1",
            id="subscription-id",
        ),
        pytest.param(
            fact(
                "subscription_created",
                order_id=None,
                subscription_id="sub_1",
                plan_name="Pro Monthly",
                product_names=("Pro",),
            ),
            "Pro Monthly",
            id="plan-name",
        ),
        pytest.param(
            fact("subscription_created", order_id=None, plan_id="pro"),
            "Subscription",
            id="plan-only",
        ),
        pytest.param(fact("purchase_completed", order_id=None), "Purchase", id="orderless"),
        pytest.param(
            fact("purchase_completed", order_id=None, product_names=("Course",)),
            "Course",
            id="orderless-product",
        ),
    ],
)
def test_deal_name(item: DealFact, name: str) -> None:
    assert final([item]).name == name


def test_products_summary_of_nothing() -> None:
    assert products_summary(["", "  "]) is None


def test_a_fact_without_products_keeps_the_products_name() -> None:
    facts = [fact("product_added", 0, product_names=("Hat",)), fact("purchase_completed", 1)]
    assert final(facts).name == "Hat"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("usd", "USD"), (" BRL ", "BRL"), ("US$", None), ("dollars", None), ("", None), (None, None)],
)
def test_normalize_currency(raw: str | None, expected: str | None) -> None:
    assert normalize_currency(raw) == expected


def test_amount_and_currency_follow_the_newest_fact() -> None:
    facts = [
        fact("product_added", 0, amount=Decimal("10"), currency="usd"),
        fact("cart_updated", 1, amount=Decimal("25.50"), currency="usd"),
        fact("checkout_started", 2),
    ]
    deal = final(facts)
    assert (deal.amount, deal.currency) == (Decimal("25.50"), "USD")


def test_a_late_cart_event_does_not_change_a_won_amount() -> None:
    facts = [
        fact("purchase_completed", 5, amount=Decimal("99"), currency="EUR"),
        fact("cart_updated", 9, amount=Decimal("10"), currency="USD", product_names=("Hat",)),
    ]
    deal = final(facts)
    assert (deal.stage, deal.amount, deal.currency) == ("won", Decimal("99"), "EUR")
    assert deal.last_activity_at == T0 + timedelta(minutes=9)


def test_an_older_fact_of_the_same_stage_does_not_overwrite_a_newer_one() -> None:
    facts = [
        fact("cart_updated", 5, amount=Decimal("50")),
        fact("cart_updated", 1, amount=Decimal("10")),
    ]
    deal = final(facts)
    assert deal.amount == Decimal("50")
    assert deal.first_seen_at == T0 + timedelta(minutes=1)


def test_a_refund_keeps_the_sale_amount() -> None:
    facts = [
        fact("purchase_completed", 0, amount=Decimal("99"), currency="USD"),
        fact("order_refunded", 1, amount=Decimal("30"), currency="USD"),
    ]
    deal = final(facts)
    assert (deal.stage, deal.amount) == ("refunded", Decimal("99"))


def test_a_sale_heard_of_after_its_refund_still_sets_the_amount() -> None:
    facts = [
        fact("order_refunded", 5, amount=Decimal("30")),
        fact("purchase_completed", 1, amount=Decimal("99"), currency="USD", product_names=("Hat",)),
    ]
    deal = final(facts)
    assert (deal.stage, deal.amount, deal.currency, deal.name) == (
        "refunded",
        Decimal("99"),
        "USD",
        "Hat",
    )


def test_an_amount_without_currency_keeps_the_known_currency() -> None:
    facts = [
        fact("product_added", 0, amount=Decimal("10"), currency="BRL"),
        fact("checkout_started", 1, amount=Decimal("12")),
    ]
    assert (final(facts).amount, final(facts).currency) == (Decimal("12"), "BRL")


def test_a_non_finite_amount_is_ignored() -> None:
    facts = [
        fact("product_added", 0, amount=Decimal("10")),
        fact("cart_updated", 1, amount=Decimal("NaN")),
    ]
    assert final(facts).amount == Decimal("10")


def test_the_deal_links_the_newest_buyer_and_company() -> None:
    facts = [
        fact("product_added", 0, profile_id=SHADOW),
        fact("purchase_completed", 1, profile_id=JANE, company_id=ACME),
        fact("cart_updated", 2, profile_id=SHADOW),
    ]
    deal = final(facts)
    assert (deal.profile_id, deal.company_id) == (JANE, ACME)


def test_an_order_remembers_the_subscription_it_pays_for() -> None:
    deal = final([fact("product_added", 0), fact("purchase_completed", 1, subscription_id="sub_1")])
    assert (deal.kind, deal.subscription_id) == ("order", "sub_1")


# --- set-based apply and merges ---------------------------------------------------------------


def test_apply_deal_facts_returns_only_changed_deals() -> None:
    existing = final([fact("purchase_completed", 0, order_id="1")])
    facts = [
        fact("cart_updated", 1, order_id="1"),  # late: changes only last activity
        fact("page_viewed", 2, order_id="2"),
        fact("product_added", 3, order_id="3"),
        fact("checkout_started", 4, order_id="3"),
    ]
    changed = apply_deal_facts(TENANT, {existing.key: existing}, facts)
    assert list(changed) == ["order:1", "order:3"]
    assert changed["order:3"].stage == "checkout"
    assert changed["order:1"].stage == "won"


def test_apply_deal_facts_skips_a_redelivered_fact() -> None:
    purchase = fact("purchase_completed", 0, amount=Decimal("5"))
    existing = final([purchase])
    assert apply_deal_facts(TENANT, {existing.key: existing}, [purchase]) == {}


def test_apply_deal_facts_equals_one_by_one() -> None:
    facts = [fact("product_added", 0), fact("checkout_started", 1), fact("purchase_completed", 2)]
    deal = final(facts[:1])
    changed = apply_deal_facts(TENANT, {deal.key: deal}, facts[1:])
    assert changed == {deal.key: final(facts)}


def test_move_deals_repoints_a_merged_profiles_deals() -> None:
    shadow_deal = final([fact("product_added", 0, profile_id=SHADOW)])
    moved = move_deals([shadow_deal], into_profile_id=JANE, company_id=ACME)
    assert [(deal.key, deal.profile_id, deal.company_id) for deal in moved] == [
        ("order:1001", JANE, ACME)
    ]


def test_move_deals_keeps_a_deals_company_when_the_survivor_has_none() -> None:
    deal = final([fact("product_added", 0, profile_id=SHADOW, company_id=ACME)])
    assert move_deals([deal], into_profile_id=JANE, company_id=None)[0].company_id == ACME


def test_move_deals_returns_nothing_when_nothing_changes() -> None:
    deal = final([fact("product_added", 0, profile_id=JANE, company_id=ACME)])
    assert move_deals([deal], into_profile_id=JANE, company_id=ACME) == []


# --- properties -------------------------------------------------------------------------------

order_facts = st.lists(
    st.builds(
        lambda event_type, minute, cents: (event_type, minute, cents),
        st.sampled_from(ORDER_EVENTS),
        st.integers(min_value=0, max_value=30),
        st.integers(min_value=0, max_value=100_000),
    ),
    min_size=1,
    max_size=12,
)


def _facts(specs: list[tuple[str, int, int]]) -> list[DealFact]:
    # A distinct event id per fact, as the log guarantees; amounts on every fact.
    return [
        fact(event_type, minute, seq=index, amount=Decimal(cents) / 100, currency="USD")
        for index, (event_type, minute, cents) in enumerate(specs)
    ]


@given(order_facts)
def test_stage_never_moves_backwards(specs: list[tuple[str, int, int]]) -> None:
    deal: Deal | None = None
    for item in _facts(specs):
        before = deal
        deal = apply_deal_fact(TENANT, deal, item)
        assert deal is not None
        if before is not None:
            assert STAGE_RANK[deal.stage] >= STAGE_RANK[before.stage]


@given(order_facts, st.data())
def test_final_stage_is_independent_of_order_and_duplicates(
    specs: list[tuple[str, int, int]], data: st.DataObject
) -> None:
    facts = _facts(specs)
    shuffled = data.draw(st.permutations(facts))
    repeated = data.draw(st.lists(st.sampled_from(facts), max_size=10))
    noisy = data.draw(st.permutations([*shuffled, *repeated]))
    expected = max((STAGE_BY_EVENT[item.event_type] for item in facts), key=STAGE_RANK.__getitem__)
    for variant in (facts, shuffled, noisy):
        deal = final(variant)
        assert deal.stage == expected
        assert (deal.cancelled, deal.first_seen_at, deal.last_activity_at) == (
            final(facts).cancelled,
            final(facts).first_seen_at,
            final(facts).last_activity_at,
        )


@given(order_facts, st.data())
def test_duplicates_never_change_a_deal(
    specs: list[tuple[str, int, int]], data: st.DataObject
) -> None:
    facts = _facts(specs)
    with_duplicates = list(facts)
    for item in data.draw(st.lists(st.sampled_from(facts), max_size=10)):
        # A redelivery comes after the original, anywhere later in the stream.
        earliest = with_duplicates.index(item) + 1
        at = data.draw(st.integers(min_value=earliest, max_value=len(with_duplicates)))
        with_duplicates.insert(at, item)
    assert final(with_duplicates) == final(facts)


@given(order_facts, st.data())
def test_amount_comes_from_the_newest_fact_of_the_latest_stage(
    specs: list[tuple[str, int, int]], data: st.DataObject
) -> None:
    facts = _facts(specs)
    priced = [item for item in facts if item.event_type != "order_refunded"]
    newest = max(
        priced,
        key=lambda item: (
            STAGE_RANK[STAGE_BY_EVENT[item.event_type]],
            item.occurred_at,
            item.event_id,
        ),
        default=None,
    )
    deal = final(data.draw(st.permutations(facts)))
    assert deal.amount == (newest.amount if newest is not None else None)
