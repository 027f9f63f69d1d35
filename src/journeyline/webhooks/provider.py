"""The contract every provider adapter meets (the Dispatch plugin pattern): `verify` checks a
delivery with the provider's own scheme; `parse` maps it to canonical events. Both are pure:
no I/O, no clock (the caller passes `now`), so they are tested with the real fixtures alone.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from journeyline.config import DEFAULT_MAX_JSON_DEPTH
from journeyline.errors import InvalidPayload, MalformedBody
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.documents import check_depth, decode_json


@dataclass(frozen=True, slots=True)
class Delivery:
    """One HTTP delivery as it arrived: the exact bytes (signatures are over them), the
    headers with lower-cased names, when journeyline received it, and how deeply its JSON
    may nest (`limits.max_json_depth`)."""

    body: bytes
    headers: Mapping[str, str]
    received_at: datetime
    max_depth: int = DEFAULT_MAX_JSON_DEPTH

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """The body as JSON, its strings storable (ingest/documents.py). An unreadable body or
        one nested too deep is a 422 (`too_deep`): the delivery is still recorded, with its
        bytes, as `invalid`."""
        try:
            document = decode_json(self.body)
        except MalformedBody as exc:
            raise InvalidPayload(exc.message) from None
        check_depth(document, self.max_depth, encoded=self.body, what="the delivery")
        return document


class VerificationFailed(Exception):
    """The delivery is not provably from the provider: a 401, recorded with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Mapped:
    """What a delivery means.

    `delivery_key` is the provider's idempotency key for the delivery (Stripe's event id,
    Shopify's X-Shopify-Event-Id, ...); `kind` is the provider's own event type (`orders/paid`).
    `events` empty means the type is not mapped: the delivery is recorded as ignored. Each event's
    `external_event_id` is derived from `delivery_key` by the adapter, so a redelivery dedupes.
    """

    delivery_key: str | None
    kind: str
    events: list[CanonicalEvent] = field(default_factory=list)


class Provider(Protocol):
    name: str

    def verify(self, delivery: Delivery, secrets: Sequence[str], now: datetime) -> None:
        """Return if any of `secrets` proves the delivery; raise VerificationFailed if not."""
        ...

    def parse(self, delivery: Delivery) -> Mapped:
        """Map a verified delivery; raise InvalidPayload when it cannot be read at all."""
        ...


def constant_time_equal(expected: str | bytes, presented: str | bytes) -> bool:
    """Compare a signature or token without leaking where it differs."""
    left = expected.encode() if isinstance(expected, str) else expected
    right = presented.encode() if isinstance(presented, str) else presented
    return hmac.compare_digest(left, right)
