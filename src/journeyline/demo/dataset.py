"""The demo data set: a month of a small shop's visitors and buyers as timed calls (pure, seeded)."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

import orjson

from journeyline.demo.shop import (
    ANONYMOUS_ARRIVALS,
    ANONYMOUS_VISITORS,
    BRAND_SEARCH,
    CLUB,
    CLUB_FEEDBACK,
    COMPANIES,
    CURRENCY,
    DIRECT,
    FIRST_NAMES,
    FREE_MAIL,
    LAST_NAMES,
    ORGANIC,
    PHONES,
    REFERRAL,
    SUMMER_SALE,
    TITLES,
    TRAIL_LAUNCH,
    WEEKLY_DIGEST,
    WORK_EMAILS,
    WORKSHOPS,
    Person,
    arrival_by,
)
from journeyline.demo.shopify_orders import (
    ShopifyLine,
    ShopifyOrder,
    shopify_headers,
    shopify_order,
)
from journeyline.demo.stripe_events import (
    STRIPE_HEADERS,
    StripeCheckout,
    StripeSubscription,
    stripe_checkout_session,
    stripe_event,
    stripe_subscription,
)
from journeyline.demo.timeline import Call, ProviderCall, Timeline, TrackedCall, stamp
from journeyline.demo.visits import Visit

Role = Literal["two_devices", "newsletter", "stripe", "shopify", "browser"]
# Who the identified people are; their counts fix how many merges, orders and carts there are.
# Every cart left behind is at least four days old at `now`, so the sweep abandons it under any
# `abandon_after` shorter than that (the default is an hour).
ROLES: Final[tuple[tuple[Role, int], ...]] = (
    ("two_devices", 3),  # phone then laptop: the second identify merges the first device
    ("newsletter", 3),  # imported by the shop's server; a click on the digest merges the visit
    ("stripe", 4),  # browse, pay a Stripe link (the anchor), come back and log in (merge)
    ("shopify", 3),  # browse, order on Shopify (the anchor), come back and log in (merge)
    ("browser", 2),  # identify at the storefront checkout and buy there (a promotion, no merge)
)


@dataclass(frozen=True, slots=True)
class Dataset:
    calls: tuple[Call, ...]  # in time order
    people: tuple[Person, ...]
    visitors: int


def _people(rng: random.Random) -> list[Person]:
    """Distinct first names make distinct emails; the first WORK_EMAILS work for a company."""
    count = sum(size for _role, size in ROLES)
    people = []
    for index, (first, last) in enumerate(
        zip(rng.sample(FIRST_NAMES, count), rng.sample(LAST_NAMES, count), strict=True)
    ):
        company: str | None = None
        title: str | None = None
        if index < WORK_EMAILS:
            company, domain = COMPANIES[index % len(COMPANIES)]
            title = rng.choice(TITLES)
            email = f"{first}.{last}@{domain}".lower()
        else:
            email = f"{first}{last}{rng.randint(7, 98)}@{rng.choice(FREE_MAIL)}".lower()
        # Two people leave a phone too (one with a company, one without).
        phone = PHONES[index // 10] if index % 10 == 0 else None
        people.append(Person(first, last, email, company, title, phone))
    rng.shuffle(people)
    return people


def _anonymous(timeline: Timeline, abandons: bool, checkout: bool) -> None:
    rng = timeline.rng
    device = timeline.uuid()
    arrivals, weights = zip(*ANONYMOUS_ARRIVALS, strict=True)
    if abandons:
        visit = Visit(timeline, device, rng.choices(arrivals, weights)[0], timeline.ago(4, 28))
        visit.browse(rng.randint(0, 2), rng.randint(1, 3))
        order_id = timeline.order_id()
        cart = visit.viewed[: rng.randint(1, len(visit.viewed))]
        visit.add_to_cart(order_id, cart)
        if checkout:
            visit.start_checkout(order_id, cart)
        return
    at = timeline.ago(1, 30)
    for number in range(rng.choice((1, 1, 2, 3))):
        arrival = rng.choices(arrivals, weights)[0] if number == 0 else DIRECT
        visit = Visit(timeline, device, arrival, at)
        visit.browse(rng.randint(0, 3), rng.randint(0, 3))
        at = timeline.later(visit.at, 1, 6)
        if at > timeline.now - timedelta(hours=2):
            break


def _two_devices(timeline: Timeline, person: Person, index: int) -> None:
    rng = timeline.rng
    phone, laptop = timeline.uuid(), timeline.uuid()
    start = timeline.ago(11, 28)
    first = Visit(timeline, phone, arrival_by(TRAIL_LAUNCH), start)
    first.browse(1, rng.randint(1, 2))
    second = Visit(timeline, laptop, arrival_by(BRAND_SEARCH), timeline.later(start, 1, 3))
    second.browse(1, 2)
    second.identify(person)
    if index == 0:
        order_id, cart = timeline.order_id(), second.viewed[:2]
        second.add_to_cart(order_id, cart)
        second.start_checkout(order_id, cart)
        second.complete_order(order_id, cart)
    third = Visit(timeline, phone, DIRECT, timeline.later(start, 4, 7))
    third.browse(0, 1)
    third.identify(person)
    if index == 1:
        third.add_to_cart(timeline.order_id(), third.viewed[:1])


def _newsletter(timeline: Timeline, person: Person, index: int) -> None:
    rng = timeline.rng
    imported = timeline.ago(27, 30)
    timeline.calls.append(
        TrackedCall(
            imported,
            {
                "event_type": "identify",
                "identity": person.email,
                "payload": {**person.traits(), "newsletter": "weekly_digest"},
                "message_id": timeline.uuid(),
                "timestamp": stamp(imported),
            },
            from_server=True,
        )
    )
    visit = Visit(timeline, timeline.uuid(), arrival_by(WEEKLY_DIGEST), timeline.ago(5, 20))
    visit.browse(1, rng.randint(1, 3))
    visit.identify(person)
    if index == 0:
        order_id, cart = timeline.order_id(), visit.viewed[:1]
        visit.add_to_cart(order_id, cart)
        visit.start_checkout(order_id, cart)
        visit.complete_order(order_id, cart)
    elif index == 1:
        order_id, cart = timeline.order_id(), visit.viewed
        visit.add_to_cart(order_id, cart)
        visit.start_checkout(order_id, cart)
    else:
        again = Visit(timeline, visit.device, DIRECT, timeline.later(visit.at, 1, 3))
        again.browse(1, 1)


def _stripe_ids(timeline: Timeline) -> dict[str, str]:
    token = timeline.token
    return {
        "event": f"evt_{token(24)}",
        "session": f"cs_test_{token(58)}",
        "customer": f"cus_{token(14)}",
        "invoice": f"in_{token(24)}",
        "payment_intent": f"pi_{token(24)}",
        "subscription": f"sub_{token(14)}",
        "item": f"si_{token(14)}",
    }


def _stripe_call(at: datetime, event: dict[str, Any]) -> ProviderCall:
    return ProviderCall(at, "stripe", orjson.dumps(event), dict(STRIPE_HEADERS))


def _stripe_buyer(timeline: Timeline, person: Person, index: int) -> None:
    rng = timeline.rng
    device = timeline.uuid()
    subscribes = index == 0
    start = timeline.ago(18, 26) if subscribes else timeline.ago(9, 26)
    arrival = rng.choice((arrival_by(SUMMER_SALE), arrival_by(BRAND_SEARCH), ORGANIC))
    visit = Visit(timeline, device, arrival, start)
    visit.browse(1, 1)
    visit.page("/pages/club" if subscribes else "/pages/workshops")
    paid = visit.at + timedelta(minutes=rng.uniform(2, 9))
    ids = _stripe_ids(timeline)
    amount = CLUB.unit_amount if subscribes else rng.choice(WORKSHOPS)[1]
    checkout = StripeCheckout(
        session_id=ids["session"],
        customer_id=ids["customer"],
        email=person.email,
        name=person.name,
        amount_cents=amount,
        currency="usd",
        invoice_id=ids["invoice"],
        payment_intent_id=None if subscribes else ids["payment_intent"],
        subscription_id=ids["subscription"] if subscribes else None,
        created=paid - timedelta(minutes=3),
    )
    session = stripe_checkout_session(checkout)
    timeline.calls.append(
        _stripe_call(paid, stripe_event(ids["event"], "checkout.session.completed", paid, session))
    )
    if subscribes:
        subscription = StripeSubscription(
            subscription_id=ids["subscription"],
            item_id=ids["item"],
            customer_id=ids["customer"],
            latest_invoice=ids["invoice"],
            plan=CLUB,
            started=paid,
        )
        created = paid + timedelta(seconds=3)
        timeline.calls.append(
            _stripe_call(
                created,
                stripe_event(
                    f"evt_{timeline.token(24)}",
                    "customer.subscription.created",
                    created,
                    stripe_subscription(subscription),
                ),
            )
        )
        ended = timeline.later(paid, 9, 14)
        cancelled = replace(subscription, cancelled=ended, feedback=CLUB_FEEDBACK)
        timeline.calls.append(
            _stripe_call(
                ended,
                stripe_event(
                    f"evt_{timeline.token(24)}",
                    "customer.subscription.deleted",
                    ended,
                    stripe_subscription(cancelled),
                ),
            )
        )
    back = Visit(timeline, device, DIRECT, timeline.later(paid, 2, 5))
    back.browse(1, 1)
    back.identify(person)


def _shopify_buyer(timeline: Timeline, person: Person) -> None:
    rng = timeline.rng
    device = timeline.uuid()
    start = timeline.ago(7, 26)
    arrival = rng.choice((arrival_by(TRAIL_LAUNCH), arrival_by(SUMMER_SALE), REFERRAL))
    visit = Visit(timeline, device, arrival, start)
    visit.browse(1, rng.randint(1, 3))
    paid = visit.at + timedelta(minutes=rng.uniform(4, 20))
    order = ShopifyOrder(
        order_id=5324830114101 + rng.randint(10_000, 9_999_999),
        number=timeline.next_shopify_order,
        checkout_id=36646099517750 + rng.randint(10_000, 9_999_999),
        checkout_token=f"{rng.getrandbits(128):032x}",
        token=f"{rng.getrandbits(128):032x}",
        customer_id=7012345678901 + rng.randint(10_000, 9_999_999),
        email=person.email,
        first_name=person.first_name,
        last_name=person.last_name,
        lines=tuple(
            ShopifyLine(
                line_id=13925006311734 + rng.randint(10_000, 9_999_999),
                product_id=product.product_id,
                variant_id=product.variant_id,
                sku=product.sku,
                title=product.name,
                price=product.price,
                quantity=1,
            )
            for product in visit.viewed[:2]
        ),
        currency=CURRENCY,
        at=paid,
    )
    timeline.next_shopify_order += 1
    headers = shopify_headers("orders/paid", timeline.uuid(), timeline.uuid(), paid)
    timeline.calls.append(
        ProviderCall(paid, "shopify", orjson.dumps(shopify_order(order)), headers)
    )
    back = Visit(timeline, device, DIRECT, timeline.later(paid, 1, 5))
    back.browse(0, 1)
    back.identify(person)


def _browser_buyer(timeline: Timeline, person: Person) -> None:
    rng = timeline.rng
    arrival = rng.choice((arrival_by(SUMMER_SALE), arrival_by(TRAIL_LAUNCH), ORGANIC))
    visit = Visit(timeline, timeline.uuid(), arrival, timeline.ago(2, 25))
    visit.browse(1, rng.randint(1, 3))
    order_id, cart = timeline.order_id(), visit.viewed[:2]
    visit.add_to_cart(order_id, cart)
    visit.identify(person)
    visit.start_checkout(order_id, cart)
    visit.complete_order(order_id, cart)


def build_dataset(seed: int, now: datetime) -> Dataset:
    """Everything the shop's tracker, server, Stripe and Shopify sent over the 30 days before
    `now`: the same calls, ids and times for the same seed and `now`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    rng = random.Random(seed)
    timeline = Timeline(rng, now.astimezone(UTC))
    people = _people(rng)
    roles = [role for role, count in ROLES for _ in range(count)]
    seen: dict[Role, int] = {}
    for person, role in zip(people, roles, strict=True):
        index = seen[role] = seen.get(role, -1) + 1
        if role == "two_devices":
            _two_devices(timeline, person, index)
        elif role == "newsletter":
            _newsletter(timeline, person, index)
        elif role == "stripe":
            _stripe_buyer(timeline, person, index)
        elif role == "shopify":
            _shopify_buyer(timeline, person)
        else:
            _browser_buyer(timeline, person)
    for index in range(ANONYMOUS_VISITORS):
        _anonymous(timeline, abandons=index < 3, checkout=index == 0)
    calls = sorted(timeline.calls, key=lambda call: call.at)
    return Dataset(tuple(calls), tuple(people), ANONYMOUS_VISITORS + len(people))
