"""Hotmart adapter: hottok verification and v2.0.0 event mapping, with no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeyline.errors import InvalidPayload
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.taxonomy import validate_payload
from journeyline.webhooks.hotmart import HOTMART
from journeyline.webhooks.provider import Delivery, Mapped, Provider, VerificationFailed
from tests.webhooks.mutation import (
    JSON_VALUES,
    NOW,
    UNREADABLE_BODIES,
    check_fails_verification,
    check_maps_or_is_invalid,
    fixture_document,
    mutated,
    only_event,
)
from tests.webhooks.mutation import delivery as bare
from tests.webhooks.signing import FIXTURES, fixture

HOTTOK = "hottok-secret-1"
PROVIDER: Provider = HOTMART
APPROVED = "purchase_approved__real_anonymized_1.json"
FIXTURE_NAMES = sorted(path.name for path in (FIXTURES / "hotmart").glob("*.json"))


def with_header(body: bytes, token: str = HOTTOK) -> Delivery:
    return bare(body, {"x-hotmart-hottok": token})


def with_body_token(body: bytes, token: str = HOTTOK) -> bytes:
    """An older delivery: the same bytes with `hottok` as the first member of the object."""
    return body.replace(b"{", b'{"hottok": ' + orjson.dumps(token) + b", ", 1)


def document(name: str = APPROVED) -> dict[str, Any]:
    return fixture_document("hotmart", name)


def parse_document(data: object) -> CanonicalEvent:
    return only_event(PROVIDER.parse(bare(orjson.dumps(data))))


def utc_ms(year: int, month: int, day: int, h: int, m: int, s: int, ms: int) -> datetime:
    return datetime(year, month, day, h, m, s, ms * 1000, tzinfo=UTC)


@dataclass(frozen=True)
class Expected:
    kind: str
    event_type: str
    delivery_key: str
    occurred_at: datetime
    email: str
    external_id: str | None
    object_id_ref: str | None
    payload: dict[str, Any]


def sale(
    order_id: str, amount: float, product_id: int, name: str, ucode: str, **rest: Any
) -> dict[str, Any]:
    """The payload of a sale event: order, money and its single line item."""
    return {
        "order_id": order_id,
        "amount": amount,
        "currency": "BRL",
        "products": [
            {"product_id": product_id, "sku": ucode, "name": name, "price": amount, "quantity": 1}
        ],
        "product_id": product_id,
        "product_name": name,
        **rest,
    }


# The real deliveries are anonymised with corrupted types (`data.subscription` and
# `data.buyer.address` are strings, phones scrambled with letters): they are mapped as they are.
CASES: dict[str, Expected] = {
    APPROVED: Expected(
        "PURCHASE_APPROVED",
        "purchase_completed",
        "a51689a6-8e24-4b9a-b8b6-9214cb0ec15e",
        utc_ms(2025, 4, 29, 18, 50, 31, 331),
        "user_78903a16@example.com",
        None,
        "HP0967750879",
        sale(
            "HP0967750879",
            1497,
            1355458,
            "Julia Santos",
            "ucode_4038161c",
            payment_method="PIX",
            installments=1,
            status="APPROVED",
            offer_code="tdl7nakn",
            recurrence_number=1,
        ),
    ),
    "purchase_complete__real_anonymized_1.json": Expected(
        "PURCHASE_COMPLETE",
        "purchase_confirmed",
        "e5315b29-b88f-4531-9046-49279c4fd9e4",
        utc_ms(2025, 4, 30, 4, 20, 12, 612),
        "user_e9a636df@example.com",
        None,
        "HP0111784220",
        sale(
            "HP0111784220",
            158.49,
            4713431,
            "Carlos Lima",
            "ucode_7a3ae22f",
            payment_method="CREDIT_CARD",
            installments=12,
            status="COMPLETED",
            offer_code="37g9evfj",
            recurrence_number=6,
        ),
    ),
    "purchase_delayed__real_anonymized_1.json": Expected(
        "PURCHASE_DELAYED",
        "purchase_delayed",
        "5f481359-5778-440e-908a-089aaf663d49",
        utc_ms(2025, 4, 30, 12, 56, 15, 16),
        "user_a44ee988@example.com",
        None,
        "HP3412012500",
        sale(
            "HP3412012500",
            997,
            1355458,
            "Julia Santos",
            "ucode_4038161c",
            payment_method="PIX",
            installments=1,
            status="DELAYED",
            offer_code="bm2k4zqm",
            recurrence_number=3,
        ),
    ),
    "purchase_refunded__real_anonymized_1.json": Expected(
        "PURCHASE_REFUNDED",
        "order_refunded",
        "7073a316-5973-4646-a124-82e64f2ba423",
        utc_ms(2025, 5, 3, 3, 21, 39, 525),
        "user_4cca18ca@example.com",
        None,
        "HP1212266242",
        # `price` (997), not `full_price` (1194: with the installment interest).
        sale(
            "HP1212266242",
            997,
            1355458,
            "Julia Santos",
            "ucode_4038161c",
            payment_method="CREDIT_CARD",
            installments=12,
            status="REFUNDED",
            offer_code="kdm48q1t",
            recurrence_number=4,
        ),
    ),
    "purchase_out_of_shopping_cart__real_anonymized_1.json": Expected(
        "PURCHASE_OUT_OF_SHOPPING_CART",
        "purchase_abandoned",
        "97e982a0-544b-49de-82c3-5524806a17f0",
        utc_ms(2025, 4, 29, 23, 35, 57, 734),
        "user_d2a89c0a@example.com",
        None,
        None,
        {
            "product_ids": [1355458],
            "stage_abandoned": "checkout",
            "products": [{"product_id": 1355458, "name": "Julia Santos", "quantity": 1}],
            "product_id": 1355458,
            "product_name": "Julia Santos",
            "offer_code": "0rgmjkb1",
        },
    ),
    "subscription_cancellation__real_anonymized_1.json": Expected(
        "SUBSCRIPTION_CANCELLATION",
        "subscription_cancelled",
        "c530d9dd-ab3f-4f60-bece-cb1e9fb4b23c",
        utc_ms(2025, 4, 29, 17, 33, 38, 771),
        "user_440e059d@example.com",
        "hotmart:KOBB7XB2",
        "KOBB7XB2",
        {
            "amount": 1,
            "product_id": 1355458,
            "product_name": "Julia Santos",
            "subscriber_code": "KOBB7XB2",
        },
    ),
    "subscription_cancellation__real_anonymized_2.json": Expected(
        "SUBSCRIPTION_CANCELLATION",
        "subscription_cancelled",
        "e39effd9-9ca4-4d6f-96db-466364be4cd4",
        utc_ms(2025, 5, 22, 0, 17, 52, 274),
        "user_5e82d790@example.br",
        "hotmart:426UDRTF",
        "426UDRTF",
        {
            "amount": 1497,
            "product_id": 1355458,
            "product_name": "Julia Santos",
            "subscriber_code": "426UDRTF",
        },
    ),
}


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(CASES) == FIXTURE_NAMES


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_real_delivery_verifies_and_maps(name: str) -> None:
    expected = CASES[name]
    body = fixture("hotmart", name)
    delivery = with_header(body)
    PROVIDER.verify(delivery, [HOTTOK], NOW)

    mapped = PROVIDER.parse(delivery)
    event = only_event(mapped)
    assert (mapped.delivery_key, mapped.kind) == (expected.delivery_key, expected.kind)
    assert (event.event_type, event.event_name) == (expected.event_type, expected.kind)
    assert (event.source, event.source_type, event.allow_no_identity) == (
        "hotmart",
        "external",
        True,
    )
    assert event.external_event_id == expected.delivery_key
    assert event.occurred_at == expected.occurred_at
    assert event.received_at == NOW
    assert event.object_id_ref == expected.object_id_ref
    # The anonymiser scrambled every phone with letters: none is plausible.
    assert (event.email, event.phone, event.external_id) == (
        expected.email,
        None,
        expected.external_id,
    )
    assert event.payload == expected.payload
    assert event.raw_payload == orjson.loads(body)
    assert validate_payload(event.event_type, event.payload) is None


@pytest.mark.parametrize(
    ("kind", "event_type"),
    [
        ("PURCHASE_CANCELED", "order_cancelled"),
        ("PURCHASE_CHARGEBACK", "order_refunded"),
        ("PURCHASE_PROTEST", "purchase_protest"),
        ("PURCHASE_EXPIRED", "purchase_expired"),
        ("PURCHASE_BILLET_PRINTED", "purchase_billet_printed"),
        ("SWITCH_PLAN", "switch_plan"),
        ("purchase_approved", "purchase_completed"),
    ],
)
def test_other_event_types_map_to_their_type_with_the_sale(kind: str, event_type: str) -> None:
    data = {**document(), "event": kind}
    event = parse_document(data)
    assert (event.event_type, event.event_name) == (event_type, kind)
    assert (event.payload["order_id"], event.payload["amount"], event.payload["currency"]) == (
        "HP0967750879",
        1497,
        "BRL",
    )
    assert validate_payload(event.event_type, event.payload) is None


# --- the documented (uncorrupted) shapes ------------------------------------------------------


def test_a_documented_subscription_purchase_names_the_subscriber_and_plan() -> None:
    data = document()
    data["data"]["subscription"] = {
        "status": "ACTIVE",
        "plan": {"id": 114680, "name": "Plano anual"},
        "subscriber": {"code": "I9OT62C3"},
    }
    data["data"]["buyer"]["checkout_phone"] = "+55 11 99344-0781"
    event = parse_document(data)
    assert (event.email, event.phone, event.external_id) == (
        "user_78903a16@example.com",
        "+55 11 99344-0781",
        "hotmart:I9OT62C3",
    )
    assert (event.payload["plan_id"], event.payload["plan_name"]) == (114680, "Plano anual")
    assert event.object_id_ref == "HP0967750879"


def test_a_documented_subscription_cancellation() -> None:
    data = document("subscription_cancellation__real_anonymized_1.json")
    data["data"]["subscription"] = {"id": 4148584, "plan": {"name": "Mensal", "id": 114680}}
    data["data"]["subscriber"]["phone"] = {
        "dddPhone": "",
        "phone": "",
        "dddCell": "11",
        "cell": "999998888",
    }
    event = parse_document(data)
    assert event.object_id_ref == "4148584"
    assert (event.payload["plan_id"], event.payload["plan_name"]) == (114680, "Mensal")
    assert event.payload["subscription_id"] == 4148584
    assert (event.phone, event.external_id) == ("11999998888", "hotmart:KOBB7XB2")
    assert validate_payload(event.event_type, event.payload) is None


def test_a_cart_abandonment_with_a_price_has_a_cart_value() -> None:
    data = document("purchase_out_of_shopping_cart__real_anonymized_1.json")
    data["data"]["buyer"]["phone"] = "5511940081980"
    data["data"]["purchase"] = {"price": {"value": 49.9, "currency_value": "usd"}}
    event = parse_document(data)
    assert (event.payload["cart_value"], event.payload["currency"]) == (49.9, "USD")
    assert event.phone == "5511940081980"
    assert "order_id" not in event.payload


def test_the_buyer_code_is_the_external_id_without_a_subscriber() -> None:
    data = document()
    data["data"]["buyer"]["code"] = "B123"
    assert parse_document(data).external_id == "hotmart:B123"


@pytest.mark.parametrize(
    ("change", "occurred_at"),
    [
        ({"creation_date": "soon"}, utc_ms(2025, 4, 29, 18, 50, 27, 0)),  # approved_date
        ({"creation_date": 2**63 - 1}, utc_ms(2025, 4, 29, 18, 50, 27, 0)),
        ({"creation_date": -(2**63)}, utc_ms(2025, 4, 29, 18, 50, 27, 0)),
        ({"creation_date": 1e300}, utc_ms(2025, 4, 29, 18, 50, 27, 0)),
        ({"creation_date": None}, utc_ms(2025, 4, 29, 18, 50, 27, 0)),
        ({"creation_date": True}, utc_ms(2025, 4, 29, 18, 50, 27, 0)),
    ],
)
def test_occurred_at_falls_back_to_the_sale_dates(
    change: dict[str, Any], occurred_at: datetime
) -> None:
    assert parse_document({**document(), **change}).occurred_at == occurred_at


def test_without_any_date_occurred_at_is_left_to_received_at() -> None:
    data = document("purchase_out_of_shopping_cart__real_anonymized_1.json")
    del data["creation_date"]
    event = parse_document(data)
    assert (event.occurred_at, event.effective_occurred_at) == (None, NOW)


# --- verification ---------------------------------------------------------------------------


def test_any_of_the_tokens_may_match() -> None:
    PROVIDER.verify(with_header(fixture("hotmart", APPROVED), "new"), ["old", "new"], NOW)


def test_an_older_delivery_carries_the_hottok_in_the_body() -> None:
    body = with_body_token(fixture("hotmart", APPROVED))
    PROVIDER.verify(bare(body), [HOTTOK], NOW)
    event = only_event(PROVIDER.parse(bare(body)))
    assert event.event_type == "purchase_completed"
    # The hottok is a credential: it stays out of the event log.
    assert event.raw_payload == document()


@pytest.mark.parametrize(
    ("delivery", "secrets"),
    [
        pytest.param(
            with_header(fixture("hotmart", APPROVED), "wrong"), [HOTTOK], id="wrong-token"
        ),
        pytest.param(bare(fixture("hotmart", APPROVED)), [HOTTOK], id="missing-header"),
        pytest.param(with_header(fixture("hotmart", APPROVED), ""), [HOTTOK], id="empty-header"),
        pytest.param(
            with_header(fixture("hotmart", APPROVED), "é" + HOTTOK), [HOTTOK], id="non-ascii"
        ),
        pytest.param(
            bare(with_body_token(fixture("hotmart", APPROVED), "wrong")), [HOTTOK], id="wrong-body"
        ),
        pytest.param(
            with_header(with_body_token(fixture("hotmart", APPROVED)), "wrong"),
            [HOTTOK],
            id="wrong-header-beats-right-body",
        ),
        pytest.param(bare(b"{not json"), [HOTTOK], id="unreadable-body"),
        pytest.param(bare(b'["hottok"]'), [HOTTOK], id="body-not-an-object"),
        pytest.param(bare(b'{"hottok": 12}'), [HOTTOK], id="body-token-not-a-string"),
        pytest.param(with_header(fixture("hotmart", APPROVED)), [], id="no-token-configured"),
        pytest.param(with_header(fixture("hotmart", APPROVED), ""), [""], id="empty-token"),
    ],
)
def test_an_unproven_delivery_fails_verification(delivery: Delivery, secrets: list[str]) -> None:
    check_fails_verification(PROVIDER, delivery, secrets)


# --- unexpected shapes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        *UNREADABLE_BODIES,
        pytest.param(b'{"data": {}}', id="no-event"),
        pytest.param(b'{"event": ["PURCHASE_APPROVED"]}', id="event-list"),
        pytest.param(b'{"event": "!!!"}', id="event-without-letters"),
        pytest.param(orjson.dumps({"event": "PURCHASE_APPROVED", "id": "i" * 300}), id="long-id"),
    ],
)
def test_an_unreadable_delivery_is_invalid_payload(body: bytes) -> None:
    with pytest.raises(InvalidPayload):
        PROVIDER.parse(bare(body))


@pytest.mark.parametrize(
    "data",
    [
        "corrupted",
        [],
        None,
        {"purchase": "x", "product": [], "buyer": "y", "subscription": 3},
        {"purchase": {"price": "1497", "transaction": {"id": 1}, "payment": "PIX"}},
        {"purchase": {"price": {"value": True, "currency_value": "REAIS"}}},
        {"product": {"id": 1.5, "name": 7, "ucode": None}, "buyer": {"email": 5, "code": False}},
        {"subscriber": {"phone": {"cell": 5}, "code": ["x"]}, "subscription": {"plan": "p"}},
    ],
)
def test_wrongly_typed_data_is_skipped(data: object) -> None:
    event = parse_document({"id": "d1", "event": "PURCHASE_APPROVED", "data": data})
    assert (event.event_type, event.external_event_id) == ("purchase_completed", "d1")
    assert validate_payload(event.event_type, event.payload) is None
    assert (event.email, event.phone, event.external_id) == (None, None, None)
    assert {"order_id", "amount", "currency", "product_id"}.isdisjoint(event.payload)


# --- property: no input raises anything but InvalidPayload ------------------------------------


def parse(body: bytes) -> Mapped:
    return PROVIDER.parse(bare(body))


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(FIXTURE_NAMES), data=st.data())
def test_mutated_deliveries_map_or_are_invalid_payload(name: str, data: st.DataObject) -> None:
    check_maps_or_is_invalid(parse, orjson.dumps(data.draw(mutated(document(name)))))


@given(body=st.binary(max_size=200))
def test_arbitrary_bytes_parse_or_are_invalid_payload(body: bytes) -> None:
    check_maps_or_is_invalid(parse, body)


@given(body=st.binary(max_size=100) | st.builds(orjson.dumps, JSON_VALUES))
def test_arbitrary_bodies_without_a_header_only_fail_verification(body: bytes) -> None:
    with pytest.raises(VerificationFailed):
        PROVIDER.verify(bare(body), [HOTTOK], NOW)
