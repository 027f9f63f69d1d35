"""MarketingEvent adapter (the native API): no I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from journeyline.errors import InvalidPayload, ProfileNotFound
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.dialects.marketing import parse_marketing_event

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def parse(data: dict[str, Any]) -> CanonicalEvent:
    return parse_marketing_event(
        data, source_type="internal", default_source="api", received_at=NOW
    )


def test_every_field_of_the_seed_format_is_mapped() -> None:
    profile = uuid.uuid4()
    event = parse(
        {
            "type": "track",
            "action": "email_opened",
            "customerId": str(profile),
            "email": "j@x.io",
            "phone": "+14155550100",
            "externalId": "crm-42",
            "campaignId": "spring-sale",
            "channel": "email",
            "properties": {"subject": "Hi"},
            "timestamp": "2026-11-22T10:00:00Z",
            "messageId": "m-9",
        }
    )
    assert (event.event_type, event.event_name, event.profile_id) == (
        "email_opened",
        "email_opened",
        profile,
    )
    assert (event.email, event.phone, event.external_id) == ("j@x.io", "+14155550100", "crm-42")
    assert (event.campaign_id, event.channel, event.external_event_id) == (
        "spring-sale",
        "email",
        "m-9",
    )
    assert event.payload == {"subject": "Hi"}
    assert (event.source, event.source_type) == ("api", "internal")


def test_identify_properties_are_the_attribute_patch() -> None:
    event = parse({"type": "identify", "properties": {"email": "p@x.io", "name": "P"}})
    assert (event.event_type, event.traits, event.email) == (
        "identified",
        {"email": "p@x.io", "name": "P"},
        "p@x.io",
    )


def test_numeric_external_id_is_kept_as_text() -> None:
    assert parse({"type": "track", "action": "a", "externalId": 42}).external_id == "42"


def test_sender_may_name_its_source() -> None:
    assert (
        parse({"type": "track", "action": "a", "email": "s@x.io", "source": "hubspot"}).source
        == "hubspot"
    )


def test_customer_id_that_is_not_a_uuid_is_an_unknown_profile() -> None:
    with pytest.raises(ProfileNotFound) as caught:
        parse({"type": "track", "action": "a", "customerId": "cus_123"})
    assert caught.value.status_code == 404


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"type": "click", "action": "a"}, "type"),
        ({"type": "track"}, "action"),
        ({"type": "track", "action": "a", "email": ["x"]}, "email"),
        ({"type": "track", "action": "a", "properties": "x"}, "properties"),
        (
            {"type": "track", "action": "purchase", "properties": {"currency": 3}},
            "properties.currency",
        ),
        ({"type": "track", "action": "a", "channel": "x" * 101}, "channel"),
    ],
)
def test_invalid_events_name_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidPayload) as caught:
        parse(data)
    assert caught.value.field == field
