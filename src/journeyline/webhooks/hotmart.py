"""Hotmart webhooks (v2.0.0): verify the hottok and map purchase/subscription events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from journeyline.errors import InvalidPayload
from journeyline.identity.normalize import looks_like_phone
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.taxonomy import normalize_event_type
from journeyline.webhooks.provider import Delivery, Mapped, VerificationFailed, constant_time_equal

TOKEN_HEADER = "x-hotmart-hottok"
# The events table keeps external_event_id and object_id_ref in 255 characters.
MAX_REF_LENGTH = 255
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

EVENT_TYPES: dict[str, str] = {
    "PURCHASE_APPROVED": "purchase_completed",
    # The guarantee (refund) period ended: the same sale confirmed, not a second purchase.
    "PURCHASE_COMPLETE": "purchase_confirmed",
    "PURCHASE_CANCELED": "order_cancelled",
    "PURCHASE_REFUNDED": "order_refunded",
    "PURCHASE_CHARGEBACK": "order_refunded",
    "PURCHASE_OUT_OF_SHOPPING_CART": "purchase_abandoned",
    "SUBSCRIPTION_CANCELLATION": "subscription_cancelled",
}


def _obj(value: object) -> dict[str, Any]:
    """Tolerant reading: anything but an object reads as an empty one (the anonymised real
    deliveries carry strings where `data.subscription` and `data.buyer.address` are objects)."""
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _id(value: object) -> str | int | None:
    """Hotmart ids are numbers (product, plan) or strings (transaction, subscriber code)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return _text(value)


def _ref(value: object) -> str | None:
    """A provider id as the string the events table can hold, or None."""
    ident = _id(value)
    if ident is None:
        return None
    text = str(ident)
    return text if len(text) <= MAX_REF_LENGTH else None


def _number(value: object) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _currency(value: object) -> str | None:
    code = _text(value)
    if code is None:
        return None
    code = code.upper()
    return code if len(code) == 3 and code.isascii() and code.isalpha() else None


def _epoch_ms(value: object) -> datetime | None:
    """Hotmart's timestamps are epoch milliseconds; out-of-range ones are dropped."""
    millis = _number(value)
    if millis is None:
        return None
    try:
        # Exact for integer milliseconds (a float division could round the microseconds).
        return EPOCH + timedelta(milliseconds=millis)
    except (OverflowError, ValueError):
        return None


def _phone(value: object) -> str | None:
    """Only a plausible phone string: the anonymised deliveries carry scrambled ones."""
    if isinstance(value, dict):
        # The subscriber's documented phone object: {"dddCell", "cell", "dddPhone", "phone"}.
        for area, number in (("dddCell", "cell"), ("dddPhone", "phone")):
            local = _text(value.get(number))
            if local is not None:
                candidate = (_text(value.get(area)) or "") + local
                if looks_like_phone(candidate):
                    return candidate
        return None
    text = _text(value)
    return text if text is not None and looks_like_phone(text) else None


def _price(purchase: dict[str, Any]) -> tuple[int | float | None, str | None]:
    """Amount (major units, as Hotmart sends them) and currency of the sale: `price`, else
    `full_price` (which adds the installment interest the buyer pays)."""
    for key in ("price", "full_price"):
        money = _obj(purchase.get(key))
        amount = _number(money.get("value"))
        if amount is not None:
            return amount, _currency(money.get("currency_value"))
    return None, None


def _put(payload: dict[str, Any], key: str, value: object) -> None:
    if value is not None:
        payload[key] = value


def _order_payload(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    purchase = _obj(data.get("purchase"))
    product = _obj(data.get("product"))
    subscription = _obj(data.get("subscription"))
    plan = _obj(subscription.get("plan"))
    payment = _obj(purchase.get("payment"))
    amount, currency = _price(purchase)
    product_id = _id(product.get("id"))
    product_name = _text(product.get("name"))

    payload: dict[str, Any] = {}
    _put(payload, "order_id", _id(purchase.get("transaction")))
    _put(payload, "amount", amount)
    _put(payload, "currency", currency)
    if event_type != "subscription_cancelled" and (
        product_id is not None or product_name is not None
    ):
        # One product per Hotmart sale (an order bump is a sale of its own).
        item: dict[str, Any] = {"quantity": 1}
        _put(item, "product_id", product_id)
        _put(item, "sku", _id(product.get("ucode")))
        _put(item, "name", product_name)
        _put(item, "price", amount)
        payload["products"] = [item]
    _put(payload, "product_id", product_id)
    _put(payload, "product_name", product_name)
    _put(payload, "payment_method", _text(payment.get("type")))
    _put(payload, "installments", _number(payment.get("installments_number")))
    _put(payload, "status", _text(purchase.get("status")))
    _put(payload, "offer_code", _id(_obj(purchase.get("offer")).get("code")))
    _put(payload, "recurrence_number", _number(purchase.get("recurrence_number")))
    _put(payload, "subscription_id", _id(subscription.get("id")))
    _put(payload, "plan_id", _id(plan.get("id")))
    _put(payload, "plan_name", _text(plan.get("name")))

    if event_type == "purchase_abandoned":
        # A cart abandonment has no transaction: there is no sale to name as order_id.
        payload["product_ids"] = [product_id] if product_id is not None else []
        _put(payload, "cart_value", amount)
        payload["stage_abandoned"] = "checkout"
        _put(payload, "offer_code", _id(_obj(data.get("offer")).get("code")))
    elif event_type == "subscription_cancelled":
        _put(payload, "amount", _number(data.get("actual_recurrence_value")))
        subscriber = _obj(data.get("subscriber")) or _obj(subscription.get("subscriber"))
        _put(payload, "subscriber_code", _id(subscriber.get("code")))
    return payload


def _occurred_at(body: dict[str, Any], data: dict[str, Any]) -> datetime | None:
    purchase = _obj(data.get("purchase"))
    for value in (
        body.get("creation_date"),
        purchase.get("approved_date"),
        purchase.get("order_date"),
        data.get("cancellation_date"),
    ):
        moment = _epoch_ms(value)
        if moment is not None:
            return moment
    return None


def _identity(data: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(email, phone, external_id): the buyer first, else the subscriber (top-level in
    SUBSCRIPTION_CANCELLATION, under `subscription` in purchase events)."""
    buyer = _obj(data.get("buyer"))
    subscribers = [
        _obj(data.get("subscriber")),
        _obj(_obj(data.get("subscription")).get("subscriber")),
    ]
    email = _text(buyer.get("email"))
    phone = _phone(buyer.get("checkout_phone")) or _phone(buyer.get("phone"))
    code = None
    for subscriber in subscribers:
        email = email or _text(subscriber.get("email"))
        phone = phone or _phone(subscriber.get("phone"))
        code = code or _id(subscriber.get("code"))
    code = code or _id(buyer.get("code"))
    return email, phone, None if code is None else f"hotmart:{code}"


def _object_ref(event_type: str, data: dict[str, Any]) -> str | None:
    subscription = _obj(data.get("subscription"))
    subscriber = _obj(data.get("subscriber")) or _obj(subscription.get("subscriber"))
    transaction = _ref(_obj(data.get("purchase")).get("transaction"))
    subscription_ref = _ref(subscription.get("id")) or _ref(subscriber.get("code"))
    if event_type == "subscription_cancelled":
        return subscription_ref
    return transaction or subscription_ref


def _body_token(body: bytes) -> str | None:
    """The `hottok` that older deliveries carry in the body instead of the header."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return _text(_obj(data).get("hottok"))


class HotmartProvider:
    name = "hotmart"

    def verify(self, delivery: Delivery, secrets: Sequence[str], now: datetime) -> None:
        """The connection's hottok, sent as `X-HOTMART-HOTTOK` (or in the body by older
        deliveries). Hotmart signs nothing and sends no timestamp: no replay window."""
        header = delivery.header(TOKEN_HEADER)
        # A header that is present is authoritative: a wrong one never falls back to the body.
        presented = header.strip() if header is not None else _body_token(delivery.body) or ""
        if not presented:
            raise VerificationFailed("missing X-HOTMART-HOTTOK header (and no hottok in the body)")
        usable = [secret for secret in secrets if secret]
        if not usable:
            raise VerificationFailed("no Hotmart hottok is configured for this connection")
        # Check every token (no early exit) so timing does not tell which one matched.
        matches = [constant_time_equal(secret, presented) for secret in usable]
        if not any(matches):
            raise VerificationFailed("the hottok does not match")

    def parse(self, delivery: Delivery) -> Mapped:
        body = delivery.json()
        if not isinstance(body, dict):
            raise InvalidPayload("a Hotmart delivery must be a JSON object")
        kind = _text(body.get("event"))
        if kind is None:
            raise InvalidPayload("a Hotmart delivery needs event", field="event")
        delivery_id = _id(body.get("id"))
        key = None if delivery_id is None else str(delivery_id)
        if key is not None and len(key) > MAX_REF_LENGTH:
            # Truncating would let two deliveries share an idempotency key.
            raise InvalidPayload("id is too long to be a Hotmart delivery id", field="id")
        event_type = EVENT_TYPES.get(kind.upper()) or normalize_event_type(kind)
        if not event_type:
            raise InvalidPayload("event has no letters or digits", field="event")

        data = _obj(body.get("data"))
        email, phone, external_id = _identity(data)
        # The hottok is a credential: it never goes into the event log.
        raw = {name: value for name, value in body.items() if name != "hottok"}
        event = CanonicalEvent(
            event_type=event_type,
            event_name=kind,
            source_type="external",
            source=self.name,
            received_at=delivery.received_at,
            occurred_at=_occurred_at(body, data),
            payload=_order_payload(event_type, data),
            raw_payload=raw,
            external_event_id=key,
            email=email,
            phone=phone,
            external_id=external_id,
            object_id_ref=_object_ref(event_type, data),
            allow_no_identity=True,
        )
        return Mapped(key, kind, [event])


HOTMART = HotmartProvider()
