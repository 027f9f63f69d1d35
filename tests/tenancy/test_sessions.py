"""Dashboard session tokens (no I/O): issued, verified, expired, tampered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from journeyline.tenancy.sessions import SessionClaim, csrf_token, issue, verify

SECRET = b"s" * 32
NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)
DAY = 24 * 3600.0


def test_a_token_verifies_to_its_claim() -> None:
    token = issue(SECRET, "abc123", NOW)
    assert verify(SECRET, token, NOW + timedelta(hours=1), DAY) == SessionClaim(
        "abc123", int(NOW.timestamp())
    )


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature
        lambda t: "x" + t,  # the key hash
        lambda t: t.replace(str(int(NOW.timestamp())), str(int(NOW.timestamp()) + 1)),  # time
        lambda t: "",
        lambda t: "no-dots",
        lambda t: "..",
    ],
)
def test_a_tampered_token_is_refused(mutate: object) -> None:
    token = issue(SECRET, "abc123", NOW)
    assert verify(SECRET, mutate(token), NOW, DAY) is None  # type: ignore[operator]


def test_another_secret_refuses_it() -> None:
    assert verify(b"t" * 32, issue(SECRET, "abc123", NOW), NOW, DAY) is None


def test_an_expired_or_future_token_is_refused() -> None:
    token = issue(SECRET, "abc123", NOW)
    assert verify(SECRET, token, NOW + timedelta(seconds=DAY + 1), DAY) is None
    assert verify(SECRET, token, NOW - timedelta(seconds=5), DAY) is None


def test_the_csrf_token_depends_on_the_session() -> None:
    first, second = issue(SECRET, "a", NOW), issue(SECRET, "b", NOW)
    assert csrf_token(SECRET, first) != csrf_token(SECRET, second)
    assert csrf_token(SECRET, first) == csrf_token(SECRET, first)
