"""What every provider adapter shares beyond the tolerant readers (journeyline/payloads.py):
required fields and idempotency keys as 422s, line items, the delivery's body, what a provider
object means, and `external_event`, the event every adapter emits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from journeyline.errors import InvalidPayload
from journeyline.ingest.canonical import CanonicalEvent, JsonObject
from journeyline.ingest.taxonomy import validate_payload
from journeyline.payloads import MAX_REF_LENGTH, text
from journeyline.webhooks.provider import Delivery


def required_text(value: object, *, field: str, message: str, strip: bool = False) -> str:
    """`text(value)`, which the delivery cannot do without: InvalidPayload(`message`, `field`)
    when it is absent."""
    found = text(value, strip=strip)
    if found is None:
        raise InvalidPayload(message, field=field)
    return found


def idempotency_key(ident: str | int | None, *, field: str, message: str) -> str | None:
    """A delivery's id as its idempotency key; one too long for the events table is an
    InvalidPayload(`message`, `field`): truncating would let two deliveries share a key."""
    if ident is None:
        return None
    key = str(ident)
    if len(key) > MAX_REF_LENGTH:
        raise InvalidPayload(message, field=field)
    return key


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
