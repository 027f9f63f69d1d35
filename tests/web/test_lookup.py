"""What a dashboard search matches by, normalised as the API normalises identifiers, and the
timeline's badges (no I/O)."""

from __future__ import annotations

import uuid

import pytest

from journeyline.web.lookup import MAX_TERM, SearchTerms, badge, clean_query, search_terms

PROFILE = "0190a0e4-7f3c-7d2a-9b1e-3c4d5e6f7a8b"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # An email fragment, any case: emails are stored trimmed and lower-cased.
        ("  JANE@Example ", SearchTerms("JANE@Example", "jane@example", None, None, None)),
        # A whole phone in any format the API accepts: its E.164 form, and its digits.
        (
            "+1 (415) 555-0100",
            SearchTerms(
                "+1 (415) 555-0100", "+1 (415) 555-0100", "14155550100", "+14155550100", None
            ),
        ),
        ("4155550100", SearchTerms("4155550100", "4155550100", "4155550100", "+14155550100", None)),
        (
            "(415) 555-0100",
            SearchTerms("(415) 555-0100", "(415) 555-0100", "4155550100", "+14155550100", None),
        ),
        # A fragment of one: its digits only (it is no valid number on its own).
        ("555-01", SearchTerms("555-01", "555-01", "55501", None, None)),
        # Too few digits, or letters, is no phone.
        ("42", SearchTerms("42", "42", None, None, None)),
        ("crm-42", SearchTerms("crm-42", "crm-42", None, None, None)),
        # A name keeps its case for the name match (compared in any case there).
        ("Ada  Lovelace", SearchTerms("Ada Lovelace", "ada lovelace", None, None, None)),
        (PROFILE, SearchTerms(PROFILE, PROFILE, None, None, uuid.UUID(PROFILE))),
        # Wildcards are kept as typed: the store matches them literally.
        ("50%_off", SearchTerms("50%_off", "50%_off", None, None, None)),
    ],
)
def test_search_terms(query: str, expected: SearchTerms) -> None:
    assert search_terms(query, "US") == expected


def test_a_national_number_is_read_in_the_tenants_region() -> None:
    london = search_terms("020 7946 0958", "GB")
    assert london is not None
    assert london.phone == "+442079460958"
    assert london.phone_digits == "02079460958"
    us = search_terms("020 7946 0958", "US")
    assert us is not None
    assert us.phone is None


@pytest.mark.parametrize(
    "query", ["", "   ", "\x00", "\x00\x01\t", "\ud800", "\ud800\x00 ", " \ufffd\ufffd", "\u2028"]
)
def test_nothing_left_to_search_for(query: str) -> None:
    assert search_terms(query, "US") is None


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("a\x00b", "ab"),
        ("jane\ud800@example.com", "jane@example.com"),
        ("  two   words\t", "two words"),
        ("line\nbreak\r\u2028para", "line break para"),
        ("bad\ufffdbytes", "badbytes"),
        ("x" * 10_000, "x" * MAX_TERM),
        ("Zoë", "Zoë"),
    ],
)
def test_clean_query(raw: str, cleaned: str) -> None:
    assert clean_query(raw) == cleaned
    assert cleaned.encode("utf-8")  # always encodable


@pytest.mark.parametrize(
    ("source_type", "shown"),
    [("direct", "client"), ("internal", "server"), ("external", "provider"), ("x", "x")],
)
def test_badges(source_type: str, shown: str) -> None:
    assert badge(source_type) == shown
