"""Shopify adapter: HMAC verification and topic mapping over the captured fixtures, no I/O."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from functools import partial
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeyline.demo.signing import shopify_hmac
from journeyline.errors import InvalidPayload
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.taxonomy import validate_payload
from journeyline.webhooks.provider import Delivery, Mapped, Provider
from journeyline.webhooks.shopify import SHOPIFY
from tests.webhooks.mutation import (
    NOW,
    UNREADABLE_BODIES,
    check_fails_verification,
    check_maps_or_is_invalid,
    delivery,
    fixture_document,
    mutated,
    only_event,
    read,
    replaced,
)
from tests.webhooks.mutation import edited as edited_fixture
from tests.webhooks.signing import fixture

APP_SECRET = "shpss_app_client_secret"
ADMIN_SECRET = "store-admin-webhook-key"
EVENT_ID = "8d6c8a5e-0f44-4a0e-9c52-0d9a1f5c6b01"
WEBHOOK_ID = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"

# A refunds/create body in the shape of Shopify's documented example (no captured delivery is
# available): ids above 2**53, one successful and one failed refund transaction.
REFUND = b"""{
  "id": 890088186047892319,
  "order_id": 820982911946154508,
  "created_at": "2024-05-02T09:30:00-04:00",
  "note": "Damaged in transit",
  "restock": false,
  "user_id": 548380009,
  "refund_line_items": [
    {
      "id": 487817672276298627,
      "quantity": 1,
      "line_item_id": 487817672276298554,
      "subtotal": 199.0,
      "line_item": {
        "id": 487817672276298554,
        "product_id": 9007199254740993,
        "variant_id": 49148385,
        "sku": "IPOD2008RED",
        "name": "IPod Nano - 8gb - red",
        "price": "199.00",
        "quantity": 3
      }
    }
  ],
  "transactions": [
    {"id": 245135271310201786, "order_id": 820982911946154508, "kind": "refund",
     "status": "success", "amount": "150.10", "currency": "USD"},
    {"id": 245135271310201787, "order_id": 820982911946154508, "kind": "refund",
     "status": "failure", "amount": "48.90", "currency": "USD"},
    {"id": 245135271310201788, "order_id": 820982911946154508, "kind": "refund",
     "status": "success", "amount": "48.90", "currency": "USD"}
  ],
  "order_adjustments": []
}"""


def headers(
    topic: str,
    body: bytes,
    *,
    secret: str = APP_SECRET,
    event_id: str | None = EVENT_ID,
    triggered_at: str | None = None,
) -> dict[str, str]:
    """The headers Shopify sends (names lower-cased, as a Delivery holds them)."""
    sent = {
        "x-shopify-topic": topic,
        "x-shopify-hmac-sha256": shopify_hmac(secret, body),
        "x-shopify-shop-domain": "journeyline-test.myshopify.com",
        "x-shopify-api-version": "2025-07",
        "x-shopify-webhook-id": WEBHOOK_ID,
    }
    if event_id is not None:
        sent["x-shopify-event-id"] = event_id
    if triggered_at is not None:
        sent["x-shopify-triggered-at"] = triggered_at
    return sent


def signed(topic: str, body: bytes, **options: Any) -> Delivery:
    return delivery(body, headers(topic, body, **options))


load = partial(fixture_document, "shopify")
edited = partial(edited_fixture, "shopify")


def parse(topic: str, body: bytes) -> Mapped:
    return SHOPIFY.parse(signed(topic, body))


def parse_body(topic: str, body: bytes, **options: Any) -> CanonicalEvent:
    return only_event(SHOPIFY.parse(signed(topic, body, **options)))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# (fixture, topic, event type, payload fields, email, external_id, occurred_at, object id)
MAPPINGS: list[tuple[str, str, str, dict[str, object], str | None, str | None, str, str]] = [
    (
        "orders_paid.json",
        "orders/paid",
        "purchase_completed",
        {
            # The id, not admin_graphql_api_id (which ends ...102 in this capture).
            "order_id": "5324830114101",
            "amount": 2629.95,
            "total": 2629.95,
            "currency": "USD",
            "products": [
                {
                    "product_id": "8222223204662",
                    "variant_id": "44872881439030",
                    "sku": "sku-hosted-1",
                    "name": "The 3p Fulfilled Snowboard",
                    "price": 2629.95,
                    "quantity": 1,
                }
            ],
        },
        None,
        None,
        "2023-03-24T12:37:27-04:00",
        "5324830114101",
    ),
    (
        "orders_create.json",
        "orders/create",
        "order_created",
        {"order_id": "450789469", "amount": 409.94, "currency": "USD"},
        "bob.norman@hostmail.com",
        "shopify:207119551",
        "2008-01-10T11:00:00-05:00",
        "450789469",
    ),
    (
        "orders_create.json",
        "orders/cancelled",
        "order_cancelled",
        {"order_id": "450789469", "total": 409.94, "currency": "USD"},
        "bob.norman@hostmail.com",
        "shopify:207119551",
        "2008-01-10T11:00:00-05:00",
        "450789469",
    ),
    (
        "checkouts_create.json",
        "checkouts/create",
        "checkout_started",
        {
            "order_id": "68778783ad298f1c80c3bafcddeea02f",
            "checkout_token": "2a1ace52255252df566af0faaedfbfa7",
            "amount": 409.94,
            "currency": "USD",
        },
        "bob.norman@hostmail.com",
        "shopify:207119551",
        "2012-10-12T07:05:27-04:00",
        "450789469",
    ),
    (
        "checkouts_create.json",
        "checkouts/update",
        "checkout_started",
        {"order_id": "68778783ad298f1c80c3bafcddeea02f", "total": 409.94},
        "bob.norman@hostmail.com",
        "shopify:207119551",
        "2012-10-12T07:05:27-04:00",
        "450789469",
    ),
    (
        "customers_create.json",
        "customers/create",
        "identified",
        {"customer_id": "6972943892790"},
        "john@ensemble.com",
        "shopify:6972943892790",
        "2023-03-24T18:13:56-04:00",
        "6972943892790",
    ),
    (
        "customers_create_shopify_python_api.json",
        "customers/update",
        "identified",
        {"customer_id": "207119551"},
        "bob.norman@hostmail.com",
        "shopify:207119551",
        "2015-05-27T18:11:24-04:00",
        "207119551",
    ),
]
FIXTURES = sorted({(name, topic) for name, topic, *_ in MAPPINGS})


def test_the_provider_meets_the_contract() -> None:
    provider: Provider = SHOPIFY
    assert provider.name == "shopify"


@pytest.mark.parametrize(("name", "topic"), FIXTURES)
def test_each_fixture_verifies_with_its_hmac(name: str, topic: str) -> None:
    SHOPIFY.verify(signed(topic, fixture("shopify", name)), [APP_SECRET], NOW)


@pytest.mark.parametrize(
    ("name", "topic", "event_type", "fields", "email", "external_id", "occurred", "object_id"),
    MAPPINGS,
)
def test_each_fixture_maps_to_its_canonical_event(
    name: str,
    topic: str,
    event_type: str,
    fields: dict[str, object],
    email: str | None,
    external_id: str | None,
    occurred: str,
    object_id: str,
) -> None:
    body = fixture("shopify", name)
    mapped = SHOPIFY.parse(signed(topic, body))
    event = only_event(mapped)
    assert (mapped.delivery_key, mapped.kind) == (EVENT_ID, topic)
    assert (event.event_type, event.event_name) == (event_type, topic)
    assert {field: event.payload.get(field) for field in fields} == fields
    assert (event.email, event.external_id) == (email, external_id)
    assert (event.occurred_at, event.received_at) == (utc(occurred), NOW)
    assert event.occurred_at is not None
    assert event.occurred_at.tzinfo == UTC
    assert (event.external_event_id, event.object_id_ref) == (EVENT_ID, object_id)
    assert (event.source, event.source_type, event.allow_no_identity) == (
        "shopify",
        "external",
        True,
    )
    assert event.raw_payload == orjson.loads(body)


@pytest.mark.parametrize(("name", "topic"), [*FIXTURES, ("refund", "refunds/create")])
def test_mapped_payloads_pass_the_taxonomy_checks(name: str, topic: str) -> None:
    body = REFUND if name == "refund" else fixture("shopify", name)
    event = parse_body(topic, body)
    assert validate_payload(event.event_type, event.payload) is None


def test_orders_paid_payload_is_exactly_the_order() -> None:
    event = parse_body("orders/paid", fixture("shopify", "orders_paid.json"))
    assert event.payload == {
        "order_id": "5324830114101",
        "order_name": "#1010",
        "amount": 2629.95,
        "total": 2629.95,
        "subtotal": 2629.95,
        "tax": 0.0,
        "discount": 0.0,
        "currency": "USD",
        "financial_status": "paid",
        "payment_method": "manual",
        "checkout_token": "2b9ba639fb81a1fb61a02be4c95459b5",
        "checkout_id": "36646099517750",
        "products": [
            {
                "product_id": "8222223204662",
                "variant_id": "44872881439030",
                "sku": "sku-hosted-1",
                "name": "The 3p Fulfilled Snowboard",
                "price": 2629.95,
                "quantity": 1,
            }
        ],
    }


def test_an_empty_order_email_is_no_identity() -> None:
    # The captured orders/paid has `"email": ""` and no customer: nobody to attribute it to.
    event = parse_body("orders/paid", fixture("shopify", "orders_paid.json"))
    assert (event.email, event.phone, event.external_id) == (None, None, None)


def test_order_line_items_become_products() -> None:
    event = parse_body("orders/create", fixture("shopify", "orders_create.json"))
    assert event.payload["products"] == [
        {
            "product_id": "632910392",
            "variant_id": variant,
            "sku": sku,
            "name": f"IPod Nano - 8gb - {colour}",
            "price": 199.0,
            "quantity": 1,
        }
        for variant, sku, colour in [
            ("39072856", "IPOD2008GREEN", "green"),
            ("49148385", "IPOD2008RED", "red"),
            ("457924702", "IPOD2008BLACK", "black"),
        ]
    ]
    assert event.payload["cart_token"] == "68778783ad298f1c80c3bafcddeea02f"


def test_an_order_joins_its_checkout_by_cart_token() -> None:
    checkout = parse_body("checkouts/create", fixture("shopify", "checkouts_create.json"))
    order = parse_body("orders/create", fixture("shopify", "orders_create.json"))
    assert checkout.payload["order_id"] == order.payload["cart_token"]


def test_a_checkout_without_cart_token_is_keyed_by_its_token() -> None:
    body = edited("checkouts_create.json", ("cart_token",), None)
    payload = parse_body("checkouts/create", body).payload
    assert payload["order_id"] == "2a1ace52255252df566af0faaedfbfa7"


def test_checkout_line_items_use_the_title_when_there_is_no_name() -> None:
    products = parse_body("checkouts/create", fixture("shopify", "checkouts_create.json")).payload
    assert [(item["name"], item["sku"]) for item in products["products"]] == [
        ("IPod Nano - 8GB", "IPOD2008RED"),
        ("IPod Nano - 8GB", "IPOD2008PINK"),
    ]


def test_a_cancellation_carries_its_reason() -> None:
    body = edited("orders_create.json", ("cancel_reason",), "customer")
    assert parse_body("orders/cancelled", body).payload["reason"] == "customer"


def test_a_refund_is_keyed_by_its_order_and_sums_successful_transactions() -> None:
    event = parse_body("refunds/create", REFUND)
    assert (event.event_type, event.event_name) == ("order_refunded", "refunds/create")
    assert event.payload == {
        "order_id": "820982911946154508",
        "refund_id": "890088186047892319",
        "amount": 199.0,
        "currency": "USD",
        "reason": "Damaged in transit",
        "refunded_products": [
            {
                "product_id": "9007199254740993",
                "variant_id": "49148385",
                "sku": "IPOD2008RED",
                "name": "IPod Nano - 8gb - red",
                "price": 199.0,
                "quantity": 1,
            }
        ],
    }
    assert event.object_id_ref == "890088186047892319"
    # No updated_at on a refund: its created_at.
    assert event.occurred_at == utc("2024-05-02T09:30:00-04:00")


def test_customer_attributes_become_traits_without_nulls() -> None:
    event = parse_body("customers/create", fixture("shopify", "customers_create.json"))
    assert event.traits == {
        "first_name": "John",
        "last_name": "Doe",
        "name": "John Doe",
        "email": "john@ensemble.com",
        "accepts_marketing": False,
        "verified_email": True,
        "tags": ["tag", "VIP"],
        "note": "Some notes",
        "currency": "USD",
        "orders_count": 0,
        "total_spent": 0.0,
        "company": "Company Name",
        "address": {
            "street": "Delaware",
            "city": "Calforina",
            "state": "Delaware",
            "postal_code": "19931",
            "country": "United States",
            "country_code": "US",
        },
    }


def test_empty_tags_and_null_company_are_left_out() -> None:
    event = parse_body(
        "customers/update", fixture("shopify", "customers_create_shopify_python_api.json")
    )
    assert event.traits is not None
    assert "tags" not in event.traits
    assert "company" not in event.traits
    assert "note" not in event.traits
    assert event.traits["name"] == "Bob Norman"


@pytest.mark.parametrize(("state", "accepts"), [("subscribed", True), ("unsubscribed", False)])
def test_marketing_consent_stands_in_for_accepts_marketing(state: str, accepts: bool) -> None:
    document = load("customers_create.json")
    del document["accepts_marketing"]
    document["email_marketing_consent"]["state"] = state
    event = parse_body("customers/create", orjson.dumps(document))
    assert event.traits is not None
    assert event.traits["accepts_marketing"] is accepts


def test_a_customer_phone_is_an_identifier() -> None:
    body = edited("customers_create.json", ("phone",), "+16135550100")
    event = parse_body("customers/create", body)
    assert event.phone == "+16135550100"
    assert event.traits is not None
    assert event.traits["phone"] == "+16135550100"


def test_the_order_contact_is_preferred_to_the_customer() -> None:
    document = load("orders_create.json")
    document["email"] = ""
    document["contact_email"] = "contact@example.com"
    document["phone"] = "+15555550123"
    event = parse_body("orders/paid", orjson.dumps(document))
    assert (event.email, event.phone) == ("contact@example.com", "+15555550123")


def test_ids_above_2_pow_53_are_kept_exactly() -> None:
    body = (
        fixture("shopify", "orders_create.json")
        .replace(b'"id": 450789469', b'"id": 820982911946154508', 1)
        .replace(b'"id": 207119551', b'"id": 9007199254740993')
        .replace(b'"product_id": 632910392', b'"product_id": 9007199254740995')
    )
    event = parse_body("orders/paid", body)
    assert event.payload["order_id"] == "820982911946154508"
    assert event.object_id_ref == "820982911946154508"
    assert event.external_id == "shopify:9007199254740993"
    assert {item["product_id"] for item in event.payload["products"]} == {"9007199254740995"}
    assert event.raw_payload is not None
    assert event.raw_payload["id"] == 820982911946154508


@pytest.mark.parametrize(
    ("triggered_at", "expected"),
    [
        ("2023-03-29T18:00:27.877041743Z", datetime(2023, 3, 29, 18, 0, 27, 877041, tzinfo=UTC)),
        ("2023-03-29T14:00:27-04:00", datetime(2023, 3, 29, 18, 0, 27, tzinfo=UTC)),
        ("2023-03-29T18:00:27", datetime(2023, 3, 29, 18, 0, 27, tzinfo=UTC)),
        # Unreadable: the resource's updated_at instead.
        ("yesterday", utc("2023-03-24T12:37:27-04:00")),
        ("9999-12-31T23:59:59-05:00", utc("2023-03-24T12:37:27-04:00")),
    ],
)
def test_occurred_at_is_when_shopify_triggered_the_webhook(
    triggered_at: str, expected: datetime
) -> None:
    event = parse_body(
        "orders/paid", fixture("shopify", "orders_paid.json"), triggered_at=triggered_at
    )
    assert event.occurred_at == expected


def test_occurred_at_falls_back_to_created_at() -> None:
    body = edited("orders_paid.json", ("updated_at",), None)
    assert parse_body("orders/paid", body).occurred_at == utc("2023-03-24T12:37:26-04:00")


def test_the_delivery_key_falls_back_to_the_webhook_id() -> None:
    body = fixture("shopify", "orders_paid.json")
    mapped = SHOPIFY.parse(signed("orders/paid", body, event_id=None))
    assert mapped.delivery_key == WEBHOOK_ID
    assert only_event(mapped).external_event_id == WEBHOOK_ID


def test_without_any_delivery_id_there_is_no_key() -> None:
    body = fixture("shopify", "orders_paid.json")
    sent = headers("orders/paid", body, event_id=None)
    del sent["x-shopify-webhook-id"]
    mapped = SHOPIFY.parse(delivery(body, sent))
    assert mapped.delivery_key is None
    assert only_event(mapped).external_event_id is None


@pytest.mark.parametrize("topic", ["products/update", "app/uninstalled", "orders/fulfilled"])
def test_an_unmapped_topic_maps_to_no_events(topic: str) -> None:
    mapped = SHOPIFY.parse(signed(topic, fixture("shopify", "orders_paid.json")))
    assert (mapped.delivery_key, mapped.kind, mapped.events) == (EVENT_ID, topic, [])


BODY = fixture("shopify", "orders_paid.json")
GOOD = headers("orders/paid", BODY)


def with_hmac(value: str | None) -> Delivery:
    sent = dict(GOOD)
    if value is None:
        del sent["x-shopify-hmac-sha256"]
    else:
        sent["x-shopify-hmac-sha256"] = value
    return delivery(BODY, sent)


REJECTED: list[tuple[str, Delivery]] = [
    ("tampered body", delivery(BODY.replace(b"2629.95", b"1.00"), GOOD)),
    ("wrong secret", signed("orders/paid", BODY, secret="someone-else")),
    ("missing header", with_hmac(None)),
    ("blank header", with_hmac("")),
    ("not base64", with_hmac("not base64 at all!")),
    ("hex digest", with_hmac(GOOD["x-shopify-hmac-sha256"].encode().hex())),
    ("short digest", with_hmac(base64.b64encode(b"short").decode())),
    ("non-ASCII", with_hmac("é" * 44)),
]


@pytest.mark.parametrize(("case", "bad"), REJECTED, ids=[case for case, _ in REJECTED])
def test_unprovable_deliveries_fail_verification(case: str, bad: Delivery) -> None:
    check_fails_verification(SHOPIFY, bad, [APP_SECRET])


def test_the_second_secret_may_match() -> None:
    # App webhooks and store-admin webhooks are signed with different keys.
    SHOPIFY.verify(
        signed("orders/paid", BODY, secret=ADMIN_SECRET), [APP_SECRET, ADMIN_SECRET], NOW
    )


@pytest.mark.parametrize("secrets", [[], [""]])
def test_no_usable_secret_never_verifies(secrets: list[str]) -> None:
    check_fails_verification(SHOPIFY, signed("orders/paid", BODY, secret=""), secrets)


@pytest.mark.parametrize("body", UNREADABLE_BODIES)
def test_an_unreadable_body_is_invalid_payload(body: bytes) -> None:
    with pytest.raises(InvalidPayload):
        SHOPIFY.parse(signed("orders/paid", body))


def test_a_delivery_without_topic_is_invalid_payload() -> None:
    sent = dict(GOOD)
    del sent["x-shopify-topic"]
    with pytest.raises(InvalidPayload):
        SHOPIFY.parse(delivery(BODY, sent))


# (case, fixture, topic, path, value, what to read: an event attribute or payload.<field>, expected)
TOLERATED: list[tuple[str, str, str, tuple[str | int, ...], object, str, object]] = [
    ("total is not money", "orders_paid.json", "orders/paid", ("total_price",), "abc", "payload.amount", None),
    ("total is NaN text", "orders_paid.json", "orders/paid", ("total_price",), "NaN", "payload.amount", None),
    ("total is a number", "orders_paid.json", "orders/paid", ("total_price",), 12.5, "payload.amount", 12.5),
    ("total is a bool", "orders_paid.json", "orders/paid", ("total_price",), True, "payload.amount", None),
    ("id is a float", "orders_paid.json", "orders/paid", ("id",), 1.5e19, "payload.order_id", None),
    ("id is a list", "orders_paid.json", "orders/paid", ("id",), [1], "object_id_ref", None),
    ("currency is a number", "orders_paid.json", "orders/paid", ("currency",), 840, "payload.currency", None),
    ("line items is text", "orders_paid.json", "orders/paid", ("line_items",), "x", "payload.products", None),
    ("line item is null", "orders_paid.json", "orders/paid", ("line_items", 0), None, "payload.products", None),
    ("quantity is text", "orders_paid.json", "orders/paid", ("line_items", 0, "quantity"), "1", "payload.products", [{"product_id": "8222223204662", "variant_id": "44872881439030", "sku": "sku-hosted-1", "name": "The 3p Fulfilled Snowboard", "price": 2629.95}]),
    ("customer is a list", "orders_create.json", "orders/create", ("customer",), [], "external_id", None),
    ("customer id is a bool", "orders_create.json", "orders/create", ("customer", "id"), True, "external_id", None),
    ("email is a number", "orders_create.json", "orders/create", ("email",), 5, "email", "bob.norman@hostmail.com"),
    ("updated_at is a number", "orders_paid.json", "orders/paid", ("updated_at",), 5, "occurred_at", utc("2023-03-24T12:37:26-04:00")),
    ("cart token is a number", "checkouts_create.json", "checkouts/create", ("cart_token",), 7, "payload.order_id", "2a1ace52255252df566af0faaedfbfa7"),
    ("tags is a list", "customers_create.json", "customers/create", ("tags",), ["VIP"], "traits.tags", None),
    ("address is text", "customers_create.json", "customers/create", ("default_address",), "x", "traits.address", None),
    ("no marketing flag at all", "customers_create_shopify_python_api.json", "customers/create", ("accepts_marketing",), None, "traits.accepts_marketing", None),
    ("transactions is an object", "refund", "refunds/create", ("transactions",), {}, "payload.amount", None),
    ("transaction amount is junk", "refund", "refunds/create", ("transactions", 0, "amount"), "1e999", "payload.amount", 48.9),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "name", "topic", "path", "value", "field", "expected"),
    TOLERATED,
    ids=[case[0] for case in TOLERATED],
)
def test_a_field_of_the_wrong_type_is_skipped(
    case: str,
    name: str,
    topic: str,
    path: tuple[str | int, ...],
    value: object,
    field: str,
    expected: object,
) -> None:
    document = orjson.loads(REFUND) if name == "refund" else load(name)
    event = parse_body(topic, orjson.dumps(replaced(document, path, value)))
    assert read(event, field) == expected
    assert validate_payload(event.event_type, event.payload) is None


TOPICS = [*FIXTURES, ("refund", "refunds/create")]


@settings(max_examples=300, deadline=None)
@given(case=st.sampled_from(TOPICS), data=st.data())
def test_a_mutated_body_raises_nothing_but_invalid_payload(
    case: tuple[str, str], data: st.DataObject
) -> None:
    name, topic = case
    document = orjson.loads(REFUND) if name == "refund" else load(name)
    body = orjson.dumps(data.draw(mutated(document)))
    check_maps_or_is_invalid(partial(parse, topic), body)


@given(topic=st.sampled_from(sorted({topic for _, topic in TOPICS})), body=st.binary(max_size=200))
def test_arbitrary_bytes_parse_or_are_invalid_payload(topic: str, body: bytes) -> None:
    check_maps_or_is_invalid(partial(parse, topic), body)
