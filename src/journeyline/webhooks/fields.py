"""Tolerant readers for provider payloads: a field of the wrong type reads as absent.

Every adapter reads a provider's JSON through these, so that a delivery it can read at all maps
with the fields it could not read left out (never a 500, never a wrongly typed value in the log).
Readers with real provider differences (Stripe's minor-unit money, Shopify's string money and
ids, Hotmart's epoch milliseconds) stay in their adapters. `external_event` builds the event
every adapter emits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from journeyline.errors import InvalidPayload
from journeyline.ingest.canonical import CanonicalEvent, JsonObject
from journeyline.ingest.taxonomy import validate_payload
from journeyline.webhooks.provider import Delivery

# The events table keeps external_event_id and object_id_ref in 255 characters.
MAX_REF_LENGTH: Final = 255


def json_object(value: object) -> JsonObject:
    """A nested object, or an empty one when the field is absent or of another type."""
    return value if isinstance(value, dict) else {}


def objects(value: object) -> list[JsonObject]:
    """The objects of a JSON list, skipping its other items; empty when it is not a list."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def text(value: object, *, strip: bool = False) -> str | None:
    """A non-blank string, as sent (or trimmed, with `strip`); anything else (null, "", a
    number) counts as absent."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip() if strip else value


def required_text(value: object, *, field: str, message: str, strip: bool = False) -> str:
    """`text(value)`, which the delivery cannot do without: InvalidPayload(`message`, `field`)
    when it is absent."""
    found = text(value, strip=strip)
    if found is None:
        raise InvalidPayload(message, field=field)
    return found


def integer(value: object) -> int | None:
    # bool is an int subclass: `true` is not an amount.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def number(value: object) -> int | float | None:
    """An integer or a float, not a bool."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def boolean(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def identifier(value: object, *, strip: bool = False) -> str | int | None:
    """An id as sent: a JSON integer (not a bool) or non-blank text (trimmed, with `strip`)."""
    whole = integer(value)
    return text(value, strip=strip) if whole is None else whole


def reference(value: object, *, strip: bool = False) -> str | None:
    """An id as the text the events table can hold (object_id_ref), or None."""
    ident = identifier(value, strip=strip)
    if ident is None:
        return None
    ref = str(ident)
    return ref if len(ref) <= MAX_REF_LENGTH else None


def idempotency_key(ident: str | int | None, *, field: str, message: str) -> str | None:
    """A delivery's id as its idempotency key; one too long for the events table is an
    InvalidPayload(`message`, `field`): truncating would let two deliveries share a key."""
    if ident is None:
        return None
    key = str(ident)
    if len(key) > MAX_REF_LENGTH:
        raise InvalidPayload(message, field=field)
    return key


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


def product_list(items: Iterable[JsonObject]) -> list[JsonObject] | None:
    """The line items that carry any field; None rather than an empty list, so that no
    `products` key is sent (`products` replaces an order's items)."""
    return [item for item in items if item] or None


def body_object(delivery: Delivery, message: str) -> JsonObject:
    """The delivery's body, which must be a JSON object: InvalidPayload(`message`) if not."""
    body = delivery.json()
    if not isinstance(body, dict):
        raise InvalidPayload(message)
    return body


@dataclass(frozen=True, slots=True)
class Meaning:
    """What one provider object means: the canonical type, its payload, who it is about (and
    the provider's own customer id and the traits it sets, where it has them)."""

    event_type: str
    payload: JsonObject
    email: str | None = None
    phone: str | None = None
    customer_id: str | None = None
    traits: JsonObject | None = None


def check_payload(event_type: str, payload: JsonObject) -> None:
    """Raise InvalidPayload naming the field when a mapped payload breaks the taxonomy.

    A payload built from these typed reads holds; it is checked so that a mapping bug is a 422
    naming the field rather than bad data in the log.
    """
    problem = validate_payload(event_type, payload)
    if problem is not None:
        field_name, message = problem
        raise InvalidPayload(message, field=f"payload.{field_name}")


def external_event(
    provider: str,
    delivery: Delivery,
    *,
    event_type: str,
    event_name: str,
    occurred_at: datetime | None,
    payload: JsonObject,
    raw_payload: JsonObject,
    external_event_id: str | None,
    email: str | None,
    phone: str | None,
    external_id: str | None,
    object_id_ref: str | None,
    traits: JsonObject | None = None,
) -> CanonicalEvent:
    """The canonical event of a provider delivery: external, from `provider`, received when the
    delivery was, and allowed to name no customer at all (a webhook may not)."""
    return CanonicalEvent(
        event_type=event_type,
        event_name=event_name,
        source_type="external",
        source=provider,
        received_at=delivery.received_at,
        occurred_at=occurred_at,
        payload=payload,
        raw_payload=raw_payload,
        traits=traits,
        external_event_id=external_event_id,
        email=email,
        phone=phone,
        external_id=external_id,
        object_id_ref=object_id_ref,
        allow_no_identity=True,
    )
