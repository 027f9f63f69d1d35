"""Event types: snake_case names, aliases into the taxonomy, payload type checks."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeyline.ingest.taxonomy import (
    ALIASES,
    KNOWN_TYPES,
    normalize_event_type,
    to_snake_case,
    validate_payload,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Payment Processed", "payment_processed"),
        ("OrderCompleted", "order_completed"),
        ("add-to-cart", "add_to_cart"),
        ("  Added  to   Cart!", "added_to_cart"),
        ("HTTPRequestSent", "http_request_sent"),
        ("email_opened", "email_opened"),
        ("Añadir al carrito", "añadir_al_carrito"),
        ("!!!", ""),
    ],
)
def test_to_snake_case(name: str, expected: str) -> None:
    assert to_snake_case(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Order Completed", "purchase_completed"),
        ("purchase", "purchase_completed"),
        ("Checkout Completed", "purchase_completed"),
        ("Added to Cart", "product_added"),
        ("Product Added", "product_added"),
        ("add_to_cart", "product_added"),
        ("Removed from Cart", "product_removed"),
        ("page", "page_viewed"),
        ("page_view", "page_viewed"),
        ("Pageview", "page_viewed"),
        ("screen", "screen_viewed"),
        ("identify", "identified"),
        ("Product Viewed", "product_viewed"),
        ("view_item", "product_viewed"),
        ("begin_checkout", "checkout_started"),
        ("Checkout Started", "checkout_started"),
        ("Cart Updated", "cart_updated"),
        ("Order Refunded", "order_refunded"),
        ("Order Canceled", "order_cancelled"),
        ("Subscription Started", "subscription_created"),
        ("subscription_canceled", "subscription_cancelled"),
        ("Form Submission", "form_submitted"),
        ("Cart Abandoned", "purchase_abandoned"),
        ("Payment Processed", "payment_processed"),
        ("email_opened", "email_opened"),
    ],
)
def test_aliases_and_custom_names(name: str, expected: str) -> None:
    assert normalize_event_type(name) == expected


GOOD: dict[str, dict[str, Any]] = {
    "purchase_completed": {
        "product_id": "P-1",
        "product_name": "Hat",
        "category": "hats",
        "amount": 9.5,
        "currency": "USD",
        "payment_method": "card",
    },
    "purchase_abandoned": {
        "product_ids": ["P-1", 2],
        "cart_value": 10,
        "stage_abandoned": "checkout",
    },
    "product_viewed": {"product_id": 7, "product_name": "Hat", "category": "hats"},
    "product_asked": {"product_id": "P", "question": "size?", "channel": "whatsapp"},
    "interest_detected": {"category": "hats", "product_id": "P", "confidence": 0.7},
    "sentiment_detected": {"score": -0.2, "label": "neg", "context": "x"},
    "conversation_started": {"channel": "web", "context": "x"},
    "conversation_ended": {
        "channel": "web",
        "duration_seconds": 30,
        "message_count": 4,
        "sentiment_score": 0.1,
    },
    "campaign_delivered": {
        "campaign_id": "c",
        "campaign_name": "C",
        "product_id": "P",
        "channel": "email",
    },
    "campaign_engaged": {"campaign_id": "c", "engagement_type": "click"},
    "campaign_ignored": {"campaign_id": "c", "days_since_delivery": 3},
    "subscription_created": {"plan_id": "p", "plan_name": "Pro", "amount": 20},
    "subscription_cancelled": {"plan_id": "p", "reason": "price"},
    "form_submitted": {"form_id": "f", "form_name": "F", "responses": [{"q": "a"}]},
    "discount_requested": {"context": "x", "product_id": "P"},
    "discount_accepted": {"discount_percent": 10, "product_id": "P"},
    "agent_insight": {"insight_type": "x", "content": "y", "confidence": 1},
    "objection_raised": {"type": "price", "context": "x", "product_id": "P"},
    "product_added": {
        "order_id": 5,
        "products": [{"product_id": "P", "price": 1.5, "quantity": 2}],
    },
}


def test_every_lead_domain_type_is_known() -> None:
    assert set(GOOD) <= KNOWN_TYPES


@pytest.mark.parametrize("event_type", sorted(GOOD))
def test_good_payloads_pass(event_type: str) -> None:
    assert validate_payload(event_type, GOOD[event_type]) is None


@pytest.mark.parametrize(
    ("event_type", "payload", "field"),
    [
        ("purchase_completed", {"amount": "12.5"}, "amount"),
        ("purchase_completed", {"amount": True}, "amount"),
        ("purchase_completed", {"currency": {"code": "USD"}}, "currency"),
        ("purchase_abandoned", {"product_ids": "P-1"}, "product_ids"),
        ("purchase_abandoned", {"product_ids": [{"id": 1}]}, "product_ids"),
        ("form_submitted", {"responses": "yes"}, "responses"),
        ("conversation_ended", {"message_count": "4"}, "message_count"),
        ("product_viewed", {"product_id": 1.5}, "product_id"),
        ("product_added", {"products": "P"}, "products"),
        ("product_added", {"products": ["P"]}, "products[0]"),
        ("product_added", {"products": [{"price": 1}, {"price": "2"}]}, "products[1].price"),
        ("checkout_started", {"order_id": ["x"]}, "order_id"),
    ],
)
def test_wrong_types_name_the_field(event_type: str, payload: dict[str, Any], field: str) -> None:
    problem = validate_payload(event_type, payload)
    assert problem is not None
    assert problem[0] == field


def test_none_and_extra_fields_are_accepted() -> None:
    assert validate_payload("purchase_completed", {"amount": None, "coupon": {"x": 1}}) is None


def test_custom_types_are_not_checked() -> None:
    assert validate_payload("payment_processed", {"amount": "anything"}) is None


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=150))
def test_snake_case_is_idempotent_and_ascii_clean(name: str) -> None:
    once = to_snake_case(name)
    assert to_snake_case(once) == once
    assert re.fullmatch(r"[a-z0-9_]*", once)
    assert len(once) <= 100


@given(st.text(max_size=60))
def test_snake_case_is_idempotent_on_any_text(name: str) -> None:
    once = to_snake_case(name)
    assert to_snake_case(once) == once


@given(st.text(max_size=300))
def test_the_cache_of_short_names_answers_as_the_rules_do(name: str) -> None:
    """Short names come from a bounded cache, long ones are normalized each time: the same
    answer either way, the first time and the next."""
    first = normalize_event_type(name)
    assert normalize_event_type(name) == first
    assert first == ALIASES.get(to_snake_case(name), to_snake_case(name))
