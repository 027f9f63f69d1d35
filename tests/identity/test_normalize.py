"""Identifier normalization: emails, E.164 phones, junk values, Keystone identity classification."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeyline.identity.normalize import (
    DEFAULT_BLOCKLIST,
    Identifier,
    IdentifierKind,
    Rejection,
    classify_identity,
    normalize_email,
    normalize_identifier,
    normalize_phone,
    unusable_because,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jane@example.com", "jane@example.com"),
        ("  Jane@Example.COM ", "jane@example.com"),
        ("a.b+tag@sub.example.co.uk", "a.b+tag@sub.example.co.uk"),
        ("no-at-sign", None),
        ("two@@example.com", None),
        ("spaces in@example.com", None),
        ("nodot@localhost", None),
        ("@example.com", None),
    ],
)
def test_normalize_email(raw: str, expected: str | None) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(415) 555-0100", "US", "+14155550100"),
        ("415.555.0100", "US", "+14155550100"),
        ("+1 415 555 0100", "BR", "+14155550100"),
        ("+55 11 91234-5678", "US", "+5511912345678"),
        ("(11) 91234-5678", "BR", "+5511912345678"),
        ("123", "US", None),
        ("not a phone", "US", None),
        ("+1 000 000 0000", "US", None),
    ],
)
def test_normalize_phone_to_e164(raw: str, region: str, expected: str | None) -> None:
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("jane@example.com", "email"),
        ("+1 415 555 0100", "phone"),
        ("(415) 555-0100", "phone"),
        ("crm-42", "external_id"),
        ("cus_123", "external_id"),
        ("1234", "external_id"),
        ("user 12", "external_id"),
    ],
)
def test_classify_identity(raw: str, kind: str) -> None:
    assert classify_identity(raw, "US") == (kind, raw)


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("email", "test@test.com"),
        ("email", " TEST@Test.com "),
        ("external_id", "undefined"),
        ("external_id", "NULL"),
        ("external_id", "0"),
        ("anonymous_id", "[object Object]"),
        ("anonymous_id", "NaN"),
        ("session_id", ""),
        ("external_id", "   "),
        ("anonymous_id", "guest"),
    ],
)
def test_junk_values_are_blocked(kind: IdentifierKind, raw: str) -> None:
    outcome = normalize_identifier(kind, raw, region="US", blocklist=DEFAULT_BLOCKLIST)
    assert outcome == Rejection(kind, raw, "blocked")


def test_tenant_blocklist_extends_the_default() -> None:
    blocklist = DEFAULT_BLOCKLIST | {"demo-user"}
    assert isinstance(
        normalize_identifier("external_id", "Demo-User", region="US", blocklist=blocklist),
        Rejection,
    )


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("email", " A@X.io", Identifier("email", "a@x.io")),
        ("phone", "415-555-0100", Identifier("phone", "+14155550100")),
        ("external_id", 42, Identifier("external_id", "42")),
        ("external_id", " crm-1 ", Identifier("external_id", "crm-1")),
        ("anonymous_id", "Abc-DEF", Identifier("anonymous_id", "Abc-DEF")),
        ("email", "nope", Rejection("email", "nope", "invalid")),
        ("phone", "12", Rejection("phone", "12", "invalid")),
        ("external_id", True, Rejection("external_id", "True", "invalid")),
        ("anonymous_id", {"a": 1}, Rejection("anonymous_id", "{'a': 1}", "invalid")),
        ("external_id", "x" * 300, Rejection("external_id", "x" * 255, "invalid")),
        ("email", None, None),
    ],
)
def test_normalize_identifier(kind: IdentifierKind, raw: object, expected: object) -> None:
    assert normalize_identifier(kind, raw, region="US", blocklist=DEFAULT_BLOCKLIST) == expected


@given(st.text(max_size=40))
def test_normalize_email_is_idempotent(raw: str) -> None:
    once = normalize_email(raw)
    if once is not None:
        assert normalize_email(once) == once


@pytest.mark.parametrize(
    ("rejection", "because"),
    [
        (
            Rejection("email", "jane@@example", "invalid"),
            "it has 2 @ signs; an email address has one",
        ),
        (
            Rejection("email", "jane@example", "invalid"),
            "its domain 'example' has no dot inside it",
        ),
        (Rejection("email", "jane@example.", "invalid"), "its domain 'example.' has no dot inside"),
        (Rejection("email", "@example.com", "invalid"), "nothing comes before its @"),
        (Rejection("email", "ja ne@example.com", "invalid"), "it contains a space"),
        (Rejection("phone", "12", "invalid"), "give it with its country code, as +14155550100"),
        (Rejection("external_id", " ", "invalid"), "it is empty"),
        (Rejection("external_id", "x" * 255, "invalid"), "longer than 255 characters"),
        (Rejection("external_id", "undefined", "blocked"), "it is on the blocklist"),
    ],
)
def test_a_rejected_identifier_says_why_it_is_unusable(rejection: Rejection, because: str) -> None:
    assert because in unusable_because(rejection)
