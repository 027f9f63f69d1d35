"""The Segment dialect (no I/O): every message type, traits from either place, campaigns, clock
skew, nulls the clients send, and clear errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from journeyline.errors import InvalidPayload
from journeyline.ingest.dialects.segment import occurred_at, parse_segment_message

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def parse(message: dict[str, Any], **options: Any) -> Any:
    return parse_segment_message(
        message, source="segment", source_type="internal", received_at=NOW, **options
    )


def test_identify_takes_traits_from_the_top_level_over_the_context() -> None:
    event = parse(
        {
            "type": "identify",
            "userId": "u1",
            "anonymousId": None,
            "traits": {"email": "a@b.com", "plan": "pro"},
            "context": {"traits": {"plan": "free", "phone": "+14155550100"}, "ip": "1.2.3.4"},
            "messageId": "m-1",
        }
    )
    assert (event.event_type, event.external_id, event.anonymous_id) == ("identified", "u1", None)
    assert event.traits == {"plan": "pro", "phone": "+14155550100", "email": "a@b.com"}
    assert (event.email, event.phone, event.external_event_id) == (
        "a@b.com",
        "+14155550100",
        "m-1",
    )
    assert event.payload["ip"] == "1.2.3.4"
    assert "ip" not in event.traits, "the context is kept in the payload, not the profile"


def test_rudderstack_identify_keeps_its_traits_in_the_context() -> None:
    event = parse({"type": "identify", "userId": "u1", "context": {"traits": {"email": "r@s.io"}}})
    assert event.traits == {"email": "r@s.io"}
    assert event.email == "r@s.io"


@pytest.mark.parametrize(
    ("name", "event_type"),
    [
        ("Order Completed", "purchase_completed"),
        ("Product Added", "product_added"),
        ("Product Viewed", "product_viewed"),
        ("Checkout Started", "checkout_started"),
        ("Order Refunded", "order_refunded"),
        ("Payment Info Entered", "payment_info_entered"),
    ],
)
def test_track_uses_the_alias_table(name: str, event_type: str) -> None:
    event = parse({"type": "track", "userId": "u1", "event": name, "properties": {"a": 1}})
    assert (event.event_type, event.event_name, event.payload) == (event_type, name, {"a": 1})
    assert event.traits is None


def test_track_reads_the_campaign_and_keeps_page_ip_and_user_agent() -> None:
    event = parse(
        {
            "type": "track",
            "anonymousId": "anon-1",
            "event": "Signed Up",
            "context": {
                "campaign": {"name": "fall", "source": "google", "medium": "cpc"},
                "page": {"url": "https://shop.example/x"},
                "userAgent": "UA/1",
                "ip": "9.9.9.9",
            },
        }
    )
    assert (event.campaign_id, event.channel) == ("fall", "cpc")
    assert event.payload == {
        "page": {"url": "https://shop.example/x"},
        "userAgent": "UA/1",
        "ip": "9.9.9.9",
    }


def test_page_and_screen_become_views_with_their_name_and_category() -> None:
    page = parse(
        {
            "type": "page",
            "anonymousId": "anon1",
            "name": "Home",
            "category": None,
            "properties": {"url": "http://x"},
            "context": {"page": {"path": "/", "referrer": "https://r.example/"}},
        }
    )
    assert (page.event_type, page.event_name) == ("page_viewed", "Home")
    assert page.payload == {
        "path": "/",
        "referrer": "https://r.example/",
        "url": "http://x",
        "name": "Home",
    }
    screen = parse({"type": "screen", "userId": "u1", "name": "Main", "category": "App"})
    assert (screen.event_type, screen.event_name) == ("screen_viewed", "Main")
    assert screen.payload == {"name": "Main", "category": "App"}


def test_group_makes_the_group_the_persons_company() -> None:
    event = parse(
        {
            "type": "group",
            "userId": "u1",
            "groupId": "g1",
            "traits": {"name": "Acme", "domain": "acme.io", "plan": None},
        }
    )
    assert event.event_type == "group_joined"
    assert event.traits == {"company": {"id": "g1", "name": "Acme", "domain": "acme.io"}}
    assert event.payload["group_id"] == "g1"


def test_alias_names_the_previous_id() -> None:
    event = parse({"type": "alias", "userId": "u1", "previousId": "anon1"})
    assert (event.event_type, event.external_id, event.previous_id, event.payload) == (
        "aliased",
        "u1",
        "anon1",
        {"previous_id": "anon1"},
    )
    assert event.anonymous_id is None, "the pipeline decides what the previous id is"


def test_numeric_ids_are_kept_as_text() -> None:
    event = parse({"type": "track", "userId": 42, "anonymousId": 7, "event": "X"})
    assert (event.external_id, event.anonymous_id) == ("42", "7")


def test_the_batch_context_applies_and_the_message_wins() -> None:
    event = parse(
        {"type": "track", "userId": "u1", "event": "X", "context": {"ip": "2.2.2.2"}},
        batch_context={"ip": "1.1.1.1", "userAgent": "batch-UA"},
    )
    assert (event.payload["ip"], event.payload["userAgent"]) == ("2.2.2.2", "batch-UA")


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"type": "track", "event": "X"}, "userId"),
        ({"type": "track", "userId": None, "anonymousId": " ", "event": "X"}, "userId"),
        ({"type": "track", "userId": "u1"}, "event"),
        ({"type": "track", "userId": "u1", "event": "   "}, "event"),
        ({"type": "group", "userId": "u1"}, "groupId"),
        ({"type": "alias", "userId": "u1"}, "previousId"),
        ({"type": "alias", "anonymousId": "a", "previousId": "p"}, "previousId"),
        ({"type": "bogus", "userId": "u1"}, "type"),
        ({"type": "track", "userId": ["u1"], "event": "X"}, "userId"),
        ({"type": "track", "userId": "u1", "event": "X", "properties": "no"}, "properties"),
        ({"type": "track", "userId": "u1", "event": "X", "timestamp": "yesterday"}, "timestamp"),
        (
            {
                "type": "track",
                "userId": "u1",
                "event": "Order Completed",
                "properties": {"total": "x"},
            },
            "properties.total",
        ),
    ],
)
def test_bad_messages_are_clear_errors(message: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidPayload) as raised:
        parse(message)
    assert raised.value.field == field


def test_a_message_that_is_no_object_is_refused() -> None:
    with pytest.raises(InvalidPayload):
        parse(["track"])  # type: ignore[arg-type]


def test_clock_skew_is_taken_out_when_sent_at_is_given() -> None:
    # The client's clock is an hour fast: it stamped at 13:00:00 and sent at 13:00:05.
    stamped, sent = NOW + timedelta(hours=1), NOW + timedelta(hours=1, seconds=5)
    assert occurred_at(stamped, None, sent, NOW) == NOW - timedelta(seconds=5)
    assert occurred_at(None, stamped, sent, NOW) == NOW - timedelta(seconds=5)
    assert occurred_at(stamped, None, None, NOW) == stamped
    assert occurred_at(None, None, sent, NOW) is None
    # Stamped after it was sent: the server's clock instead.
    assert occurred_at(sent, None, stamped, NOW) == NOW


def test_a_batch_sent_at_corrects_its_messages() -> None:
    event = parse(
        {"type": "track", "userId": "u1", "event": "X", "timestamp": "2026-11-22T13:00:00Z"},
        sent_at=datetime(2026, 11, 22, 13, 0, 10, tzinfo=UTC),
    )
    assert event.occurred_at == NOW - timedelta(seconds=10)
