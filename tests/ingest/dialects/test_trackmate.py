"""TrackMate adapter: bodies in, CanonicalEvents or a field-naming error out (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from journeyline.errors import InvalidPayload, JourneylineError, PayloadTooLarge, ProfileNotFound
from journeyline.ingest.dialects.trackmate import (
    WEBHOOK_SOURCE,
    parse_profile,
    parse_server_event,
    parse_session_events,
)

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def session(*events: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    return {"company_id": "pk_x", "sessionId": "s-1", "events": list(events), **envelope}


def parse_session(body: dict[str, Any]) -> list[Any]:
    return parse_session_events(
        body, received_at=NOW, max_event_bytes=32_768, max_depth=64, max_events=100
    )


@pytest.mark.parametrize(
    ("event_type", "normalized"),
    [
        ("page_view", "page_viewed"),
        ("add_to_cart", "product_added"),
        ("checkout_started", "checkout_started"),
        ("Payment Processed", "payment_processed"),
        ("orderShipped", "order_shipped"),
    ],
)
def test_session_event_types_are_normalized_and_the_name_kept(
    event_type: str, normalized: str
) -> None:
    [event] = parse_session(session({"eventType": event_type}))
    assert (event.event_type, event.event_name) == (normalized, event_type)


def test_session_events_are_the_browsers_and_carry_the_session() -> None:
    [event] = parse_session(
        session(
            {
                "eventType": "page_view",
                "eventData": {"address": "/p", "utm_campaign": "spring", "utm_medium": "email"},
                "timestamp": "2026-11-22T10:00:00+02:00",
                "eventId": "e-1",
            }
        )
    )
    assert (event.source, event.source_type, event.session_id) == ("web", "direct", "s-1")
    assert event.occurred_at == datetime(2026, 11, 22, 8, tzinfo=UTC)
    assert event.external_event_id == "e-1"
    assert (event.campaign_id, event.channel) == ("spring", "email")
    assert event.payload["address"] == "/p"
    assert event.raw_payload is not None
    assert event.raw_payload["eventId"] == "e-1"
    assert event.email is None
    assert event.traits is None


@pytest.mark.parametrize(
    ("body", "field", "index"),
    [
        (session(), "events", None),
        ({"company_id": "pk_x", "events": [{"eventType": "x"}]}, "sessionId", None),
        (session({"eventType": "x"}, sessionId=""), "sessionId", None),
        (session({"eventType": "x"}, {"eventType": ""}), "events[1].eventType", 1),
        (session({"eventType": "!!!"}), "events[0].eventType", 0),
        ({**session(), "events": ["page_view"]}, "events[0]", 0),
        (session({"eventType": "x", "eventId": 7}), "events[0].eventId", 0),
        (
            session({"eventType": "purchase_completed", "eventData": {"amount": "1"}}),
            "events[0].eventData.amount",
            0,
        ),
    ],
)
def test_invalid_session_bodies_name_the_field(
    body: dict[str, Any], field: str, index: int | None
) -> None:
    with pytest.raises(InvalidPayload) as raised:
        parse_session(body)
    assert raised.value.field == field
    assert raised.value.index == index


def test_limits_on_session_events() -> None:
    with pytest.raises(PayloadTooLarge):
        parse_session(session({"eventType": "x", "eventData": {"b": "y" * 40_000}}))
    with pytest.raises(InvalidPayload, match="at most 100"):
        parse_session(session(*[{"eventType": "x"}] * 101))


def test_identify_keeps_the_person_as_traits_and_the_request_out_of_them() -> None:
    event = parse_profile(
        {
            "company_id": "pk_x",
            "sessionId": "s-1",
            "email": "John@Example.com",
            "name": "John",
            "plan": {"tier": "pro"},
            "nickname": None,
            "eventId": "id-1",
        },
        received_at=NOW,
    )
    assert (event.event_type, event.event_name) == ("identified", "identify")
    assert event.traits == {"email": "John@Example.com", "name": "John", "plan": {"tier": "pro"}}
    assert (event.email, event.session_id, event.external_event_id) == (
        "John@Example.com",
        "s-1",
        "id-1",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sessionId": "s"}, "email"),
        ({"email": "  "}, "email"),
        ({"email": 5}, "email"),
        ({"email": "a@b.co", "timestamp": "later"}, "timestamp"),
    ],
)
def test_identify_needs_a_usable_email_or_phone(body: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidPayload) as raised:
        parse_profile({"company_id": "pk_x", **body}, received_at=NOW)
    assert raised.value.field == field


def test_identify_by_phone_alone() -> None:
    event = parse_profile({"company_id": "pk_x", "phone": "+14155550100"}, received_at=NOW)
    assert (event.phone, event.email) == ("+14155550100", None)


def server(identifier: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"company_id": "pk_x", "identifier": identifier, "eventType": "paid", **fields}


def test_server_events_bind_by_exactly_one_identifier() -> None:
    profile_id = uuid.uuid4()
    by_email = parse_server_event(server({"email": "a@b.co"}), received_at=NOW)
    by_session = parse_server_event(server({"sessionId": "s-9"}), received_at=NOW)
    by_profile = parse_server_event(server({"userId": str(profile_id)}), received_at=NOW)
    assert (by_email.email, by_email.session_id, by_email.profile_id) == ("a@b.co", None, None)
    assert (by_session.email, by_session.session_id) == (None, "s-9")
    assert by_profile.profile_id == profile_id
    for event in (by_email, by_session, by_profile):
        assert (event.source, event.source_type) == (WEBHOOK_SOURCE, "internal")


@pytest.mark.parametrize(
    ("identifier", "error", "field"),
    [
        ({}, InvalidPayload, "identifier"),
        ({"email": "a@b.co", "userId": str(uuid.uuid4())}, InvalidPayload, "identifier"),
        ({"email": None, "sessionId": None}, InvalidPayload, "identifier"),
        ({"phone": "+14155550100"}, InvalidPayload, "identifier.phone"),
        ({"email": ""}, InvalidPayload, "identifier.email"),
        ({"userId": "671234abcdef"}, ProfileNotFound, "identifier.userId"),
    ],
)
def test_invalid_identifiers(
    identifier: dict[str, Any], error: type[JourneylineError], field: str
) -> None:
    with pytest.raises(error) as raised:
        parse_server_event(server(identifier), received_at=NOW)
    assert raised.value.field == field
