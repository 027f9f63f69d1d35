"""Keystone adapter: payload in, CanonicalEvent or a field-naming error out (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from journeyline.errors import InvalidPayload
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.dialects.keystone import parse_keystone_event

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def parse(data: dict[str, Any]) -> CanonicalEvent:
    return parse_keystone_event(
        data, source="web", source_type="direct", received_at=NOW, phone_region="US"
    )


@pytest.mark.parametrize(
    ("identity", "field", "value"),
    [
        ("jane@example.com", "email", "jane@example.com"),
        ("+1 415 555 0100", "phone", "+1 415 555 0100"),
        ("(415) 555-0100", "phone", "(415) 555-0100"),
        ("crm-42", "external_id", "crm-42"),
        (12345, "external_id", "12345"),
    ],
)
def test_identity_is_classified(identity: object, field: str, value: str) -> None:
    event = parse({"event_type": "track", "event_name": "x", "identity": identity})
    assert getattr(event, field) == value


def test_identify_payload_is_the_attribute_patch_and_may_carry_identifiers() -> None:
    event = parse(
        {
            "event_type": "identify",
            "anonymous_id": "a",
            "payload": {"email": "t@x.io", "phone": "+14155550100", "plan": "pro"},
        }
    )
    assert event.event_type == "identified"
    assert event.traits == {"email": "t@x.io", "phone": "+14155550100", "plan": "pro"}
    assert (event.email, event.phone) == ("t@x.io", "+14155550100")


def test_page_becomes_page_viewed_with_its_name() -> None:
    event = parse({"event_type": "page", "event_name": "Pricing", "anonymous_id": "a"})
    assert (event.event_type, event.event_name, event.traits) == ("page_viewed", "Pricing", None)


def test_track_keeps_the_name_as_sent_and_normalizes_the_type() -> None:
    event = parse(
        {
            "event_type": "track",
            "event_name": "Added to Cart",
            "anonymous_id": "a",
            "payload": {"product_id": "P-1", "price": 100.0},
        }
    )
    assert (event.event_type, event.event_name) == ("product_added", "Added to Cart")
    assert event.raw_payload == {
        "event_type": "track",
        "event_name": "Added to Cart",
        "anonymous_id": "a",
        "payload": {"product_id": "P-1", "price": 100.0},
    }


def test_timestamp_and_message_id_are_kept() -> None:
    event = parse(
        {
            "event_type": "page",
            "anonymous_id": "a",
            "timestamp": "2026-11-22T10:00:00+02:00",
            "message_id": "m-1",
        }
    )
    assert event.occurred_at == datetime(2026, 11, 22, 8, tzinfo=UTC)
    assert event.external_event_id == "m-1"


def test_utm_parameters_give_campaign_and_channel() -> None:
    event = parse(
        {
            "event_type": "page",
            "anonymous_id": "a",
            "payload": {"utm_campaign": "spring", "utm_medium": "email"},
        }
    )
    assert (event.campaign_id, event.channel) == ("spring", "email")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"event_type": "delete", "anonymous_id": "a"}, "event_type"),
        ({"anonymous_id": "a"}, "event_type"),
        ({"event_type": "track", "anonymous_id": "a"}, "event_name"),
        ({"event_type": "track", "event_name": "  ", "anonymous_id": "a"}, "event_name"),
        ({"event_type": "track", "event_name": "!!!", "anonymous_id": "a"}, "event_name"),
        ({"event_type": "page", "anonymous_id": 5}, "anonymous_id"),
        ({"event_type": "page", "anonymous_id": "a", "payload": [1]}, "payload"),
        ({"event_type": "page", "anonymous_id": "a", "timestamp": "yesterday"}, "timestamp"),
        (
            {
                "event_type": "track",
                "event_name": "Order Completed",
                "anonymous_id": "a",
                "payload": {"amount": "9"},
            },
            "payload.amount",
        ),
        (
            {
                "event_type": "track",
                "event_name": "Product Added",
                "anonymous_id": "a",
                "payload": {"products": [{"price": "x"}]},
            },
            "payload.products[0].price",
        ),
    ],
)
def test_invalid_events_name_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidPayload) as caught:
        parse(data)
    assert caught.value.field == field
