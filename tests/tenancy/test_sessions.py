"""Dashboard session tokens (no I/O): issued, verified, expired, tampered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from journeyline.tenancy.sessions import (
    SessionClaim,
    csrf_token,
    issue,
    new_sign_in_id,
    sign_in_csrf_token,
    stored_id,
    token_matches,
    verify,
)

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


def test_the_sign_in_token_depends_on_the_nonce() -> None:
    assert sign_in_csrf_token(SECRET, "n1") != sign_in_csrf_token(SECRET, "n2")
    assert sign_in_csrf_token(SECRET, "n1") != csrf_token(SECRET, "n1")
    assert sign_in_csrf_token(b"t" * 32, "n1") != sign_in_csrf_token(SECRET, "n1")


@pytest.mark.parametrize(
    ("presented", "matches"),
    [("abc", True), ("abd", False), ("", False), (None, False), ("é", False)],
)
def test_token_matches(presented: str | None, matches: bool) -> None:
    assert token_matches(presented, "abc") is matches


def test_sign_in_ids_are_random_dotless_and_stored_hashed() -> None:
    first, second = new_sign_in_id(), new_sign_in_id()
    assert first != second
    assert "." not in first
    assert len(stored_id(first)) == 64
    assert first not in stored_id(first)
    claim = verify(SECRET, issue(SECRET, first, NOW), NOW, DAY)
    assert claim is not None
    assert claim.sign_in_id == first
