"""Tolerant readers of JSON payloads, for every layer: a field of the wrong type reads as absent.

Whatever reads a sender's JSON (the provider adapters, the orders and CRM facts, the graph's
marketing fields) reads it through these, so that a payload it can read at all maps with the
fields it could not read left out — never a 500, never a wrongly typed value in a projection —
and the rules for blanks, trimming, truncation and id length are written once. Readers with
real provider differences (Stripe's minor-unit money, Shopify's string money and ids, Hotmart's
epoch milliseconds) stay in their adapters. Pure, and importing nothing of journeyline.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

JsonObject = dict[str, Any]

# The log and the projections keep ids (external_event_id, object_id_ref, order and product
# ids) in 255 characters.
MAX_REF_LENGTH: Final = 255
# Names, categories and other labels are cut to the columns' width.
LABEL_LENGTH: Final = 255


def json_object(value: object) -> JsonObject:
    """A nested object, or an empty one when the field is absent or of another type."""
    return value if isinstance(value, dict) else {}


def objects(value: object) -> list[JsonObject]:
    """The objects of a JSON list, skipping its other items; empty when it is not a list."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def text(value: object, *, strip: bool = False, limit: int | None = None) -> str | None:
    """A non-blank string, as sent (or trimmed, with `strip`; cut to `limit` characters, for a
    label); anything else (null, "", a number) counts as absent."""
    if not isinstance(value, str) or not value.strip():
        return None
    found = value.strip() if strip else value
    return found if limit is None else found[:limit]


def label(value: object) -> str | None:
    """A name-like text (a product's name, a category, a plan): trimmed, cut to LABEL_LENGTH."""
    return text(value, strip=True, limit=LABEL_LENGTH)


def integer(value: object) -> int | None:
    # bool is an int subclass: `true` is not an amount.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def number(value: object) -> int | float | None:
    """An integer or a float, not a bool."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def real(value: object) -> float | None:
    """A number as a float (an amount, a price, a quantity), not a bool."""
    found = number(value)
    return None if found is None else float(found)


def boolean(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def identifier(value: object, *, strip: bool = False) -> str | int | None:
    """An id as sent: a JSON integer (not a bool) or non-blank text (trimmed, with `strip`)."""
    whole = integer(value)
    return text(value, strip=strip) if whole is None else whole


def reference(value: object, *, strip: bool = False) -> str | None:
    """An id as the text the log and the projections key by (at most MAX_REF_LENGTH), or None:
    an id too long is absent, never cut (two ids would become one)."""
    ident = identifier(value, strip=strip)
    if ident is None:
        return None
    ref = str(ident)
    return ref if len(ref) <= MAX_REF_LENGTH else None


def currency_code(value: object, *, strip: bool = False) -> str | None:
    """An ISO 4217 code, upper-cased as journeyline stores them (Stripe sends lower case): three
    ASCII letters, else absent. With `strip`, the code is trimmed and upper-cased before it is
    checked."""
    if not isinstance(value, str):
        return None
    code = value.strip().upper() if strip else value
    if len(code) == 3 and code.isascii() and code.isalpha():
        return code.upper()
    return None


def iso_time(value: object) -> datetime | None:
    """An ISO 8601 time as a UTC-aware datetime; one without an offset is taken as UTC, and an
    unreadable one is absent."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        # Unreadable, or out of datetime's range once moved to UTC (year 9999 with an offset).
        return None


def compact(**fields: object) -> JsonObject:
    """The fields that have a value: absent data is left out, not sent as null."""
    return {name: value for name, value in fields.items() if value is not None}
