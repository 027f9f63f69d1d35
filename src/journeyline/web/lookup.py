"""What a dashboard search means (pure): the fragments a query is matched by, normalised as the
API normalises identifiers (identity/normalize.py), and the timeline's badges."""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Final

from journeyline.identity.normalize import MAX_LENGTH, normalize_phone

# A term is cut to the longest identifier the store holds: nothing longer can match.
MAX_TERM: Final = MAX_LENGTH
# A phone fragment: phone characters only, with at least this many digits ("555 01" is one,
# "42" too short to mean a phone).
PHONE_FRAGMENT_DIGITS: Final = 3
_PHONE_CHARS: Final = re.compile(r"^\+?[0-9 ().\-/]+$")


@dataclass(frozen=True, slots=True)
class SearchTerms:
    """How one query matches a profile: any of these (a fragment matches anywhere inside)."""

    text: str  # the query as typed (cleaned): a fragment of the name or an external id
    email: str  # trimmed and lower-cased, as emails are stored: a fragment of one
    phone_digits: str | None  # its digits when it reads as a phone fragment
    phone: str | None  # its E.164 form when it is a whole valid number in the tenant's region
    profile_id: uuid.UUID | None  # a profile id, matched exactly


def clean_query(raw: str) -> str:
    """The query a user meant: without control characters (a NUL cannot reach PostgreSQL), lone
    surrogates (no UTF-8 encodes them) and U+FFFD (what undecodable bytes were read as),
    whitespace collapsed, cut to MAX_TERM characters."""
    kept = "".join(
        " " if character.isspace() else character
        for character in raw
        if character.isspace()
        or (unicodedata.category(character) not in ("Cc", "Cs") and character != "\ufffd")
    )
    return " ".join(kept.split())[:MAX_TERM]


def search_terms(raw: str, region: str) -> SearchTerms | None:
    """The fragments `raw` matches by; None when nothing is left to search for."""
    text = clean_query(raw)
    if not text:
        return None
    try:
        profile_id: uuid.UUID | None = uuid.UUID(text)
    except ValueError:
        profile_id = None
    digits = "".join(character for character in text if character in "0123456789")
    phone_like = bool(_PHONE_CHARS.match(text)) and len(digits) >= PHONE_FRAGMENT_DIGITS
    return SearchTerms(
        text=text,
        email=text.lower(),
        phone_digits=digits if phone_like else None,
        phone=normalize_phone(text, region) if phone_like else None,
        profile_id=profile_id,
    )


BADGES: Final[dict[str, str]] = {"direct": "client", "internal": "server", "external": "provider"}


def badge(source_type: str) -> str:
    """Who sent an event, as the timeline shows it."""
    return BADGES.get(source_type, source_type)
