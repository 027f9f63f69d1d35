"""Stripe webhooks: verify `Stripe-Signature` and map Stripe events to canonical events."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from journeyline.errors import InvalidPayload
from journeyline.ingest.canonical import CanonicalEvent, JsonObject
from journeyline.ingest.taxonomy import validate_payload
from journeyline.webhooks.provider import Delivery, Mapped, VerificationFailed, constant_time_equal

# Stripe's libraries reject a signed timestamp more than five minutes from now (replay window).
TOLERANCE_SECONDS: Final = 300
# A unix timestamp has at most 20 digits; a longer `t` is garbage (and int() of a huge digit
# string is slow, then refused by Python's digit limit).
_MAX_TIMESTAMP_DIGITS: Final = 20

# Stripe amounts are integers in the currency's minor unit (docs.stripe.com/currencies). These
# currencies have no minor unit, so the amount is already in major units...
ZERO_DECIMAL_CURRENCIES: Final = frozenset(
    {
        "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA",
        "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
    }
)  # fmt: skip
# ... and these have three decimals (5.124 KWD is 5124). ISK, HUF and TWD stay two-decimal in the
# API even where Stripe only charges whole units, so they take the default.
THREE_DECIMAL_CURRENCIES: Final = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


def _object(value: object) -> JsonObject:
    """A nested object, or an empty one when the field is absent or of another type."""
    return value if isinstance(value, dict) else {}


def _items(value: object) -> list[JsonObject]:
    """The objects of a Stripe list (`{"object": "list", "data": [...]}`), skipping non-objects."""
    data = _object(value).get("data")
    if not isinstance(data, list):
        return []
    return [item for item in data if isinstance(item, dict)]


def _text(value: object) -> str | None:
    """A non-blank string as sent; anything else (null, "", a number) counts as absent."""
    return value if isinstance(value, str) and value.strip() else None


def _integer(value: object) -> int | None:
    # bool is an int subclass: `true` is not an amount.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _reference(value: object) -> str | None:
    """A reference to another Stripe object: its id, or the object itself when expanded."""
    if isinstance(value, dict):
        return _text(value.get("id"))
    return _text(value)


def _currency(value: object) -> str | None:
    """Stripe sends lower-case ISO 4217 codes; journeyline stores them upper-case."""
    if isinstance(value, str) and len(value) == 3 and value.isascii() and value.isalpha():
        return value.upper()
    return None


def _major(amount: object, currency: str | None) -> int | float | None:
    """A minor-unit amount in major units; None when the amount or its currency is unknown
    (an amount whose unit is unknown would be off by a factor of 100)."""
    minor = _integer(amount)
    if minor is None or currency is None:
        return None
    if currency in ZERO_DECIMAL_CURRENCIES:
        return minor
    try:
        return minor / (1000 if currency in THREE_DECIMAL_CURRENCIES else 100)
    except OverflowError:
        return None


def _compact(**fields: object) -> JsonObject:
    """The fields that have a value: absent data is left out, not sent as null."""
    return {name: value for name, value in fields.items() if value is not None}


def _occurred_at(created: object) -> datetime | None:
    seconds = _integer(created)
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _line_products(lines: object, currency: str | None) -> list[JsonObject] | None:
    """Line items of an invoice (or of a checkout session whose `line_items` were expanded)."""
    products = []
    for line in _items(lines):
        price = _object(line.get("price"))
        plan = _object(line.get("plan"))
        # The 2025 API moved an invoice line's product under pricing.price_details.
        details = _object(_object(line.get("pricing")).get("price_details"))
        item = _compact(
            product_id=_reference(price.get("product"))
            or _reference(plan.get("product"))
            or _reference(details.get("product")),
            price_id=_text(price.get("id")) or _text(plan.get("id")),
            name=_text(line.get("description")),
            price=_major(price.get("unit_amount"), currency),
            quantity=_integer(line.get("quantity")),
        )
        if item:
            products.append(item)
    # No key rather than an empty list: `products` replaces an order's items.
    return products or None


@dataclass(frozen=True, slots=True)
class _Meaning:
    """What one Stripe object means: the canonical type, its payload, and who it is about."""

    event_type: str
    payload: JsonObject
    email: str | None = None
    phone: str | None = None


def _checkout_session_completed(session: JsonObject) -> _Meaning:
    currency = _currency(session.get("currency"))
    amount = _major(session.get("amount_total"), currency)
    details = _object(session.get("customer_details"))
    payload = _compact(
        order_id=_text(session.get("id")),
        amount=amount,
        total=amount,
        currency=currency,
        payment_intent_id=_reference(session.get("payment_intent")),
        subscription_id=_reference(session.get("subscription")),
        invoice_id=_reference(session.get("invoice")),
        mode=_text(session.get("mode")),
        products=_line_products(session.get("line_items"), currency),
    )
    return _Meaning(
        "purchase_completed",
        payload,
        email=_text(details.get("email")) or _text(session.get("customer_email")),
        phone=_text(details.get("phone")),
    )


def _subscription_of_invoice(invoice: JsonObject) -> str | None:
    # Before the 2025 API the invoice names its subscription at the top level; since, under
    # parent.subscription_details.
    parent = _object(_object(invoice.get("parent")).get("subscription_details"))
    return _reference(invoice.get("subscription")) or _reference(parent.get("subscription"))


def _invoice_paid(invoice: JsonObject) -> _Meaning | None:
    # Only renewals are purchases here: the first invoice of a subscription is already counted
    # by its checkout.session.completed, and one-off invoices have no checkout to join.
    if invoice.get("billing_reason") != "subscription_cycle":
        return None
    currency = _currency(invoice.get("currency"))
    amount = _major(invoice.get("amount_paid"), currency)
    payload = _compact(
        order_id=_text(invoice.get("id")),
        amount=amount,
        total=amount,
        currency=currency,
        subscription_id=_subscription_of_invoice(invoice),
        billing_reason="subscription_cycle",
        products=_line_products(invoice.get("lines"), currency),
    )
    return _Meaning(
        "purchase_completed",
        payload,
        email=_text(invoice.get("customer_email")),
        phone=_text(invoice.get("customer_phone")),
    )


def _payment_intent_succeeded(intent: JsonObject) -> _Meaning:
    # No order_id: the order is the checkout session (or invoice) that this payment settles; an
    # order keyed by the intent id would count the same sale twice.
    currency = _currency(intent.get("currency"))
    payload = _compact(
        payment_intent_id=_text(intent.get("id")),
        amount=_major(intent.get("amount"), currency),
        amount_received=_major(intent.get("amount_received"), currency),
        currency=currency,
        invoice_id=_reference(intent.get("invoice")),
    )
    return _Meaning("payment_succeeded", payload, email=_text(intent.get("receipt_email")))


def _subscription_plan(subscription: JsonObject) -> JsonObject:
    """plan_id, plan_name, the recurring amount per period, currency and interval."""
    items = _items(subscription.get("items"))
    first = items[0] if items else {}
    # `plan` is the legacy mirror of `price`; a subscription-level `plan` exists only on old API
    # versions and only when the subscription has a single item.
    price = _object(first.get("price"))
    plan = _object(first.get("plan")) or _object(subscription.get("plan"))
    product = _object(price.get("product")) or _object(plan.get("product"))
    currency = (
        _currency(subscription.get("currency"))
        or _currency(price.get("currency"))
        or _currency(plan.get("currency"))
    )
    recurring = _object(price.get("recurring"))
    return _compact(
        plan_id=_text(price.get("id")) or _text(plan.get("id")),
        plan_name=_text(price.get("nickname"))
        or _text(plan.get("nickname"))
        or _text(product.get("name")),
        amount=_major(_recurring_minor_amount(subscription, items), currency),
        currency=currency,
        interval=_text(recurring.get("interval")) or _text(plan.get("interval")),
    )


def _recurring_minor_amount(subscription: JsonObject, items: list[JsonObject]) -> int | None:
    """The sum of unit amount x quantity over the items; None if any item's price is unknown
    (a partial sum would understate the subscription)."""
    if not items:
        plan = _object(subscription.get("plan"))
        unit = _integer(plan.get("amount"))
        quantity = _integer(subscription.get("quantity"))
        return None if unit is None else unit * (1 if quantity is None else quantity)
    total = 0
    for item in items:
        unit = _integer(_object(item.get("price")).get("unit_amount"))
        if unit is None:
            unit = _integer(_object(item.get("plan")).get("amount"))
        if unit is None:
            return None
        # Stripe omits quantity on metered items (and on one item of the captured fixture).
        quantity = _integer(item.get("quantity"))
        total += unit * (1 if quantity is None else quantity)
    return total


def _subscription_created(subscription: JsonObject) -> _Meaning:
    payload = {
        **_subscription_plan(subscription),
        **_compact(
            subscription_id=_text(subscription.get("id")),
            status=_text(subscription.get("status")),
        ),
    }
    return _Meaning("subscription_created", payload)


def _subscription_deleted(subscription: JsonObject) -> _Meaning:
    plan = _subscription_plan(subscription)
    cancellation = _object(subscription.get("cancellation_details"))
    payload = _compact(
        plan_id=plan.get("plan_id"),
        plan_name=plan.get("plan_name"),
        subscription_id=_text(subscription.get("id")),
        reason=_text(cancellation.get("reason")),
        feedback=_text(cancellation.get("feedback")),
        comment=_text(cancellation.get("comment")),
    )
    return _Meaning("subscription_cancelled", payload)


def _charge_refunded(charge: JsonObject) -> _Meaning:
    currency = _currency(charge.get("currency"))
    billing = _object(charge.get("billing_details"))
    charge_id = _text(charge.get("id"))
    payment_intent = _reference(charge.get("payment_intent"))
    payload = _compact(
        # The payment intent is what a checkout session's payload names (payment_intent_id),
        # so it is the better key; a bare charge has only its own id.
        order_id=payment_intent or charge_id,
        charge_id=charge_id,
        payment_intent_id=payment_intent,
        # Cumulative over partial refunds: charge.refunded fires once per refund.
        amount=_major(charge.get("amount_refunded"), currency),
        currency=currency,
        fully_refunded=charge.get("refunded") if isinstance(charge.get("refunded"), bool) else None,
    )
    return _Meaning(
        "order_refunded",
        payload,
        email=_text(billing.get("email")) or _text(charge.get("receipt_email")),
        phone=_text(billing.get("phone")),
    )


_MAPPINGS: Final[dict[str, Callable[[JsonObject], _Meaning | None]]] = {
    "checkout.session.completed": _checkout_session_completed,
    "invoice.paid": _invoice_paid,
    "payment_intent.succeeded": _payment_intent_succeeded,
    "customer.subscription.created": _subscription_created,
    "customer.subscription.deleted": _subscription_deleted,
    "charge.refunded": _charge_refunded,
}


def _read_signature_header(header: str) -> tuple[int, list[str]]:
    """`t=<unix>,v1=<hex>[,v1=<hex>][,v0=<hex>]`: the timestamp and every v1 signature.

    Unknown schemes (v0, a future scheme) are skipped, as Stripe's libraries do.
    """
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, has_value, value = item.strip().partition("=")
        value = value.strip()
        if not has_value:
            continue
        if key == "t":
            if (
                timestamp is not None
                or not value.isascii()
                or not value.isdigit()
                or len(value) > _MAX_TIMESTAMP_DIGITS
            ):
                raise VerificationFailed("malformed Stripe-Signature header: bad timestamp")
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None:
        raise VerificationFailed("malformed Stripe-Signature header: no timestamp")
    if not signatures:
        raise VerificationFailed("malformed Stripe-Signature header: no v1 signature")
    return timestamp, signatures


class StripeProvider:
    name = "stripe"

    def verify(self, delivery: Delivery, secrets: Sequence[str], now: datetime) -> None:
        header = delivery.header("stripe-signature")
        if header is None or not header.strip():
            raise VerificationFailed("missing Stripe-Signature header")
        timestamp, signatures = _read_signature_header(header)
        # An empty secret would let anyone sign: it never proves anything.
        keys = [secret for secret in secrets if secret]
        if not keys:
            raise VerificationFailed("no webhook secret is configured")
        signed = f"{timestamp}.".encode() + delivery.body
        # Keyed with the whole secret, `whsec_` prefix included, as Stripe's libraries do.
        expected = [hmac.new(key.encode(), signed, hashlib.sha256).hexdigest() for key in keys]
        if not any(
            constant_time_equal(digest, signature)
            for digest in expected
            for signature in signatures
        ):
            raise VerificationFailed("no signature matches")
        # Checked after the signature, as Stripe does: a stale but authentic delivery is a
        # replay, and the reason says so.
        if abs(now.timestamp() - timestamp) > TOLERANCE_SECONDS:
            raise VerificationFailed("timestamp outside the tolerance")

    def parse(self, delivery: Delivery) -> Mapped:
        data = delivery.json()
        if not isinstance(data, dict):
            raise InvalidPayload("a Stripe event must be a JSON object")
        event_id = _text(data.get("id"))
        if event_id is None:
            raise InvalidPayload("a Stripe event needs its id", field="id")
        kind = _text(data.get("type"))
        if kind is None:
            raise InvalidPayload("a Stripe event needs its type", field="type")
        mapping = _MAPPINGS.get(kind)
        if mapping is None:
            return Mapped(event_id, kind, [])
        stripe_object = _object(data.get("data")).get("object")
        if not isinstance(stripe_object, dict):
            raise InvalidPayload(
                f"a {kind} event needs data.object to be an object", field="data.object"
            )
        meaning = mapping(stripe_object)
        if meaning is None:
            return Mapped(event_id, kind, [])
        # The payload is built from typed reads, so this holds; checked so that a mapping bug
        # is a 422 naming the field rather than bad data in the log.
        problem = validate_payload(meaning.event_type, meaning.payload)
        if problem is not None:
            field_name, message = problem
            raise InvalidPayload(message, field=f"payload.{field_name}")
        customer = _reference(stripe_object.get("customer"))
        expanded_customer = _object(stripe_object.get("customer"))
        event = CanonicalEvent(
            event_type=meaning.event_type,
            event_name=kind,
            source_type="external",
            source=self.name,
            received_at=delivery.received_at,
            occurred_at=_occurred_at(data.get("created")),
            payload=meaning.payload,
            raw_payload=data,
            external_event_id=event_id,
            email=meaning.email or _text(expanded_customer.get("email")),
            phone=meaning.phone or _text(expanded_customer.get("phone")),
            # Events that carry only a customer id (subscriptions, renewals) must reach the same
            # person as the checkout that carried the email and the id.
            external_id=None if customer is None else f"stripe:{customer}",
            object_id_ref=_text(stripe_object.get("id")),
            allow_no_identity=True,
        )
        return Mapped(event_id, kind, [event])


STRIPE = StripeProvider()
