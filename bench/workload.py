"""What the benchmark sends: realistic Keystone events, and the rows they become in `events`.

A site with `visitors` browsers (anonymous ids); one in four belongs to a known customer (an
email from a pool), each customer to exactly one browser, so identity never conflicts. The mix
is 65% track (product views, cart adds, checkouts, orders), 25% page and 10% identify (known
visitors only; the others view a page instead). Known visitors are logged in (their track events
carry the email) half the time. Every event has a unique message_id and a timestamp.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from journeyline.config import Settings
from journeyline.ids import uuid7
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.idempotency import payload_hash
from journeyline.ingest.service import parser_for
from journeyline.tenancy.context import build_context

START = datetime(2026, 11, 1, tzinfo=UTC)
PAGES = ["/", "/pricing", "/products", "/blog/launch", "/docs", "/checkout"]
CATEGORIES = ["shoes", "bags", "outerwear", "accessories"]
PLANS = ["free", "pro", "team"]


@dataclass(frozen=True)
class Population:
    visitors: int = 20_000
    # One visitor in `known_every` is a known customer.
    known_every: int = 4

    def anonymous_id(self, visitor: int) -> str:
        return f"anon-{visitor:06d}"

    def email(self, visitor: int) -> str | None:
        if visitor % self.known_every:
            return None
        return f"customer{visitor // self.known_every:05d}@bench.journeyline.io"


def _track(rng: random.Random) -> tuple[str, dict[str, Any]]:
    product = rng.randrange(500)
    price = round(rng.uniform(5, 400), 2)
    roll = rng.random()
    if roll < 0.6:
        return "Product Viewed", {
            "product_id": f"P-{product:04d}",
            "product_name": f"Product {product}",
            "category": CATEGORIES[product % len(CATEGORIES)],
            "price": price,
        }
    if roll < 0.85:
        return "Added to Cart", {
            "product_id": f"P-{product:04d}",
            "price": price,
            "quantity": rng.randint(1, 3),
        }
    if roll < 0.95:
        return "Checkout Started", {"value": price, "currency": "EUR"}
    return "Order Completed", {
        "order_id": f"O-{rng.randrange(10**9):09d}",
        "revenue": price,
        "currency": "EUR",
        "products": [{"product_id": f"P-{product:04d}", "price": price, "quantity": 1}],
    }


def keystone_events(
    count: int, *, seed: int = 7, population: Population | None = None
) -> Iterator[dict[str, Any]]:
    """`count` Keystone events (deterministic for a seed, apart from message ids)."""
    people = population or Population()
    rng = random.Random(seed)
    for index in range(count):
        visitor = rng.randrange(people.visitors)
        anonymous_id = people.anonymous_id(visitor)
        email = people.email(visitor)
        at = (START + timedelta(milliseconds=index * 37)).isoformat()
        common = {"anonymous_id": anonymous_id, "message_id": str(uuid.uuid4()), "timestamp": at}
        roll = rng.random()
        if roll < 0.10 and email is not None:
            yield {
                "event_type": "identify",
                "identity": email,
                "payload": {
                    "first_name": f"Customer{visitor}",
                    "plan": rng.choice(PLANS),
                    "newsletter": rng.random() < 0.5,
                },
                **common,
            }
        elif roll < 0.35:
            page = rng.choice(PAGES)
            yield {
                "event_type": "page",
                "event_name": page,
                "payload": {
                    "path": page,
                    "referrer": "https://search.example/",
                    "utm_campaign": "autumn",
                    "utm_medium": "cpc",
                },
                **common,
            }
        else:
            name, payload = _track(rng)
            event: dict[str, Any] = {"event_type": "track", "event_name": name, "payload": payload}
            if email is not None and rng.random() < 0.5:
                event["identity"] = email
            yield {**event, **common}


def event_rows(
    events: list[dict[str, Any]], tenant_id: uuid.UUID, *, profiles: int = 5_000
) -> list[tuple[Any, ...]]:
    """The `events` rows these Keystone events become when sent with a secret key (parsed by
    the real adapter; ids, hashes and columns as the pipeline writes them), as COPY records in
    the order of `EVENT_COLUMNS`."""
    context = build_context(tenant_id, "secret", {}, Settings(database_url="sqlite://"))
    received_at = datetime.now(UTC)
    parse = parser_for("keystone", context, received_at)
    profile_ids = [uuid.uuid4() for _ in range(profiles)]

    def dumped(value: dict[str, Any] | None) -> str | None:
        return None if value is None else orjson.dumps(value).decode()

    rows: list[tuple[Any, ...]] = []
    for index, item in enumerate(events):
        event: CanonicalEvent = parse(item)
        rows.append(
            (
                tenant_id,
                uuid7(),
                profile_ids[index % profiles],
                event.source_type,
                event.source,
                event.event_type,
                event.event_name[:255],
                event.object_id,
                event.object_id_ref,
                dumped(event.payload),
                dumped(event.raw_payload),
                dumped(event.traits),
                event.external_event_id,
                payload_hash(event),
                event.anonymous_id,
                event.session_id,
                event.campaign_id,
                event.channel,
                event.occurred_at or received_at,
                event.received_at,
            )
        )
    return rows


EVENT_COLUMNS = [
    "tenant_id",
    "id",
    "profile_id",
    "source_type",
    "source",
    "event_type",
    "event_name",
    "object_id",
    "object_id_ref",
    "payload",
    "raw_payload",
    "traits",
    "external_event_id",
    "payload_hash",
    "anonymous_id",
    "session_id",
    "campaign_id",
    "channel",
    "occurred_at",
    "received_at",
]
