"""Identifier normalization: trimmed lower-case emails, E.164 phones, a block list of junk."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import phonenumbers

IdentifierKind = Literal["email", "phone", "external_id", "anonymous_id", "session_id"]
STRONG_KINDS: tuple[IdentifierKind, ...] = ("email", "phone", "external_id")
WEAK_KINDS: tuple[IdentifierKind, ...] = ("anonymous_id", "session_id")
CONFIDENCE: dict[str, float] = {"email": 1.0, "phone": 0.9, "external_id": 0.8}
MAX_LENGTH = 255

# Provider customer ids are external ids in a provider's namespace (`stripe:cus_…`). They do not
# count against the per-profile external id limit, which guards the tenant's own user id: one
# person routinely has several (Stripe creates a customer per checkout unless told otherwise),
# and each resolves to the same person through the email that comes with it.
PROVIDER_NAMESPACES: tuple[str, ...] = ("stripe", "shopify", "hotmart", "typeform")


def is_limited(kind: str, value: str) -> bool:
    """Does this strong identifier count against its kind's per-profile limit?"""
    return not (kind == "external_id" and value.split(":", 1)[0] in PROVIDER_NAMESPACES)


# Values real senders put in identifier fields when they have none (compared lower-cased).
DEFAULT_BLOCKLIST: frozenset[str] = frozenset(
    {
        "",
        "null",
        "none",
        "nil",
        "undefined",
        "nan",
        "0",
        "-1",
        "-",
        "n/a",
        "na",
        "unknown",
        "anonymous",
        "guest",
        "user",
        "test",
        "false",
        "true",
        "[object object]",
        "email",
        "test@test.com",
        "test@example.com",
        "email@example.com",
        "user@example.com",
        "noemail@noemail.com",
        "no@email.com",
        "none@none.com",
        "000-000-0000",
        "0000000000",
    }
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_CHARS = re.compile(r"^\+?[\d\s().\-]+$")


@dataclass(frozen=True, slots=True)
class Identifier:
    kind: IdentifierKind
    value: str


@dataclass(frozen=True, slots=True)
class Rejection:
    """A value ignored for matching and reported as a warning."""

    kind: IdentifierKind
    value: str
    reason: Literal["blocked", "invalid"]


def normalize_email(raw: str) -> str | None:
    value = raw.strip().lower()
    return value if _EMAIL.match(value) else None


def looks_like_phone(raw: str) -> bool:
    value = raw.strip()
    return bool(_PHONE_CHARS.match(value)) and sum(ch.isdigit() for ch in value) >= 7


def normalize_phone(raw: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    formatted: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return formatted


def classify_identity(raw: str, region: str) -> tuple[IdentifierKind, str]:
    """Keystone's `identity`: an email, a phone number, or otherwise an external id."""
    if "@" in raw:
        return "email", raw
    if looks_like_phone(raw) and normalize_phone(raw, region) is not None:
        return "phone", raw
    return "external_id", raw


def normalize_identifier(
    kind: IdentifierKind, raw: object, *, region: str, blocklist: frozenset[str]
) -> Identifier | Rejection | None:
    """The identifier to match on, a Rejection to report, or None when nothing was sent."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return Rejection(kind, str(raw)[:MAX_LENGTH], "invalid")
    text = str(raw)
    if text.strip().lower() in blocklist:
        return Rejection(kind, text[:MAX_LENGTH], "blocked")
    value: str | None
    if kind == "email":
        value = normalize_email(text)
    elif kind == "phone":
        value = normalize_phone(text, region)
    else:
        value = text.strip() or None
    if value is None or len(value) > MAX_LENGTH:
        return Rejection(kind, text[:MAX_LENGTH], "invalid")
    if value.lower() in blocklist:
        return Rejection(kind, text[:MAX_LENGTH], "blocked")
    return Identifier(kind, value)


def unusable_because(rejection: Rejection) -> str:
    """Why a rejected identifier cannot be used, as the sender can fix it (issue 17: a broken
    email should say what is wrong with it, not only that nothing was usable)."""
    if rejection.reason == "blocked":
        return "it is on the blocklist (a placeholder or test value, or the tenant's own)"
    value = rejection.value.strip()
    if rejection.kind == "email":
        at_signs = value.count("@")
        if at_signs != 1:
            return f"it has {at_signs} @ signs; an email address has one, as in jane@example.com"
        name, domain = value.split("@")
        if not name:
            return "nothing comes before its @"
        if any(character.isspace() for character in value):
            return "it contains a space"
        if "." not in domain.strip(".") or domain.startswith(".") or domain.endswith("."):
            return f"its domain {domain!r} has no dot inside it, as in example.com"
        return "it is not an email address, such as jane@example.com"
    if rejection.kind == "phone":
        return (
            "it is not a valid phone number in the tenant's phone region; give it with its "
            "country code, as +14155550100"
        )
    if not value:
        return "it is empty"
    if len(value) >= MAX_LENGTH:
        return f"it is longer than {MAX_LENGTH} characters"
    return "it is not a string or a number"
