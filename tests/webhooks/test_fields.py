"""What the provider adapters share beyond the tolerant readers (tests/test_payloads.py):
required fields, idempotency keys, line items, the body, the external event."""

from __future__ import annotations

from datetime import timedelta

import pytest

from journeyline.errors import InvalidPayload
from journeyline.webhooks import fields
from tests.webhooks.mutation import NOW, delivery


@pytest.mark.parametrize(
    ("value", "strip", "expected"),
    [("evt_1", False, "evt_1"), (" evt_1 ", False, " evt_1 "), (" evt_1 ", True, "evt_1")],
)
def test_required_text_is_the_text(value: object, strip: bool, expected: str) -> None:
    assert fields.required_text(value, field="id", message="needs its id", strip=strip) == expected


@pytest.mark.parametrize("value", [None, "", "  ", 12, ["evt_1"]])
def test_required_text_that_is_absent_is_invalid_payload(value: object) -> None:
    with pytest.raises(InvalidPayload) as raised:
        fields.required_text(value, field="id", message="a delivery needs its id")
    assert (raised.value.message, raised.value.field) == ("a delivery needs its id", "id")


@pytest.mark.parametrize(
    ("ident", "key"),
    [(None, None), ("LtWXD3crgy", "LtWXD3crgy"), (42, "42"), ("e" * 255, "e" * 255)],
)
def test_an_idempotency_key_is_the_id_as_text(ident: str | int | None, key: str | None) -> None:
    assert fields.idempotency_key(ident, field="event_id", message="too long") == key


@pytest.mark.parametrize("ident", ["e" * 256, 10**300])
def test_an_idempotency_key_too_long_for_the_table_is_invalid_payload(ident: str | int) -> None:
    # Truncated, two deliveries could share a key.
    with pytest.raises(InvalidPayload) as raised:
        fields.idempotency_key(ident, field="event_id", message="too long")
    assert (raised.value.message, raised.value.field) == ("too long", "event_id")


@pytest.mark.parametrize(
    ("items", "products"),
    [
        ([{"sku": "A"}, {}, {"sku": "B"}], [{"sku": "A"}, {"sku": "B"}]),
        ([{}, {}], None),
        ([], None),
    ],
)
def test_a_product_list_has_items_or_is_none(
    items: list[dict[str, object]], products: list[dict[str, object]] | None
) -> None:
    assert fields.product_list(iter(items)) == products


def test_a_body_object_is_the_json_object() -> None:
    assert fields.body_object(delivery(b'{"id": "evt_1"}'), "must be an object") == {"id": "evt_1"}


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"null", b"5", b"{not json", b""])
def test_a_body_that_is_not_an_object_is_invalid_payload(body: bytes) -> None:
    with pytest.raises(InvalidPayload):
        fields.body_object(delivery(body), "must be an object")


def test_a_payload_that_breaks_the_taxonomy_is_invalid_payload_naming_the_field() -> None:
    fields.check_payload("purchase_completed", {"order_id": "o1", "amount": 9.99})
    with pytest.raises(InvalidPayload) as raised:
        fields.check_payload("purchase_completed", {"order_id": "o1", "amount": "9.99"})
    assert raised.value.field == "payload.amount"


def test_an_external_event_carries_the_provider_and_the_delivery() -> None:
    occurred = NOW - timedelta(minutes=5)
    event = fields.external_event(
        "stripe",
        delivery(b"{}"),
        event_type="purchase_completed",
        event_name="checkout.session.completed",
        occurred_at=occurred,
        payload={"order_id": "cs_1"},
        raw_payload={"id": "evt_1"},
        external_event_id="evt_1",
        email="a@b.io",
        phone=None,
        external_id="stripe:cus_1",
        object_id_ref="cs_1",
    )
    assert (event.source_type, event.source, event.allow_no_identity) == (
        "external",
        "stripe",
        True,
    )
    assert (event.received_at, event.occurred_at) == (NOW, occurred)
    assert (event.event_type, event.event_name) == (
        "purchase_completed",
        "checkout.session.completed",
    )
    assert (event.payload, event.raw_payload, event.traits) == (
        {"order_id": "cs_1"},
        {"id": "evt_1"},
        None,
    )
    assert (event.external_event_id, event.object_id_ref) == ("evt_1", "cs_1")
    assert (event.email, event.phone, event.external_id) == ("a@b.io", None, "stripe:cus_1")


def test_a_meaning_names_nobody_unless_told() -> None:
    meaning = fields.Meaning("order_refunded", {"order_id": "o1"})
    assert (meaning.email, meaning.phone, meaning.customer_id, meaning.traits) == (
        None,
        None,
        None,
        None,
    )
