"""A visit as the shop's tracker reports it: page views, product and cart events, identify."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from journeyline.demo.shop import (
    CURRENCY,
    PAGES,
    PRODUCTS,
    SHOP_NAME,
    SITE,
    Arrival,
    Person,
    Product,
)
from journeyline.demo.timeline import Timeline, TrackedCall, stamp


@dataclass
class Visit:
    """One tracker session. As the tracker does, its page and track events carry the campaign
    it arrived with, and each page's referrer is the page before."""

    timeline: Timeline
    device: str  # the browser's anonymous id
    arrival: Arrival
    at: datetime
    session: str = ""
    url: str | None = None
    viewed: list[Product] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.session = self.timeline.uuid()
        campaign = self.arrival.campaign
        search = (
            ""
            if campaign is None
            else f"?utm_source={campaign.source}&utm_medium={campaign.medium}"
            f"&utm_campaign={campaign.name}"
        )
        self.page(self.arrival.landing, search=search, referrer=self.arrival.referrer)

    def _tick(self) -> datetime:
        self.at += timedelta(seconds=self.timeline.rng.uniform(12, 150))
        return self.at

    def _campaign(self) -> dict[str, Any]:
        campaign = self.arrival.campaign
        if campaign is None:
            return {}
        return {
            "utm_source": campaign.source,
            "utm_medium": campaign.medium,
            "utm_campaign": campaign.name,
        }

    def _send(self, body: dict[str, Any], at: datetime) -> None:
        campaign = self.arrival.campaign
        if campaign is not None and body["event_type"] != "identify":
            body = {**body, "campaign_id": campaign.name, "channel": campaign.medium}
        self.timeline.calls.append(
            TrackedCall(
                at,
                {
                    **body,
                    "anonymous_id": self.device,
                    "session_id": self.session,
                    "message_id": self.timeline.uuid(),
                    "timestamp": stamp(at),
                },
            )
        )

    def page(self, path: str, *, search: str = "", referrer: str | None = None) -> None:
        at = self._tick()
        url = f"{SITE}{path}{search}"
        title = dict(PAGES).get(path) or next(
            (f"{p.name} · {SHOP_NAME}" for p in PRODUCTS if path == f"/products/{p.handle}"),
            SHOP_NAME,
        )
        payload = {
            "url": url,
            "path": path,
            "search": search,
            "title": title,
            # document.referrer is "" when there is none, and the tracker sends it as is.
            "referrer": (referrer or "") if self.url is None else self.url,
            **self._campaign(),
        }
        self.url = url
        self._send({"event_type": "page", "payload": payload}, at)

    def track(self, name: str, properties: dict[str, Any]) -> None:
        at = self._tick()
        payload = {**properties, **self._campaign()}
        self._send({"event_type": "track", "event_name": name, "payload": payload}, at)

    def identify(self, person: Person) -> None:
        at = self._tick()
        self._send(
            {"event_type": "identify", "identity": person.email, "payload": person.traits()}, at
        )

    def view(self, product: Product) -> None:
        self.page(f"/products/{product.handle}")
        self.track(
            "Product Viewed",
            {
                "product_id": str(product.product_id),
                "sku": product.sku,
                "name": product.name,
                "category": product.category,
                "price": float(product.price),
                "currency": CURRENCY,
            },
        )
        self.viewed.append(product)

    def browse(self, pages: int, products: int) -> None:
        for path, _title in self.timeline.rng.sample(PAGES[1:6], pages):
            self.page(path)
        for product in self.timeline.products(products, products):
            self.view(product)

    def add_to_cart(self, order_id: str, cart: Sequence[Product]) -> None:
        for count, product in enumerate(cart, start=1):
            self.track(
                "Product Added",
                {
                    "order_id": order_id,
                    "product_id": str(product.product_id),
                    "sku": product.sku,
                    "name": product.name,
                    "category": product.category,
                    "price": float(product.price),
                    "quantity": 1,
                    "currency": CURRENCY,
                    "products": line_items(cart[:count]),
                    "value": cart_total(cart[:count]),
                },
            )
        self.page("/cart")

    def start_checkout(self, order_id: str, cart: Sequence[Product]) -> None:
        self.page("/checkout")
        self.track(
            "Checkout Started",
            {
                "order_id": order_id,
                "products": line_items(cart),
                "total": cart_total(cart),
                "currency": CURRENCY,
            },
        )

    def complete_order(self, order_id: str, cart: Sequence[Product]) -> None:
        self.track(
            "Order Completed",
            {
                "order_id": order_id,
                "products": line_items(cart),
                "total": cart_total(cart),
                "subtotal": cart_total(cart),
                "shipping": 0.0,
                "tax": 0.0,
                "currency": CURRENCY,
                "payment_method": "card",
            },
        )
        self.page("/checkout/thank-you")


def line_items(cart: Sequence[Product]) -> list[dict[str, Any]]:
    return [
        {
            "product_id": str(product.product_id),
            "sku": product.sku,
            "name": product.name,
            "category": product.category,
            "price": float(product.price),
            "quantity": 1,
        }
        for product in cart
    ]


def cart_total(cart: Sequence[Product]) -> float:
    return float(sum((product.price for product in cart), Decimal(0)))
