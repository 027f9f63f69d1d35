"""A provider for tests of the delivery machinery (the Dispatch `dispatch_test` pattern):
HMAC-hex signature in `X-Fake-Signature`; `{"id", "type", "email"}` bodies."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from journeyline.errors import InvalidPayload
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.webhooks.provider import (
    Delivery,
    Mapped,
    VerificationFailed,
    constant_time_equal,
)


def fake_signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class FakeProvider:
    name: str = "fake"
    # Types it maps; tests add one to show a replay picking up a new mapping.
    mapped_types: set[str] = field(default_factory=lambda: {"purchase"})

    def verify(self, delivery: Delivery, secrets: Sequence[str], now: datetime) -> None:
        presented = delivery.header("x-fake-signature")
        if presented is None:
            raise VerificationFailed("missing X-Fake-Signature")
        if not any(
            constant_time_equal(fake_signature(secret, delivery.body), presented)
            for secret in secrets
        ):
            raise VerificationFailed("no secret matches the signature")

    def parse(self, delivery: Delivery) -> Mapped:
        body = delivery.json()
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise InvalidPayload("a fake delivery is an object with a string id", field="id")
        kind = str(body.get("type"))
        if kind not in self.mapped_types:
            return Mapped(body["id"], kind)
        event = CanonicalEvent(
            event_type="purchase_completed" if kind == "purchase" else kind,
            event_name=kind,
            source_type="external",
            source=self.name,
            received_at=delivery.received_at,
            payload={"amount": 10.0},
            raw_payload=body,
            external_event_id=body["id"],
            email=body.get("email") if isinstance(body.get("email"), str) else None,
            allow_no_identity=True,
        )
        return Mapped(body["id"], kind, [event])
