"""Shopify webhooks: verify `X-Shopify-Hmac-Sha256` and map Shopify topics to canonical events."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Final

from journeyline.ingest.canonical import JsonObject
from journeyline.payloads import (
    boolean,
    compact,
    currency_code,
    identifier,
    integer,
    iso_time,
    json_object,
    objects,
    text,
)
from journeyline.webhooks.fields import (
    Meaning,
    body_object,
    check_payload,
    external_event,
    product_list,
    required_text,
)
from journeyline.webhooks.provider import Delivery, Mapped, VerificationFailed, constant_time_equal

_DIGEST_SIZE: Final = hashlib.sha256().digest_size
# Shopify sends money as decimal strings ("2629.95"); anything else in a money field is skipped.
_MONEY: Final = re.compile(r"[+-]?\d{1,30}(?:\.\d{1,30})?")
# Python's fromisoformat (3.11) keeps at most microseconds; Shopify's X-Shopify-Triggered-At
# carries nanoseconds ("2023-03-29T18:00:27.877041743Z"), so the fraction is cut to six digits.
_FRACTION: Final = re.compile(r"(\.\d{6})\d+")


def _identifier(value: object) -> str | None:
    """A Shopify id as text. Ids exceed 2**53, so they are kept from the exact JSON integer; a
    float (what a JSON number too large even for 64 bits becomes) is not an id."""
    ident = identifier(value)
    return None if ident is None else str(ident)


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, str) and _MONEY.fullmatch(value.strip()):
        return Decimal(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, float) and math.isfinite(value):
        return Decimal(repr(value))
    return None


def _money(value: object) -> float | None:
    amount = _decimal(value)
    return None if amount is None else float(amount)


def _timestamp(value: object) -> datetime | None:
    """An ISO 8601 time (nanoseconds cut to microseconds) as a UTC-aware datetime."""
    return iso_time(_FRACTION.sub(r"\1", value) if isinstance(value, str) else value)


def _products(line_items: object) -> list[JsonObject] | None:
    return product_list(
        compact(
            product_id=_identifier(line.get("product_id")),
            variant_id=_identifier(line.get("variant_id")),
            sku=_identifier(line.get("sku")),
            # `name` includes the variant ("IPod Nano - 8gb - green"); old payloads lack it.
            name=text(line.get("name")) or text(line.get("title")),
            price=_money(line.get("price")),
            quantity=integer(line.get("quantity")),
        )
        for line in objects(line_items)
    )


def _buyer(resource: JsonObject) -> tuple[str | None, str | None, str | None]:
    """(email, phone, customer id) of an order or checkout: its own contact, else its customer's."""
    customer = json_object(resource.get("customer"))
    # Shopify sends `""` for a missing email (the orders/paid fixture does): `text` reads it as
    # absent, so it never becomes an identifier.
    email = (
        text(resource.get("email"))
        or text(resource.get("contact_email"))
        or text(customer.get("email"))
    )
    phone = text(resource.get("phone")) or text(customer.get("phone"))
    return email, phone, _identifier(customer.get("id"))


def _order_payload(order: JsonObject) -> JsonObject:
    total = _money(order.get("total_price"))
    return compact(
        order_id=_identifier(order.get("id")),
        order_name=text(order.get("name")),
        amount=total,
        total=total,
        subtotal=_money(order.get("subtotal_price")),
        tax=_money(order.get("total_tax")),
        discount=_money(order.get("total_discounts")),
        currency=currency_code(order.get("currency")),
        financial_status=text(order.get("financial_status")),
        payment_method=text(order.get("gateway")),
        # The tokens a checkout_started event was keyed by: they join the cart to this order.
        cart_token=text(order.get("cart_token")),
        checkout_token=text(order.get("checkout_token")),
        checkout_id=_identifier(order.get("checkout_id")),
        products=_products(order.get("line_items")),
    )


def _order(event_type: str) -> Callable[[JsonObject], Meaning]:
    def meaning(order: JsonObject) -> Meaning:
        email, phone, customer_id = _buyer(order)
        payload = _order_payload(order)
        if event_type == "order_cancelled":
            payload.update(compact(reason=text(order.get("cancel_reason"))))
        return Meaning(event_type, payload, email, phone, customer_id)

    return meaning


def _checkout(checkout: JsonObject) -> Meaning:
    email, phone, customer_id = _buyer(checkout)
    total = _money(checkout.get("total_price"))
    token = text(checkout.get("token"))
    payload = compact(
        # Keyed by the cart token (the order created from this checkout carries it too), so an
        # abandoned checkout is an incomplete order that a later purchase can be joined to.
        order_id=text(checkout.get("cart_token")) or token,
        cart_token=text(checkout.get("cart_token")),
        checkout_token=token,
        checkout_id=_identifier(checkout.get("id")),
        amount=total,
        total=total,
        subtotal=_money(checkout.get("subtotal_price")),
        currency=currency_code(checkout.get("currency")),
        products=_products(checkout.get("line_items")),
    )
    return Meaning("checkout_started", payload, email, phone, customer_id)


def _refund(refund: JsonObject) -> Meaning:
    # The refunded money is in the refund's successful transactions (a refund may have none,
    # e.g. a restock-only refund): summed exactly, as decimals.
    amount: Decimal | None = None
    currency: str | None = None
    for transaction in objects(refund.get("transactions")):
        if transaction.get("kind") != "refund" or transaction.get("status") not in (
            "success",
            None,
        ):
            continue
        value = _decimal(transaction.get("amount"))
        if value is None:
            continue
        amount = value if amount is None else amount + value
        currency = currency or currency_code(transaction.get("currency"))
    refunded = []
    for refund_line in objects(refund.get("refund_line_items")):
        item = _products([refund_line.get("line_item")])
        if item is not None:
            refunded.append({**item[0], **compact(quantity=integer(refund_line.get("quantity")))})
    payload = compact(
        order_id=_identifier(refund.get("order_id")),
        refund_id=_identifier(refund.get("id")),
        amount=None if amount is None else float(amount),
        currency=currency,
        reason=text(refund.get("note")),
        # Not `products`: that would replace the order's items with the refunded ones.
        refunded_products=refunded or None,
    )
    return Meaning("order_refunded", payload)


def _tags(value: object) -> list[str] | None:
    """Shopify tags are one comma-separated string ("tag, VIP"); a list is what a trait wants."""
    if not isinstance(value, str):
        return None
    return [tag.strip() for tag in value.split(",") if tag.strip()] or None


def _customer(customer: JsonObject) -> Meaning:
    customer_id = _identifier(customer.get("id"))
    first_name = text(customer.get("first_name"))
    last_name = text(customer.get("last_name"))
    email = text(customer.get("email"))
    phone = text(customer.get("phone"))
    accepts_marketing = boolean(customer.get("accepts_marketing"))
    if accepts_marketing is None:
        # Newer API versions dropped accepts_marketing for email_marketing_consent.
        state = json_object(customer.get("email_marketing_consent")).get("state")
        accepts_marketing = None if not isinstance(state, str) else state == "subscribed"
    address = json_object(customer.get("default_address"))
    traits = compact(
        first_name=first_name,
        last_name=last_name,
        name=" ".join(part for part in (first_name, last_name) if part) or None,
        email=email,
        phone=phone,
        accepts_marketing=accepts_marketing,
        verified_email=boolean(customer.get("verified_email")),
        tags=_tags(customer.get("tags")),
        note=text(customer.get("note")),
        currency=currency_code(customer.get("currency")),
        orders_count=integer(customer.get("orders_count")),
        total_spent=_money(customer.get("total_spent")),
        company=text(address.get("company")),
        address=compact(
            street=text(address.get("address1")),
            city=text(address.get("city")),
            state=text(address.get("province")),
            postal_code=text(address.get("zip")),
            country=text(address.get("country")),
            country_code=text(address.get("country_code")),
        )
        or None,
    )
    payload = compact(customer_id=customer_id)
    return Meaning("identified", payload, email, phone, customer_id, traits)


_MAPPINGS: Final[dict[str, Callable[[JsonObject], Meaning]]] = {
    "orders/paid": _order("purchase_completed"),
    "orders/create": _order("order_created"),
    "orders/cancelled": _order("order_cancelled"),
    "checkouts/create": _checkout,
    "checkouts/update": _checkout,
    "refunds/create": _refund,
    "customers/create": _customer,
    "customers/update": _customer,
}


class ShopifyProvider:
    name = "shopify"

    def verify(self, delivery: Delivery, secrets: Sequence[str], now: datetime) -> None:
        # Shopify signs only the body, no timestamp: there is no replay window to check, and
        # redeliveries are caught by the X-Shopify-Event-Id dedupe instead.
        header = delivery.header("x-shopify-hmac-sha256")
        if header is None or not header.strip():
            raise VerificationFailed("missing X-Shopify-Hmac-Sha256 header")
        try:
            presented = base64.b64decode(header.strip(), validate=True)
        except ValueError:
            raise VerificationFailed("malformed X-Shopify-Hmac-Sha256 header") from None
        if len(presented) != _DIGEST_SIZE:
            raise VerificationFailed("malformed X-Shopify-Hmac-Sha256 header")
        # An empty secret would let anyone sign: it never proves anything.
        keys = [secret for secret in secrets if secret]
        if not keys:
            raise VerificationFailed("no webhook secret is configured")
        # App webhooks and store-admin webhooks are signed with different keys, so a connection
        # may hold both.
        if not any(
            constant_time_equal(
                hmac.new(key.encode(), delivery.body, hashlib.sha256).digest(), presented
            )
            for key in keys
        ):
            raise VerificationFailed("no signature matches")

    def parse(self, delivery: Delivery) -> Mapped:
        topic = required_text(
            delivery.header("x-shopify-topic"),
            field="X-Shopify-Topic",
            message="a Shopify delivery needs its X-Shopify-Topic header",
        )
        kind = topic.strip()
        delivery_key = text(delivery.header("x-shopify-event-id")) or text(
            delivery.header("x-shopify-webhook-id")
        )
        mapping = _MAPPINGS.get(kind)
        if mapping is None:
            return Mapped(delivery_key, kind, [])
        # The body is the bare REST resource (no {"order": ...} wrapper).
        resource = body_object(delivery, f"a Shopify {kind} body must be a JSON object")
        meaning = mapping(resource)
        check_payload(meaning.event_type, meaning.payload)
        occurred_at = (
            _timestamp(delivery.header("x-shopify-triggered-at"))
            or _timestamp(resource.get("updated_at"))
            or _timestamp(resource.get("created_at"))
        )
        event = external_event(
            self.name,
            delivery,
            event_type=meaning.event_type,
            event_name=kind,
            occurred_at=occurred_at,
            payload=meaning.payload,
            raw_payload=resource,
            traits=meaning.traits,
            external_event_id=delivery_key,
            email=meaning.email,
            phone=meaning.phone,
            external_id=None if meaning.customer_id is None else f"shopify:{meaning.customer_id}",
            object_id_ref=_identifier(resource.get("id")),
        )
        return Mapped(delivery_key, kind, [event])


SHOPIFY = ShopifyProvider()
