"""Shopify orders shaped like the captured orders/paid fixture, with their headers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

SHOPIFY_API_VERSION: Final = "2024-01"
SHOP_DOMAIN: Final = "trailhead-outfitters.myshopify.com"


def _shopify_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class ShopifyLine:
    line_id: int
    product_id: int
    variant_id: int
    sku: str
    title: str
    price: Decimal
    quantity: int


@dataclass(frozen=True, slots=True)
class ShopifyOrder:
    order_id: int
    number: int  # "#1001" is its name
    checkout_id: int
    checkout_token: str
    token: str
    customer_id: int
    email: str
    first_name: str
    last_name: str
    lines: tuple[ShopifyLine, ...]
    currency: str
    at: datetime


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _money_set(amount: Decimal, currency: str) -> dict[str, Any]:
    money = {"amount": _money(amount), "currency_code": currency}
    return {"shop_money": money, "presentment_money": dict(money)}


def _shopify_line(line: ShopifyLine, currency: str, vendor: str) -> dict[str, Any]:
    zero = _money_set(Decimal(0), currency)
    return {
        "id": line.line_id,
        "admin_graphql_api_id": f"gid://shopify/LineItem/{line.line_id}",
        "fulfillable_quantity": line.quantity,
        "fulfillment_service": "manual",
        "fulfillment_status": None,
        "gift_card": False,
        "grams": 0,
        "name": line.title,
        "price": _money(line.price),
        "price_set": _money_set(line.price, currency),
        "product_exists": True,
        "product_id": line.product_id,
        "properties": [],
        "quantity": line.quantity,
        "requires_shipping": True,
        "sku": line.sku,
        "taxable": True,
        "title": line.title,
        "total_discount": "0.00",
        "total_discount_set": zero,
        "variant_id": line.variant_id,
        "variant_inventory_management": "shopify",
        "variant_title": None,
        "vendor": vendor,
        "tax_lines": [],
        "duties": [],
        "discount_allocations": [],
    }


def shopify_order(order: ShopifyOrder) -> dict[str, Any]:
    """An order as in orders_paid.json, with the `customer` a storefront order carries."""
    currency = order.currency
    total = sum((line.price * line.quantity for line in order.lines), Decimal(0))
    zero = _money_set(Decimal(0), currency)
    at = _shopify_time(order.at)
    return {
        "id": order.order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order.order_id}",
        "app_id": 580111,
        "browser_ip": None,
        "buyer_accepts_marketing": False,
        "cancel_reason": None,
        "cancelled_at": None,
        "cart_token": None,
        "checkout_id": order.checkout_id,
        "checkout_token": order.checkout_token,
        "client_details": None,
        "closed_at": None,
        "company": None,
        "confirmed": True,
        "contact_email": order.email,
        "created_at": at,
        "currency": currency,
        "current_subtotal_price": _money(total),
        "current_subtotal_price_set": _money_set(total, currency),
        "current_total_discounts": "0.00",
        "current_total_discounts_set": zero,
        "current_total_duties_set": None,
        "current_total_price": _money(total),
        "current_total_price_set": _money_set(total, currency),
        "current_total_tax": "0.00",
        "current_total_tax_set": zero,
        "customer": {
            "id": order.customer_id,
            "email": order.email,
            "accepts_marketing": False,
            "created_at": at,
            "updated_at": at,
            "first_name": order.first_name,
            "last_name": order.last_name,
            "state": "disabled",
            "note": None,
            "verified_email": True,
            "multipass_identifier": None,
            "tax_exempt": False,
            "phone": None,
            "tags": "",
            "currency": currency,
            "admin_graphql_api_id": f"gid://shopify/Customer/{order.customer_id}",
        },
        "customer_locale": "en",
        "device_id": None,
        "discount_codes": [],
        "email": order.email,
        "estimated_taxes": False,
        "financial_status": "paid",
        "fulfillment_status": None,
        "gateway": "shopify_payments",
        "landing_site": "/",
        "landing_site_ref": None,
        "location_id": None,
        "merchant_of_record_app_id": None,
        "name": f"#{order.number}",
        "note": None,
        "note_attributes": [],
        "number": order.number - 1000,
        "order_number": order.number,
        "order_status_url": f"https://{SHOP_DOMAIN}/orders/{order.token}/authenticate",
        "original_total_duties_set": None,
        "payment_gateway_names": ["shopify_payments"],
        "presentment_currency": currency,
        "processed_at": at,
        "processing_method": "direct",
        "reference": None,
        "referring_site": None,
        "source_identifier": None,
        "source_name": "web",
        "source_url": None,
        "subtotal_price": _money(total),
        "subtotal_price_set": _money_set(total, currency),
        "tags": "",
        "tax_lines": [],
        "taxes_included": False,
        "test": False,
        "token": order.token,
        "total_discounts": "0.00",
        "total_discounts_set": zero,
        "total_line_items_price": _money(total),
        "total_line_items_price_set": _money_set(total, currency),
        "total_outstanding": "0.00",
        "total_price": _money(total),
        "total_price_set": _money_set(total, currency),
        "total_shipping_price_set": zero,
        "total_tax": "0.00",
        "total_tax_set": zero,
        "total_tip_received": "0.00",
        "total_weight": 0,
        "updated_at": at,
        "user_id": None,
        "discount_applications": [],
        "fulfillments": [],
        "line_items": [
            _shopify_line(line, currency, "Trailhead Outfitters") for line in order.lines
        ],
        "payment_terms": None,
        "refunds": [],
        "shipping_lines": [],
    }


def shopify_headers(topic: str, event_id: str, webhook_id: str, at: datetime) -> dict[str, str]:
    """The headers Shopify sends besides its signature (X-Shopify-Triggered-At is when the
    event happened, which the mapping takes as the event's time)."""
    return {
        "content-type": "application/json",
        "user-agent": "Shopify-Captain-Hook",
        "x-shopify-topic": topic,
        "x-shopify-shop-domain": SHOP_DOMAIN,
        "x-shopify-api-version": SHOPIFY_API_VERSION,
        "x-shopify-event-id": event_id,
        "x-shopify-webhook-id": webhook_id,
        "x-shopify-triggered-at": at.astimezone(UTC).isoformat(timespec="microseconds"),
    }
