"""The demo's clock, ids and the calls it records: what was sent, when (seeded, pure)."""

from __future__ import annotations

import random
import string
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from journeyline.demo.shop import PRODUCTS, Product

_ALPHANUMERIC: Final = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class TrackedCall:
    """A Keystone event as the shop's tracker (browser) or its own server sent it."""

    at: datetime
    body: dict[str, Any]
    from_server: bool = False


@dataclass(frozen=True, slots=True)
class ProviderCall:
    """A provider's delivery, unsigned: the connection's secret signs it when it is sent."""

    at: datetime
    provider: Literal["stripe", "shopify"]
    body: bytes
    headers: dict[str, str]


Call = TrackedCall | ProviderCall


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Timeline:
    """The calls recorded so far, and one seeded generator for every choice, id and moment:
    the same seed and `now` replay the same month."""

    rng: random.Random
    now: datetime
    calls: list[Call] = field(default_factory=list)
    next_order: int = 1001
    next_shopify_order: int = 1001

    def ago(self, low_days: float, high_days: float) -> datetime:
        return self.now - timedelta(days=self.rng.uniform(low_days, high_days))

    def later(self, at: datetime, low_days: float, high_days: float) -> datetime:
        return at + timedelta(days=self.rng.uniform(low_days, high_days))

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def token(self, length: int) -> str:
        return "".join(self.rng.choices(_ALPHANUMERIC, k=length))

    def order_id(self) -> str:
        self.next_order += 1
        return f"TH-{self.next_order - 1}"

    def products(self, low: int, high: int) -> list[Product]:
        return self.rng.sample(PRODUCTS, self.rng.randint(low, high))
