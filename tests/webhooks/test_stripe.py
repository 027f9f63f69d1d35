"""Stripe adapter: signature verification and event mapping over the captured fixtures, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeyline.demo.signing import stripe_signature
from journeyline.errors import InvalidPayload
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.taxonomy import validate_payload
from journeyline.webhooks.provider import Delivery, Mapped, Provider, VerificationFailed
from journeyline.webhooks.stripe import STRIPE
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
)
from tests.webhooks.mutation import edited as edited_fixture
from tests.webhooks.signing import fixture

SECRET = "whsec_journeyline_test_secret"
load = partial(fixture_document, "stripe")
edited = partial(edited_fixture, "stripe")


def at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


def signed(body: bytes, *, secret: str = SECRET, at_time: datetime = NOW) -> Delivery:
    header = stripe_signature(secret, body, int(at_time.timestamp()))
    return delivery(body, {"stripe-signature": header})


def parse(body: bytes) -> Mapped:
    return STRIPE.parse(delivery(body))


def parse_body(body: bytes) -> CanonicalEvent:
    return only_event(parse(body))


FIXTURES = [
    "checkout.session.completed.json",
    "invoice.paid.json",
    "payment_intent.succeeded.json",
    "customer.subscription.created.json",
    "customer.subscription.deleted.json",
    "charge.refunded.json",
]

# (fixture, event type, payload fields, email, external_id, occurred_at, delivery key, object id)
MAPPINGS: list[tuple[str, str, dict[str, object], str | None, str | None, int, str, str]] = [
    (
        "checkout.session.completed.json",
        "purchase_completed",
        {
            "order_id": "cs_live_9RBjcHiy2i5p99Tf1MYM90c3SHK1grU0E6Ae6pKWR2KPA4ZiuKiB2X1Y3X",
            "amount": 9.99,
            "total": 9.99,
            "currency": "EUR",
            "payment_intent_id": "pi_1IqxJOJDPojXS6LN9uOebAea",
        },
        "billz@supabase.io",
        "stripe:cus_IhGfebO16cMIGN",
        1619697430,
        "evt_T8nSaZqtPudigUMqnnbY4D4v",
        "cs_live_9RBjcHiy2i5p99Tf1MYM90c3SHK1grU0E6Ae6pKWR2KPA4ZiuKiB2X1Y3X",
    ),
    (
        "invoice.paid.json",
        "purchase_completed",
        {
            "order_id": "in_1KJqKBJDPojXS6LNJbvLUgEy",
            "amount": 0.0,
            "currency": "USD",
            "subscription_id": "sub_JsuPyCPhXWfZar",
            "products": [
                {
                    "product_id": "prod_Ip4vqwv3EJ7Mi0",
                    "price_id": "price_1IDQm5JDPojXS6LNM31hxKzp",
                    "name": "1 \u00d7 Free tier (at $0.00 / month)",
                    "price": 0.0,
                    "quantity": 1,
                }
            ],
        },
        None,
        "stripe:cus_JsuO3bmrj0QlAw",
        1642649111,
        "evt_1KJrGtJDPojXS6LN15fcthM3",
        "in_1KJqKBJDPojXS6LNJbvLUgEy",
    ),
    (
        "payment_intent.succeeded.json",
        "payment_succeeded",
        {"payment_intent_id": "pi_1IqxJOJDPojXS6LN9uOebAea", "amount": 10.0, "currency": "USD"},
        None,
        None,
        1619697430,
        "evt_1IlYUUJDPojXS6LN7NEWYSm2",
        "pi_1IqxJOJDPojXS6LN9uOebAea",
    ),
    (
        "customer.subscription.created.json",
        "subscription_created",
        {
            "plan_id": "price_1IDQm5JDPojXS6LNM31hxKzp",
            "amount": 0.0,
            "currency": "USD",
            "interval": "month",
            "subscription_id": "sub_JdIzvfy6o5GZRd",
        },
        None,
        "stripe:cus_IhGfebO16cMIGN",
        1623148918,
        "evt_1J02NfJDPojXS6LNawmt1X8q",
        "sub_JdIzvfy6o5GZRd",
    ),
    (
        "customer.subscription.deleted.json",
        "subscription_cancelled",
        {"plan_id": "price_1IDQm5JDPojXS6LNM31hxKzp", "subscription_id": "sub_JdIzvfy6o5GZRd"},
        None,
        "stripe:cus_IhGfebO16cMIGN",
        1623149102,
        "evt_1J02QdJDPojXS6LNnOJB09Xb",
        "sub_JdIzvfy6o5GZRd",
    ),
    (
        "charge.refunded.json",
        "order_refunded",
        {
            "order_id": "pi_3Kl36gJDPojXS6LN02fQVtKR",
            "charge_id": "ch_3Kl36gJDPojXS6LN0DCM4A8l",
            "amount": 25.0,
            "currency": "USD",
        },
        None,
        "stripe:cus_J7Mkgr8mvbl1eK",
        1619701111,
        "evt_3KtQThJDPojXS6LN0E06aNxq",
        "ch_3Kl36gJDPojXS6LN0DCM4A8l",
    ),
]


def test_the_provider_meets_the_contract() -> None:
    provider: Provider = STRIPE
    assert provider.name == "stripe"


@pytest.mark.parametrize("name", FIXTURES)
def test_each_fixture_verifies_with_its_signature(name: str) -> None:
    STRIPE.verify(signed(fixture("stripe", name)), [SECRET], NOW)


@pytest.mark.parametrize(
    ("name", "event_type", "fields", "email", "external_id", "created", "key", "object_id"),
    MAPPINGS,
)
def test_each_fixture_maps_to_its_canonical_event(
    name: str,
    event_type: str,
    fields: dict[str, object],
    email: str | None,
    external_id: str | None,
    created: int,
    key: str,
    object_id: str,
) -> None:
    body = fixture("stripe", name)
    mapped = STRIPE.parse(signed(body))
    event = only_event(mapped)
    kind = name.removesuffix(".json")
    assert (mapped.delivery_key, mapped.kind) == (key, kind)
    assert (event.event_type, event.event_name) == (event_type, kind)
    assert {field: event.payload.get(field) for field in fields} == fields
    assert (event.email, event.external_id) == (email, external_id)
    assert (event.occurred_at, event.received_at) == (at(created), NOW)
    assert (event.external_event_id, event.object_id_ref) == (key, object_id)
    assert (event.source, event.source_type, event.allow_no_identity) == (
        "stripe",
        "external",
        True,
    )
    assert event.raw_payload == orjson.loads(body)


@pytest.mark.parametrize("name", FIXTURES)
def test_mapped_payloads_pass_the_taxonomy_checks(name: str) -> None:
    event = parse_body(fixture("stripe", name))
    assert validate_payload(event.event_type, event.payload) is None


def test_checkout_payload_is_exactly_the_order() -> None:
    event = parse_body(fixture("stripe", "checkout.session.completed.json"))
    assert event.payload == {
        "order_id": "cs_live_9RBjcHiy2i5p99Tf1MYM90c3SHK1grU0E6Ae6pKWR2KPA4ZiuKiB2X1Y3X",
        "amount": 9.99,
        "total": 9.99,
        "currency": "EUR",
        "payment_intent_id": "pi_1IqxJOJDPojXS6LN9uOebAea",
        "invoice_id": "in_1KJqKBJDPojXS6LNJbvLUgEy",
        "mode": "payment",
    }


BODY = fixture("stripe", "checkout.session.completed.json")
NOW_T = int(NOW.timestamp())
DIGEST = stripe_signature(SECRET, BODY, NOW_T).split("v1=")[1]


def body_with_header(header: str, body: bytes = BODY) -> Delivery:
    return delivery(body, {"stripe-signature": header})


REJECTED: list[tuple[str, Delivery]] = [
    ("tampered body", body_with_header(f"t={NOW_T},v1={DIGEST}", BODY.replace(b"999", b"998", 1))),
    ("wrong secret", signed(BODY, secret="whsec_someone_else")),
    ("missing header", delivery(BODY)),
    ("blank header", body_with_header("  ")),
    ("no timestamp", body_with_header(f"v1={DIGEST}")),
    ("no v1 signature", body_with_header(f"t={NOW_T}")),
    ("only a v0 signature", body_with_header(f"t={NOW_T},v0={DIGEST}")),
    ("non-numeric timestamp", body_with_header(f"t=yesterday,v1={DIGEST}")),
    ("negative timestamp", body_with_header(f"t=-{NOW_T},v1={DIGEST}")),
    ("two timestamps", body_with_header(f"t={NOW_T},t={NOW_T},v1={DIGEST}")),
    ("huge timestamp", body_with_header(f"t={'9' * 5000},v1={DIGEST}")),
    ("garbage", body_with_header("not a signature header")),
    ("upper-case digest", body_with_header(f"t={NOW_T},v1={DIGEST.upper()}")),
    ("stale", signed(BODY, at_time=NOW - timedelta(seconds=301))),
    ("future", signed(BODY, at_time=NOW + timedelta(seconds=301))),
]


@pytest.mark.parametrize(("case", "bad"), REJECTED, ids=[case for case, _ in REJECTED])
def test_unprovable_deliveries_fail_verification(case: str, bad: Delivery) -> None:
    check_fails_verification(STRIPE, bad, [SECRET])


@pytest.mark.parametrize("offset", [timedelta(seconds=-301), timedelta(hours=2)])
def test_a_stale_or_future_timestamp_is_named(offset: timedelta) -> None:
    with pytest.raises(VerificationFailed) as raised:
        STRIPE.verify(signed(BODY, at_time=NOW + offset), [SECRET], NOW)
    assert raised.value.reason == "timestamp outside the tolerance"


@pytest.mark.parametrize("offset", [timedelta(seconds=-300), timedelta(seconds=300)])
def test_a_timestamp_at_the_tolerance_verifies(offset: timedelta) -> None:
    STRIPE.verify(signed(BODY, at_time=NOW + offset), [SECRET], NOW)


def test_one_matching_v1_among_several_verifies() -> None:
    # During a secret roll Stripe signs with the old and the new secret; v0 is a test-mode scheme.
    other = stripe_signature("whsec_rolled", BODY, NOW_T).split("v1=")[1]
    header = f"t={NOW_T},v1={other},v1={DIGEST},v0={'0' * 64}"
    STRIPE.verify(body_with_header(header), [SECRET], NOW)


def test_spaces_around_the_header_items_are_tolerated() -> None:
    STRIPE.verify(body_with_header(f" t={NOW_T}, v1={DIGEST} "), [SECRET], NOW)


def test_any_configured_secret_may_match() -> None:
    STRIPE.verify(signed(BODY), ["whsec_previous", SECRET], NOW)


@pytest.mark.parametrize("secrets", [[], [""]])
def test_no_usable_secret_never_verifies(secrets: list[str]) -> None:
    unkeyed = stripe_signature("", BODY, NOW_T)
    check_fails_verification(STRIPE, body_with_header(unkeyed), secrets)


@pytest.mark.parametrize(
    ("currency", "amount"),
    [("eur", 9.99), ("USD", 9.99), ("jpy", 999), ("krw", 999), ("xof", 999), ("kwd", 0.999)],
)
def test_amounts_are_in_major_units_of_their_currency(currency: str, amount: float) -> None:
    body = edited("checkout.session.completed.json", ("data", "object", "currency"), currency)
    event = parse_body(body)
    assert (event.payload["amount"], event.payload["currency"]) == (amount, currency.upper())


def test_an_amount_without_a_currency_is_left_out() -> None:
    body = edited("checkout.session.completed.json", ("data", "object", "currency"), None)
    payload = parse_body(body).payload
    assert "amount" not in payload
    assert "currency" not in payload


def test_checkout_email_falls_back_to_customer_email() -> None:
    document = load("checkout.session.completed.json")
    document["data"]["object"]["customer_details"]["email"] = None
    document["data"]["object"]["customer_email"] = "fallback@example.com"
    assert parse_body(orjson.dumps(document)).email == "fallback@example.com"


def test_an_expanded_customer_gives_its_id_and_email() -> None:
    customer = {"id": "cus_EXPANDED", "object": "customer", "email": "sub@example.com"}
    body = edited("customer.subscription.created.json", ("data", "object", "customer"), customer)
    event = parse_body(body)
    assert (event.external_id, event.email) == ("stripe:cus_EXPANDED", "sub@example.com")


def test_checkout_expanded_line_items_become_products() -> None:
    line_items = {
        "object": "list",
        "data": [
            {
                "description": "T-shirt",
                "quantity": 2,
                "price": {"id": "price_1", "product": "prod_1", "unit_amount": 1500},
            }
        ],
    }
    body = edited("checkout.session.completed.json", ("data", "object", "line_items"), line_items)
    assert parse_body(body).payload["products"] == [
        {
            "product_id": "prod_1",
            "price_id": "price_1",
            "name": "T-shirt",
            "price": 15.0,
            "quantity": 2,
        }
    ]


@pytest.mark.parametrize("reason", ["subscription_create", "manual", None])
def test_invoice_paid_other_than_a_renewal_is_ignored(reason: str | None) -> None:
    body = edited("invoice.paid.json", ("data", "object", "billing_reason"), reason)
    mapped = STRIPE.parse(delivery(body))
    assert (mapped.delivery_key, mapped.kind, mapped.events) == (
        "evt_1KJrGtJDPojXS6LN15fcthM3",
        "invoice.paid",
        [],
    )


def test_a_renewal_finds_its_subscription_in_the_2025_invoice_shape() -> None:
    document = load("invoice.paid.json")
    invoice = document["data"]["object"]
    del invoice["subscription"]
    invoice["parent"] = {"subscription_details": {"subscription": "sub_NEW"}}
    assert parse_body(orjson.dumps(document)).payload["subscription_id"] == "sub_NEW"


def test_a_renewal_amount_is_the_amount_paid() -> None:
    body = edited("invoice.paid.json", ("data", "object", "amount_paid"), 2500)
    assert parse_body(body).payload["amount"] == 25.0


def test_subscription_amount_sums_its_items() -> None:
    document = load("customer.subscription.created.json")
    items = document["data"]["object"]["items"]["data"]
    items[0]["price"]["unit_amount"] = 1000
    items[0]["quantity"] = 2
    items[1]["price"]["unit_amount"] = 500
    items[0]["price"]["nickname"] = "Pro"
    payload = parse_body(orjson.dumps(document)).payload
    assert (payload["amount"], payload["plan_name"]) == (25.0, "Pro")


def test_subscription_cancellation_reason_is_kept() -> None:
    details = {"reason": "cancellation_requested", "feedback": "too_expensive", "comment": None}
    body = edited(
        "customer.subscription.deleted.json", ("data", "object", "cancellation_details"), details
    )
    payload = parse_body(body).payload
    assert (payload["reason"], payload["feedback"]) == ("cancellation_requested", "too_expensive")
    assert "comment" not in payload


def test_a_refund_without_payment_intent_is_keyed_by_the_charge() -> None:
    body = edited("charge.refunded.json", ("data", "object", "payment_intent"), None)
    assert parse_body(body).payload["order_id"] == "ch_3Kl36gJDPojXS6LN0DCM4A8l"


def test_payment_amount_received_is_reported_alongside_the_amount() -> None:
    body = edited("payment_intent.succeeded.json", ("data", "object", "amount_received"), 1000)
    payload = parse_body(body).payload
    assert (payload["amount"], payload["amount_received"]) == (10.0, 10.0)
    assert "order_id" not in payload


def test_an_unmapped_type_maps_to_no_events() -> None:
    mapped = STRIPE.parse(delivery(fixture("stripe", "_official_event_envelope.json")))
    assert (mapped.delivery_key, mapped.kind, mapped.events) == (
        "evt_1Pgc76B7WZ01zgkWwyRHS12y",
        "plan.created",
        [],
    )


UNREADABLE = [
    *UNREADABLE_BODIES,
    pytest.param(edited("charge.refunded.json", ("id",), None), id="no id"),
    pytest.param(edited("charge.refunded.json", ("id",), 12), id="numeric id"),
    pytest.param(edited("charge.refunded.json", ("type",), None), id="no type"),
    pytest.param(
        edited("charge.refunded.json", ("type",), ["charge.refunded"]), id="type is a list"
    ),
    pytest.param(edited("charge.refunded.json", ("data",), "object"), id="data is a string"),
    pytest.param(
        edited("charge.refunded.json", ("data", "object"), []), id="data.object is a list"
    ),
    pytest.param(
        edited("charge.refunded.json", ("data", "object"), None), id="data.object is null"
    ),
]


@pytest.mark.parametrize("body", UNREADABLE)
def test_an_unreadable_event_is_invalid_payload(body: bytes) -> None:
    with pytest.raises(InvalidPayload):
        STRIPE.parse(delivery(body))


OBJ = ("data", "object")
# (case, fixture, path from the top, value, what to read: an event attribute or payload.<field>, expected)
TOLERATED: list[tuple[str, str, tuple[str | int, ...], object, str, object]] = [
    ("amount is text", "charge.refunded.json", (*OBJ, "amount_refunded"), "2500", "payload.amount", None),
    ("amount is a bool", "charge.refunded.json", (*OBJ, "amount_refunded"), True, "payload.amount", None),
    ("currency is a list", "charge.refunded.json", (*OBJ, "currency"), ["usd"], "payload.currency", None),
    ("customer is a list", "charge.refunded.json", (*OBJ, "customer"), ["cus_1"], "external_id", None),
    ("customer is a number", "charge.refunded.json", (*OBJ, "customer"), 42, "external_id", None),
    ("email is a number", "charge.refunded.json", (*OBJ, "receipt_email"), 7, "email", None),
    ("billing is text", "charge.refunded.json", (*OBJ, "billing_details"), "x", "email", None),
    ("payment intent is {}", "charge.refunded.json", (*OBJ, "payment_intent"), {}, "payload.order_id", "ch_3Kl36gJDPojXS6LN0DCM4A8l"),
    ("lines is a list", "invoice.paid.json", (*OBJ, "lines"), [1, 2], "payload.products", None),
    ("line is text", "invoice.paid.json", (*OBJ, "lines", "data"), ["line"], "payload.products", None),
    # With no items, the legacy subscription-level plan still names the plan.
    ("items is null", "customer.subscription.created.json", (*OBJ, "items"), None, "payload.plan_id", "price_1IDQm5JDPojXS6LNM31hxKzp"),
    ("quantity is text", "customer.subscription.created.json", (*OBJ, "items", "data", 0, "quantity"), "2", "payload.amount", 0.0),
    ("event created is text", "charge.refunded.json", ("created",), "yesterday", "occurred_at", None),
    ("event created is huge", "charge.refunded.json", ("created",), 2**62, "occurred_at", None),
    ("session id is a number", "checkout.session.completed.json", (*OBJ, "id"), 5, "payload.order_id", None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "name", "path", "value", "field", "expected"),
    TOLERATED,
    ids=[case[0] for case in TOLERATED],
)
def test_a_field_of_the_wrong_type_is_skipped(
    case: str, name: str, path: tuple[str | int, ...], value: object, field: str, expected: object
) -> None:
    event = parse_body(edited(name, path, value))
    assert read(event, field) == expected
    assert validate_payload(event.event_type, event.payload) is None


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(FIXTURES), data=st.data())
def test_a_mutated_event_raises_nothing_but_invalid_payload(name: str, data: st.DataObject) -> None:
    check_maps_or_is_invalid(parse, orjson.dumps(data.draw(mutated(load(name)))))


@given(body=st.binary(max_size=200))
def test_arbitrary_bytes_parse_or_are_invalid_payload(body: bytes) -> None:
    check_maps_or_is_invalid(parse, body)
