"""Shopify webhooks: verify `X-Shopify-Hmac-Sha256` and map Shopify topics to canonical events."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final

from journeyline.errors import InvalidPayload
from journeyline.ingest.canonical import CanonicalEvent, JsonObject
from journeyline.ingest.taxonomy import validate_payload
from journeyline.webhooks.provider import Delivery, Mapped, VerificationFailed, constant_time_equal

_DIGEST_SIZE: Final = hashlib.sha256().digest_size
# Shopify sends money as decimal strings ("2629.95"); anything else in a money field is skipped.
_MONEY: Final = re.compile(r"[+-]?\d{1,30}(?:\.\d{1,30})?")
# Python's fromisoformat (3.11) keeps at most microseconds; Shopify's X-Shopify-Triggered-At
# carries nanoseconds ("2023-03-29T18:00:27.877041743Z"), so the fraction is cut to six digits.
_FRACTION: Final = re.compile(r"(\.\d{6})\d+")


def _text(value: object) -> str | None:
    """A non-blank string as sent; anything else counts as absent. Shopify sends `""` for a
    missing email (the orders/paid fixture does), which must not become an identifier."""
    return value if isinstance(value, str) and value.strip() else None


def _identifier(value: object) -> str | None:
    """A Shopify id as text. Ids exceed 2**53, so they are kept from the exact JSON integer; a
    float (what a JSON number too large even for 64 bits becomes) is not an id."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(value)


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


def _quantity(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _boolean(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _currency(value: object) -> str | None:
    if isinstance(value, str) and len(value) == 3 and value.isascii() and value.isalpha():
        return value.upper()
    return None


def _object(value: object) -> JsonObject:
    return value if isinstance(value, dict) else {}


def _objects(value: object) -> list[JsonObject]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def _compact(**fields: object) -> JsonObject:
    """The fields that have a value: nulls are left out."""
    return {name: value for name, value in fields.items() if value is not None}


def _timestamp(value: object) -> datetime | None:
    """An ISO 8601 time as a UTC-aware datetime; a time without an offset is taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(_FRACTION.sub(r"\1", value.strip()))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        # Unreadable, or out of datetime's range once moved to UTC (year 9999 with an offset).
        return None


def _products(line_items: object) -> list[JsonObject] | None:
    products = []
    for line in _objects(line_items):
        item = _compact(
            product_id=_identifier(line.get("product_id")),
            variant_id=_identifier(line.get("variant_id")),
            sku=_identifier(line.get("sku")),
            # `name` includes the variant ("IPod Nano - 8gb - green"); old payloads lack it.
            name=_text(line.get("name")) or _text(line.get("title")),
            price=_money(line.get("price")),
            quantity=_quantity(line.get("quantity")),
        )
        if item:
            products.append(item)
    # No key rather than an empty list: `products` replaces an order's items.
    return products or None


@dataclass(frozen=True, slots=True)
class _Meaning:
    """What one Shopify resource means: the canonical type, its payload, who it is about."""

    event_type: str
    payload: JsonObject
    email: str | None = None
    phone: str | None = None
    customer_id: str | None = None
    traits: JsonObject | None = None


def _buyer(resource: JsonObject) -> tuple[str | None, str | None, str | None]:
    """(email, phone, customer id) of an order or checkout: its own contact, else its customer's."""
    customer = _object(resource.get("customer"))
    email = (
        _text(resource.get("email"))
        or _text(resource.get("contact_email"))
        or _text(customer.get("email"))
    )
    phone = _text(resource.get("phone")) or _text(customer.get("phone"))
    return email, phone, _identifier(customer.get("id"))


def _order_payload(order: JsonObject) -> JsonObject:
    total = _money(order.get("total_price"))
    return _compact(
        order_id=_identifier(order.get("id")),
        order_name=_text(order.get("name")),
        amount=total,
        total=total,
        subtotal=_money(order.get("subtotal_price")),
        tax=_money(order.get("total_tax")),
        discount=_money(order.get("total_discounts")),
        currency=_currency(order.get("currency")),
        financial_status=_text(order.get("financial_status")),
        payment_method=_text(order.get("gateway")),
        # The tokens a checkout_started event was keyed by: they join the cart to this order.
        cart_token=_text(order.get("cart_token")),
        checkout_token=_text(order.get("checkout_token")),
        checkout_id=_identifier(order.get("checkout_id")),
        products=_products(order.get("line_items")),
    )


def _order(event_type: str) -> Callable[[JsonObject], _Meaning]:
    def meaning(order: JsonObject) -> _Meaning:
        email, phone, customer_id = _buyer(order)
        payload = _order_payload(order)
        if event_type == "order_cancelled":
            payload.update(_compact(reason=_text(order.get("cancel_reason"))))
        return _Meaning(event_type, payload, email, phone, customer_id)

    return meaning


def _checkout(checkout: JsonObject) -> _Meaning:
    email, phone, customer_id = _buyer(checkout)
    total = _money(checkout.get("total_price"))
    token = _text(checkout.get("token"))
    payload = _compact(
        # Keyed by the cart token (the order created from this checkout carries it too), so an
        # abandoned checkout is an incomplete order that a later purchase can be joined to.
        order_id=_text(checkout.get("cart_token")) or token,
        cart_token=_text(checkout.get("cart_token")),
        checkout_token=token,
        checkout_id=_identifier(checkout.get("id")),
        amount=total,
        total=total,
        subtotal=_money(checkout.get("subtotal_price")),
        currency=_currency(checkout.get("currency")),
        products=_products(checkout.get("line_items")),
    )
    return _Meaning("checkout_started", payload, email, phone, customer_id)


def _refund(refund: JsonObject) -> _Meaning:
    # The refunded money is in the refund's successful transactions (a refund may have none,
    # e.g. a restock-only refund): summed exactly, as decimals.
    amount: Decimal | None = None
    currency: str | None = None
    for transaction in _objects(refund.get("transactions")):
        if transaction.get("kind") != "refund" or transaction.get("status") not in (
            "success",
            None,
        ):
            continue
        value = _decimal(transaction.get("amount"))
        if value is None:
            continue
        amount = value if amount is None else amount + value
        currency = currency or _currency(transaction.get("currency"))
    refunded = []
    for refund_line in _objects(refund.get("refund_line_items")):
        item = _products([refund_line.get("line_item")])
        if item is not None:
            refunded.append(
                {**item[0], **_compact(quantity=_quantity(refund_line.get("quantity")))}
            )
    payload = _compact(
        order_id=_identifier(refund.get("order_id")),
        refund_id=_identifier(refund.get("id")),
        amount=None if amount is None else float(amount),
        currency=currency,
        reason=_text(refund.get("note")),
        # Not `products`: that would replace the order's items with the refunded ones.
        refunded_products=refunded or None,
    )
    return _Meaning("order_refunded", payload)


def _tags(value: object) -> list[str] | None:
    """Shopify tags are one comma-separated string ("tag, VIP"); a list is what a trait wants."""
    if not isinstance(value, str):
        return None
    return [tag.strip() for tag in value.split(",") if tag.strip()] or None


def _customer(customer: JsonObject) -> _Meaning:
    customer_id = _identifier(customer.get("id"))
    first_name = _text(customer.get("first_name"))
    last_name = _text(customer.get("last_name"))
    email = _text(customer.get("email"))
    phone = _text(customer.get("phone"))
    accepts_marketing = _boolean(customer.get("accepts_marketing"))
    if accepts_marketing is None:
        # Newer API versions dropped accepts_marketing for email_marketing_consent.
        state = _object(customer.get("email_marketing_consent")).get("state")
        accepts_marketing = None if not isinstance(state, str) else state == "subscribed"
    address = _object(customer.get("default_address"))
    traits = _compact(
        first_name=first_name,
        last_name=last_name,
        name=" ".join(part for part in (first_name, last_name) if part) or None,
        email=email,
        phone=phone,
        accepts_marketing=accepts_marketing,
        verified_email=_boolean(customer.get("verified_email")),
        tags=_tags(customer.get("tags")),
        note=_text(customer.get("note")),
        currency=_currency(customer.get("currency")),
        orders_count=_quantity(customer.get("orders_count")),
        total_spent=_money(customer.get("total_spent")),
        company=_text(address.get("company")),
        address=_compact(
            street=_text(address.get("address1")),
            city=_text(address.get("city")),
            state=_text(address.get("province")),
            postal_code=_text(address.get("zip")),
            country=_text(address.get("country")),
            country_code=_text(address.get("country_code")),
        )
        or None,
    )
    payload = _compact(customer_id=customer_id)
    return _Meaning("identified", payload, email, phone, customer_id, traits)


_MAPPINGS: Final[dict[str, Callable[[JsonObject], _Meaning]]] = {
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
        topic = _text(delivery.header("x-shopify-topic"))
        if topic is None:
            raise InvalidPayload(
                "a Shopify delivery needs its X-Shopify-Topic header", field="X-Shopify-Topic"
            )
        kind = topic.strip()
        delivery_key = _text(delivery.header("x-shopify-event-id")) or _text(
            delivery.header("x-shopify-webhook-id")
        )
        mapping = _MAPPINGS.get(kind)
        if mapping is None:
            return Mapped(delivery_key, kind, [])
        # The body is the bare REST resource (no {"order": ...} wrapper).
        resource = delivery.json()
        if not isinstance(resource, dict):
            raise InvalidPayload(f"a Shopify {kind} body must be a JSON object")
        meaning = mapping(resource)
        # The payload is built from typed reads, so this holds; checked so that a mapping bug
        # is a 422 naming the field rather than bad data in the log.
        problem = validate_payload(meaning.event_type, meaning.payload)
        if problem is not None:
            field_name, message = problem
            raise InvalidPayload(message, field=f"payload.{field_name}")
        occurred_at = (
            _timestamp(delivery.header("x-shopify-triggered-at"))
            or _timestamp(resource.get("updated_at"))
            or _timestamp(resource.get("created_at"))
        )
        event = CanonicalEvent(
            event_type=meaning.event_type,
            event_name=kind,
            source_type="external",
            source=self.name,
            received_at=delivery.received_at,
            occurred_at=occurred_at,
            payload=meaning.payload,
            raw_payload=resource,
            traits=meaning.traits,
            external_event_id=delivery_key,
            email=meaning.email,
            phone=meaning.phone,
            external_id=None if meaning.customer_id is None else f"shopify:{meaning.customer_id}",
            object_id_ref=_identifier(resource.get("id")),
            allow_no_identity=True,
        )
        return Mapped(delivery_key, kind, [event])


SHOPIFY = ShopifyProvider()
