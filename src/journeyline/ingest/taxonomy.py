"""Event types: the Lead Domain taxonomy plus web/commerce types, aliases, payload type checks."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache

MAX_TYPE_LENGTH = 100


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_id(value: object) -> bool:
    """Ids arrive as strings or as numbers (Shopify, Hotmart send numeric ids)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _is_id_list(value: object) -> bool:
    return isinstance(value, list) and all(_is_id(item) for item in value)


def _is_list(value: object) -> bool:
    return isinstance(value, list)


Check = tuple[Callable[[object], bool], str]
NUMBER: Check = (_is_number, "a number")
TEXT: Check = (_is_text, "a string")
ID: Check = (_is_id, "a string or an integer id")
ID_LIST: Check = (_is_id_list, "a list of ids")
LIST: Check = (_is_list, "a list")

# The Lead Domain taxonomy (seeds/001) with its payload fields, plus web and commerce types.
SCHEMAS: dict[str, dict[str, Check]] = {
    "purchase_completed": {
        "product_id": ID,
        "product_name": TEXT,
        "category": TEXT,
        "amount": NUMBER,
        "currency": TEXT,
        "payment_method": TEXT,
    },
    "purchase_abandoned": {"product_ids": ID_LIST, "cart_value": NUMBER, "stage_abandoned": TEXT},
    "product_viewed": {"product_id": ID, "product_name": TEXT, "category": TEXT},
    "product_asked": {"product_id": ID, "question": TEXT, "channel": TEXT},
    "interest_detected": {"category": TEXT, "product_id": ID, "confidence": NUMBER},
    "sentiment_detected": {"score": NUMBER, "label": TEXT, "context": TEXT},
    "conversation_started": {"channel": TEXT, "context": TEXT},
    "conversation_ended": {
        "channel": TEXT,
        "duration_seconds": NUMBER,
        "message_count": NUMBER,
        "sentiment_score": NUMBER,
    },
    "campaign_delivered": {
        "campaign_id": ID,
        "campaign_name": TEXT,
        "product_id": ID,
        "channel": TEXT,
    },
    "campaign_engaged": {"campaign_id": ID, "engagement_type": TEXT},
    "campaign_ignored": {"campaign_id": ID, "days_since_delivery": NUMBER},
    "subscription_created": {"plan_id": ID, "plan_name": TEXT, "amount": NUMBER},
    "subscription_cancelled": {"plan_id": ID, "reason": TEXT},
    "form_submitted": {"form_id": ID, "form_name": TEXT, "responses": LIST},
    "discount_requested": {"context": TEXT, "product_id": ID},
    "discount_accepted": {"discount_percent": NUMBER, "product_id": ID},
    "agent_insight": {"insight_type": TEXT, "content": TEXT, "confidence": NUMBER},
    "objection_raised": {"type": TEXT, "context": TEXT, "product_id": ID},
    "page_viewed": {},
    "screen_viewed": {},
    "identified": {},
    "product_added": {},
    "product_removed": {},
    "cart_updated": {},
    "checkout_started": {},
    "order_refunded": {},
    "order_cancelled": {},
    "payment_succeeded": {},
}
# Commerce fields checked on every known type where present.
COMMERCE: dict[str, Check] = {
    "order_id": ID,
    "price": NUMBER,
    "total": NUMBER,
    "revenue": NUMBER,
    "value": NUMBER,
    "quantity": NUMBER,
}
PRODUCT_ITEM: dict[str, Check] = {
    "product_id": ID,
    "sku": ID,
    "name": TEXT,
    "price": NUMBER,
    "quantity": NUMBER,
    "category": TEXT,
}
KNOWN_TYPES: frozenset[str] = frozenset(SCHEMAS)

ALIASES: dict[str, str] = {
    **dict.fromkeys(
        ["order_completed", "purchase", "purchased", "checkout_completed", "order_placed"],
        "purchase_completed",
    ),
    **dict.fromkeys(["added_to_cart", "add_to_cart", "cart_add"], "product_added"),
    **dict.fromkeys(["removed_from_cart", "remove_from_cart"], "product_removed"),
    **dict.fromkeys(["page", "page_view", "pageview", "viewed_page"], "page_viewed"),
    **dict.fromkeys(["screen", "screen_view"], "screen_viewed"),
    "identify": "identified",
    **dict.fromkeys(["viewed_product", "view_item"], "product_viewed"),
    **dict.fromkeys(["begin_checkout", "initiate_checkout"], "checkout_started"),
    "update_cart": "cart_updated",
    **dict.fromkeys(["refund", "refunded"], "order_refunded"),
    **dict.fromkeys(["order_canceled", "cancelled_order"], "order_cancelled"),
    "subscription_started": "subscription_created",
    **dict.fromkeys(["subscription_canceled", "subscription_ended"], "subscription_cancelled"),
    **dict.fromkeys(["form_submit", "form_submission"], "form_submitted"),
    **dict.fromkeys(["abandoned_cart", "cart_abandoned"], "purchase_abandoned"),
    "payment_success": "payment_succeeded",
}

_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_SEPARATORS = re.compile(r"[\W_]+", re.UNICODE)


def _snake_once(name: str) -> str:
    text = unicodedata.normalize("NFKC", name)
    text = _ACRONYM.sub(r"\1_\2", text)
    text = _CAMEL.sub(r"\1_\2", text)
    text = unicodedata.normalize("NFKC", text.lower())
    text = _SEPARATORS.sub("_", text).strip("_")
    return text[:MAX_TYPE_LENGTH].rstrip("_")


def to_snake_case(name: str) -> str:
    """ "Payment Processed" -> payment_processed; "OrderCompleted" -> order_completed."""
    # Case folding and NFKC can each undo the other on rare characters: iterate to a fixpoint
    # so the result is stable (a stored type must normalize to itself).
    text = _snake_once(name)
    for _ in range(3):
        again = _snake_once(text)
        if again == text:
            break
        text = again
    return text


def _normalized(name: str) -> str:
    snake = to_snake_case(name)
    return ALIASES.get(snake, snake)


# Pure, and senders repeat the same few hundred names: short ones are cached (a bounded cache
# of bounded keys: a hostile stream of long unique names cannot grow it).
_normalized_cached = lru_cache(maxsize=4096)(_normalized)
CACHED_NAME_LENGTH = 200


def normalize_event_type(name: str) -> str:
    if len(name) <= CACHED_NAME_LENGTH:
        return _normalized_cached(name)
    return _normalized(name)


def _check_fields(
    payload: Mapping[str, object], checks: Mapping[str, Check], prefix: str
) -> tuple[str, str] | None:
    for field, (accepts, expected) in checks.items():
        value = payload.get(field)
        if value is not None and not accepts(value):
            return f"{prefix}{field}", f"{prefix}{field} must be {expected}"
    return None


def validate_payload(event_type: str, payload: Mapping[str, object]) -> tuple[str, str] | None:
    """(field, message) for the first wrongly-typed field of a known type; None when fine."""
    schema = SCHEMAS.get(event_type)
    if schema is None:
        return None
    problem = _check_fields(payload, {**COMMERCE, **schema}, "")
    if problem is not None:
        return problem
    products = payload.get("products")
    if products is None:
        return None
    if not isinstance(products, list):
        return "products", "products must be a list of objects"
    for index, item in enumerate(products):
        if not isinstance(item, dict):
            return f"products[{index}]", f"products[{index}] must be an object"
        problem = _check_fields(item, PRODUCT_ITEM, f"products[{index}].")
        if problem is not None:
            return problem
    return None
