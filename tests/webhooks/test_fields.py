"""The tolerant readers the provider adapters share: a field of the wrong type reads as absent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from journeyline.errors import InvalidPayload
from journeyline.webhooks import fields
from tests.webhooks.mutation import NOW, delivery

Reader = Callable[[object], object]


def trimmed(reader: Callable[..., object]) -> Reader:
    return lambda value: reader(value, strip=True)


# (reader, value, what it reads): every shared reader over the values providers really send
# and the wrong types they also send.
READS: list[tuple[str, Reader, object, object]] = [
    ("json_object", fields.json_object, {"a": 1}, {"a": 1}),
    ("json_object", fields.json_object, {}, {}),
    ("json_object", fields.json_object, "corrupted", {}),
    ("json_object", fields.json_object, [{"a": 1}], {}),
    ("json_object", fields.json_object, None, {}),
    ("objects", fields.objects, [{"a": 1}, 2, "x", None, [], {}], [{"a": 1}, {}]),
    ("objects", fields.objects, {"data": [{"a": 1}]}, []),
    ("objects", fields.objects, "x", []),
    ("objects", fields.objects, None, []),
    ("text", fields.text, "Laura", "Laura"),
    ("text", fields.text, " padded ", " padded "),
    ("text", fields.text, "", None),
    ("text", fields.text, " \t\n", None),
    ("text", fields.text, 5, None),
    ("text", fields.text, True, None),
    ("text", fields.text, ["a"], None),
    ("text", fields.text, None, None),
    ("text strip", trimmed(fields.text), " padded ", "padded"),
    ("text strip", trimmed(fields.text), "  ", None),
    ("text strip", trimmed(fields.text), 5, None),
    ("integer", fields.integer, 0, 0),
    ("integer", fields.integer, 2**64, 2**64),
    ("integer", fields.integer, -3, -3),
    ("integer", fields.integer, True, None),
    ("integer", fields.integer, 1.0, None),
    ("integer", fields.integer, "1", None),
    ("integer", fields.integer, None, None),
    ("number", fields.number, 7, 7),
    ("number", fields.number, 7.5, 7.5),
    ("number", fields.number, False, None),
    ("number", fields.number, "7.5", None),
    ("number", fields.number, [7], None),
    ("boolean", fields.boolean, True, True),
    ("boolean", fields.boolean, False, False),
    ("boolean", fields.boolean, 0, None),
    ("boolean", fields.boolean, "true", None),
    ("identifier", fields.identifier, 1355458, 1355458),
    ("identifier", fields.identifier, 9007199254740993, 9007199254740993),
    ("identifier", fields.identifier, "HP0967750879", "HP0967750879"),
    ("identifier", fields.identifier, " tok ", " tok "),
    ("identifier", fields.identifier, True, None),
    ("identifier", fields.identifier, 1.5, None),
    ("identifier", fields.identifier, "", None),
    ("identifier", fields.identifier, {"id": 1}, None),
    ("identifier strip", trimmed(fields.identifier), " KOBB7XB2 ", "KOBB7XB2"),
    ("identifier strip", trimmed(fields.identifier), 12, 12),
    ("reference", fields.reference, 4148584, "4148584"),
    ("reference", fields.reference, "tok-1", "tok-1"),
    ("reference", fields.reference, "x" * 255, "x" * 255),
    ("reference", fields.reference, "x" * 256, None),
    ("reference", fields.reference, False, None),
    ("reference", fields.reference, ["t"], None),
    ("reference strip", trimmed(fields.reference), " HP1 ", "HP1"),
    ("currency_code", fields.currency_code, "usd", "USD"),
    ("currency_code", fields.currency_code, "EUR", "EUR"),
    ("currency_code", fields.currency_code, " usd ", None),
    ("currency_code", fields.currency_code, "US", None),
    ("currency_code", fields.currency_code, "USDT", None),
    ("currency_code", fields.currency_code, "U$D", None),
    ("currency_code", fields.currency_code, "éur", None),
    ("currency_code", fields.currency_code, 840, None),
    ("currency_code", fields.currency_code, ["usd"], None),
    ("currency_code strip", trimmed(fields.currency_code), " brl ", "BRL"),
    ("currency_code strip", trimmed(fields.currency_code), "  ", None),
    ("currency_code strip", trimmed(fields.currency_code), "REAIS", None),
    (
        "iso_time",
        fields.iso_time,
        "2018-01-18T18:17:02Z",
        datetime(2018, 1, 18, 18, 17, 2, tzinfo=UTC),
    ),
    (
        "iso_time",
        fields.iso_time,
        " 2023-03-24T12:37:27-04:00 ",
        datetime(2023, 3, 24, 16, 37, 27, tzinfo=UTC),
    ),
    (
        "iso_time",
        fields.iso_time,
        "2023-03-29T18:00:27",
        datetime(2023, 3, 29, 18, 0, 27, tzinfo=UTC),
    ),
    ("iso_time", fields.iso_time, "yesterday", None),
    ("iso_time", fields.iso_time, "", None),
    ("iso_time", fields.iso_time, "9999-12-31T23:59:59-05:00", None),
    ("iso_time", fields.iso_time, "0001-01-01T00:00:00+01:00", None),
    ("iso_time", fields.iso_time, 1619697430, None),
    ("iso_time", fields.iso_time, None, None),
]


@pytest.mark.parametrize(
    ("name", "reader", "value", "expected"),
    READS,
    ids=[f"{name}-{index}" for index, (name, *_) in enumerate(READS)],
)
def test_a_reader_reads_its_type_and_nothing_else(
    name: str, reader: Reader, value: object, expected: object
) -> None:
    read = reader(value)
    assert read == expected
    # 1 == True and 1.0 == 1: the type is part of what is read.
    assert type(read) is type(expected)


def test_a_time_is_moved_to_utc() -> None:
    moment = fields.iso_time("2024-05-02T09:30:00+05:30")
    assert moment == datetime(2024, 5, 2, 4, 0, tzinfo=UTC)
    assert moment is not None
    assert moment.tzinfo is UTC


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
    ("given", "kept"),
    [
        ({"a": 1, "b": None, "c": 0, "d": "", "e": [], "f": False}, {"a": 1, "c": 0, "d": "", "e": [], "f": False}),
        ({"a": None}, {}),
        ({}, {}),
    ],
)  # fmt: skip
def test_compact_leaves_out_only_nulls(given: dict[str, object], kept: dict[str, object]) -> None:
    assert fields.compact(**given) == kept
    assert list(fields.compact(**given)) == list(kept)


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
