"""Stripe webhooks: verify `Stripe-Signature` and map Stripe events to canonical events."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Final

from journeyline.errors import InvalidPayload
from journeyline.ingest.canonical import JsonObject
from journeyline.payloads import (
    boolean,
    compact,
    currency_code,
    integer,
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


def _items(value: object) -> list[JsonObject]:
    """The objects of a Stripe list (`{"object": "list", "data": [...]}`), skipping non-objects."""
    return objects(json_object(value).get("data"))


def _reference(value: object) -> str | None:
    """A reference to another Stripe object: its id, or the object itself when expanded."""
    if isinstance(value, dict):
        return text(value.get("id"))
    return text(value)


def _major(amount: object, currency: str | None) -> int | float | None:
    """A minor-unit amount in major units; None when the amount or its currency is unknown
    (an amount whose unit is unknown would be off by a factor of 100)."""
    minor = integer(amount)
    if minor is None or currency is None:
        return None
    if currency in ZERO_DECIMAL_CURRENCIES:
        return minor
    try:
        return minor / (1000 if currency in THREE_DECIMAL_CURRENCIES else 100)
    except OverflowError:
        return None


def _occurred_at(created: object) -> datetime | None:
    seconds = integer(created)
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _line_products(lines: object, currency: str | None) -> list[JsonObject] | None:
    """Line items of an invoice (or of a checkout session whose `line_items` were expanded)."""
    items = []
    for line in _items(lines):
        price = json_object(line.get("price"))
        plan = json_object(line.get("plan"))
        # The 2025 API moved an invoice line's product under pricing.price_details.
        details = json_object(json_object(line.get("pricing")).get("price_details"))
        items.append(
            compact(
                product_id=_reference(price.get("product"))
                or _reference(plan.get("product"))
                or _reference(details.get("product")),
                price_id=text(price.get("id")) or text(plan.get("id")),
                name=text(line.get("description")),
                price=_major(price.get("unit_amount"), currency),
                quantity=integer(line.get("quantity")),
            )
        )
    return product_list(items)


def _checkout_session_completed(session: JsonObject) -> Meaning:
    currency = currency_code(session.get("currency"))
    amount = _major(session.get("amount_total"), currency)
    details = json_object(session.get("customer_details"))
    payload = compact(
        order_id=text(session.get("id")),
        amount=amount,
        total=amount,
        currency=currency,
        payment_intent_id=_reference(session.get("payment_intent")),
        subscription_id=_reference(session.get("subscription")),
        invoice_id=_reference(session.get("invoice")),
        mode=text(session.get("mode")),
        products=_line_products(session.get("line_items"), currency),
    )
    return Meaning(
        "purchase_completed",
        payload,
        email=text(details.get("email")) or text(session.get("customer_email")),
        phone=text(details.get("phone")),
    )


def _subscription_of_invoice(invoice: JsonObject) -> str | None:
    # Before the 2025 API the invoice names its subscription at the top level; since, under
    # parent.subscription_details.
    parent = json_object(json_object(invoice.get("parent")).get("subscription_details"))
    return _reference(invoice.get("subscription")) or _reference(parent.get("subscription"))


def _invoice_paid(invoice: JsonObject) -> Meaning | None:
    # Only renewals are purchases here: the first invoice of a subscription is already counted
    # by its checkout.session.completed, and one-off invoices have no checkout to join.
    if invoice.get("billing_reason") != "subscription_cycle":
        return None
    currency = currency_code(invoice.get("currency"))
    amount = _major(invoice.get("amount_paid"), currency)
    payload = compact(
        order_id=text(invoice.get("id")),
        amount=amount,
        total=amount,
        currency=currency,
        subscription_id=_subscription_of_invoice(invoice),
        billing_reason="subscription_cycle",
        products=_line_products(invoice.get("lines"), currency),
    )
    return Meaning(
        "purchase_completed",
        payload,
        email=text(invoice.get("customer_email")),
        phone=text(invoice.get("customer_phone")),
    )


def _payment_intent_succeeded(intent: JsonObject) -> Meaning:
    # No order_id: the order is the checkout session (or invoice) that this payment settles; an
    # order keyed by the intent id would count the same sale twice.
    currency = currency_code(intent.get("currency"))
    payload = compact(
        payment_intent_id=text(intent.get("id")),
        amount=_major(intent.get("amount"), currency),
        amount_received=_major(intent.get("amount_received"), currency),
        currency=currency,
        invoice_id=_reference(intent.get("invoice")),
    )
    return Meaning("payment_succeeded", payload, email=text(intent.get("receipt_email")))


def _subscription_plan(subscription: JsonObject) -> JsonObject:
    """plan_id, plan_name, the recurring amount per period, currency and interval."""
    items = _items(subscription.get("items"))
    first = items[0] if items else {}
    # `plan` is the legacy mirror of `price`; a subscription-level `plan` exists only on old API
    # versions and only when the subscription has a single item.
    price = json_object(first.get("price"))
    plan = json_object(first.get("plan")) or json_object(subscription.get("plan"))
    product = json_object(price.get("product")) or json_object(plan.get("product"))
    currency = (
        currency_code(subscription.get("currency"))
        or currency_code(price.get("currency"))
        or currency_code(plan.get("currency"))
    )
    recurring = json_object(price.get("recurring"))
    return compact(
        plan_id=text(price.get("id")) or text(plan.get("id")),
        plan_name=text(price.get("nickname"))
        or text(plan.get("nickname"))
        or text(product.get("name")),
        amount=_major(_recurring_minor_amount(subscription, items), currency),
        currency=currency,
        interval=text(recurring.get("interval")) or text(plan.get("interval")),
    )


def _recurring_minor_amount(subscription: JsonObject, items: list[JsonObject]) -> int | None:
    """The sum of unit amount x quantity over the items; None if any item's price is unknown
    (a partial sum would understate the subscription)."""
    if not items:
        plan = json_object(subscription.get("plan"))
        unit = integer(plan.get("amount"))
        quantity = integer(subscription.get("quantity"))
        return None if unit is None else unit * (1 if quantity is None else quantity)
    total = 0
    for item in items:
        unit = integer(json_object(item.get("price")).get("unit_amount"))
        if unit is None:
            unit = integer(json_object(item.get("plan")).get("amount"))
        if unit is None:
            return None
        # Stripe omits quantity on metered items (and on one item of the captured fixture).
        quantity = integer(item.get("quantity"))
        total += unit * (1 if quantity is None else quantity)
    return total


def _subscription_created(subscription: JsonObject) -> Meaning:
    payload = {
        **_subscription_plan(subscription),
        **compact(
            subscription_id=text(subscription.get("id")),
            status=text(subscription.get("status")),
        ),
    }
    return Meaning("subscription_created", payload)


def _subscription_deleted(subscription: JsonObject) -> Meaning:
    plan = _subscription_plan(subscription)
    cancellation = json_object(subscription.get("cancellation_details"))
    payload = compact(
        plan_id=plan.get("plan_id"),
        plan_name=plan.get("plan_name"),
        subscription_id=text(subscription.get("id")),
        reason=text(cancellation.get("reason")),
        feedback=text(cancellation.get("feedback")),
        comment=text(cancellation.get("comment")),
    )
    return Meaning("subscription_cancelled", payload)


def _charge_refunded(charge: JsonObject) -> Meaning:
    currency = currency_code(charge.get("currency"))
    billing = json_object(charge.get("billing_details"))
    charge_id = text(charge.get("id"))
    payment_intent = _reference(charge.get("payment_intent"))
    payload = compact(
        # The payment intent is what a checkout session's payload names (payment_intent_id),
        # so it is the better key; a bare charge has only its own id.
        order_id=payment_intent or charge_id,
        charge_id=charge_id,
        payment_intent_id=payment_intent,
        # Cumulative over partial refunds: charge.refunded fires once per refund.
        amount=_major(charge.get("amount_refunded"), currency),
        currency=currency,
        fully_refunded=boolean(charge.get("refunded")),
    )
    return Meaning(
        "order_refunded",
        payload,
        email=text(billing.get("email")) or text(charge.get("receipt_email")),
        phone=text(billing.get("phone")),
    )


_MAPPINGS: Final[dict[str, Callable[[JsonObject], Meaning | None]]] = {
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
        data = body_object(delivery, "a Stripe event must be a JSON object")
        event_id = required_text(data.get("id"), field="id", message="a Stripe event needs its id")
        kind = required_text(
            data.get("type"), field="type", message="a Stripe event needs its type"
        )
        mapping = _MAPPINGS.get(kind)
        if mapping is None:
            return Mapped(event_id, kind, [])
        stripe_object = json_object(data.get("data")).get("object")
        if not isinstance(stripe_object, dict):
            raise InvalidPayload(
                f"a {kind} event needs data.object to be an object", field="data.object"
            )
        meaning = mapping(stripe_object)
        if meaning is None:
            return Mapped(event_id, kind, [])
        check_payload(meaning.event_type, meaning.payload)
        customer = _reference(stripe_object.get("customer"))
        expanded_customer = json_object(stripe_object.get("customer"))
        event = external_event(
            self.name,
            delivery,
            event_type=meaning.event_type,
            event_name=kind,
            occurred_at=_occurred_at(data.get("created")),
            payload=meaning.payload,
            raw_payload=data,
            external_event_id=event_id,
            email=meaning.email or text(expanded_customer.get("email")),
            phone=meaning.phone or text(expanded_customer.get("phone")),
            # Events that carry only a customer id (subscriptions, renewals) must reach the same
            # person as the checkout that carried the email and the id.
            external_id=None if customer is None else f"stripe:{customer}",
            object_id_ref=text(stripe_object.get("id")),
        )
        return Mapped(event_id, kind, [event])


STRIPE = StripeProvider()
