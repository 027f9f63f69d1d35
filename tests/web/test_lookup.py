"""What a dashboard search means, and the timeline's badges (no I/O)."""

from __future__ import annotations

import pytest

from journeyline.web.lookup import badge, kinds_for


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("jane@example.com", "email"),
        ("+1 415 555 0100", "phone"),
        ("(415) 555-0100", "phone"),
        ("0190a0e4-7f3c-7d2a-9b1e-3c4d5e6f7a8b", "profile_id"),
        ("crm-42", "external_id"),
        ("anon-000123", "external_id"),
    ],
)
def test_the_kind_tried_first(query: str, first: str) -> None:
    assert kinds_for(query)[0] == first


def test_an_identifier_that_is_no_email_or_phone_is_tried_as_both_ids() -> None:
    assert kinds_for("visitor-7") == ["external_id", "anonymous_id"]
    assert kinds_for("   ") == []


@pytest.mark.parametrize(
    ("source_type", "shown"),
    [("direct", "client"), ("internal", "server"), ("external", "provider"), ("x", "x")],
)
def test_badges(source_type: str, shown: str) -> None:
    assert badge(source_type) == shown
