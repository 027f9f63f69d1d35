"""What a dashboard search means (pure): the identifier kind a query names."""

from __future__ import annotations

import re
import uuid
from typing import Final, Literal

QueryKind = Literal["profile_id", "email", "phone", "external_id", "anonymous_id"]

_PHONE: Final = re.compile(r"^\+?[\d\s().-]{6,}$")


def kinds_for(query: str) -> list[QueryKind]:
    """The kinds to try, most specific first: a UUID is a profile id (an anonymous id may be a
    UUID too), an @ an email, digits a phone; anything else an external or anonymous id."""
    text = query.strip()
    if not text:
        return []
    try:
        uuid.UUID(text)
    except ValueError:
        pass
    else:
        return ["profile_id", "anonymous_id", "external_id"]
    if "@" in text:
        return ["email", "external_id"]
    if _PHONE.match(text) and sum(c.isdigit() for c in text) >= 6:
        return ["phone", "external_id", "anonymous_id"]
    return ["external_id", "anonymous_id"]


BADGES: Final[dict[str, str]] = {"direct": "client", "internal": "server", "external": "provider"}


def badge(source_type: str) -> str:
    """Who sent an event, as the timeline shows it."""
    return BADGES.get(source_type, source_type)
