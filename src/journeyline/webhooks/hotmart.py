"""Hotmart webhooks (v2.0.0): verify the hottok and map purchase/subscription events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from journeyline.errors import InvalidPayload, MalformedBody
from journeyline.identity.normalize import looks_like_phone
from journeyline.ingest.documents import decode_json
from journeyline.ingest.taxonomy import normalize_event_type
from journeyline.payloads import (
    compact,
    currency_code,
    identifier,
    json_object,
    number,
    reference,
    text,
)
from journeyline.webhooks.fields import (
    body_object,
    external_event,
    idempotency_key,
    required_text,
)
from journeyline.webhooks.provider import Delivery, Mapped, VerificationFailed, constant_time_equal

TOKEN_HEADER = "x-hotmart-hottok"
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

# Every field is read tolerantly (journeyline.webhooks.fields): the anonymised real deliveries
# carry strings where `data.subscription` and `data.buyer.address` are objects. Text and ids
# are read trimmed (strip=True); Hotmart ids are numbers (product, plan) or strings
# (transaction, subscriber code).


def _epoch_ms(value: object) -> datetime | None:
    """Hotmart's timestamps are epoch milliseconds; out-of-range ones are dropped."""
    millis = number(value)
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
        for area, local_key in (("dddCell", "cell"), ("dddPhone", "phone")):
            local = text(value.get(local_key), strip=True)
            if local is not None:
                candidate = (text(value.get(area), strip=True) or "") + local
                if looks_like_phone(candidate):
                    return candidate
        return None
    phone = text(value, strip=True)
    return phone if phone is not None and looks_like_phone(phone) else None


def _price(purchase: dict[str, Any]) -> tuple[int | float | None, str | None]:
    """Amount (major units, as Hotmart sends them) and currency of the sale: `price`, else
    `full_price` (which adds the installment interest the buyer pays)."""
    for key in ("price", "full_price"):
        money = json_object(purchase.get(key))
        amount = number(money.get("value"))
        if amount is not None:
            return amount, currency_code(money.get("currency_value"), strip=True)
    return None, None


def _put(payload: dict[str, Any], key: str, value: object) -> None:
    if value is not None:
        payload[key] = value


def _order_payload(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    purchase = json_object(data.get("purchase"))
    product = json_object(data.get("product"))
    subscription = json_object(data.get("subscription"))
    plan = json_object(subscription.get("plan"))
    payment = json_object(purchase.get("payment"))
    amount, currency = _price(purchase)
    product_id = identifier(product.get("id"), strip=True)
    product_name = text(product.get("name"), strip=True)

    payload: dict[str, Any] = {}
    _put(payload, "order_id", identifier(purchase.get("transaction"), strip=True))
    _put(payload, "amount", amount)
    _put(payload, "currency", currency)
    if event_type != "subscription_cancelled" and (
        product_id is not None or product_name is not None
    ):
        # One product per Hotmart sale (an order bump is a sale of its own).
        item = compact(
            product_id=product_id,
            sku=identifier(product.get("ucode"), strip=True),
            name=product_name,
            price=amount,
        )
        payload["products"] = [{"quantity": 1, **item}]
    _put(payload, "product_id", product_id)
    _put(payload, "product_name", product_name)
    _put(payload, "payment_method", text(payment.get("type"), strip=True))
    _put(payload, "installments", number(payment.get("installments_number")))
    _put(payload, "status", text(purchase.get("status"), strip=True))
    _put(
        payload,
        "offer_code",
        identifier(json_object(purchase.get("offer")).get("code"), strip=True),
    )
    _put(payload, "recurrence_number", number(purchase.get("recurrence_number")))
    _put(payload, "subscription_id", identifier(subscription.get("id"), strip=True))
    _put(payload, "plan_id", identifier(plan.get("id"), strip=True))
    _put(payload, "plan_name", text(plan.get("name"), strip=True))

    if event_type == "purchase_abandoned":
        # A cart abandonment has no transaction: there is no sale to name as order_id.
        payload["product_ids"] = [product_id] if product_id is not None else []
        _put(payload, "cart_value", amount)
        payload["stage_abandoned"] = "checkout"
        _put(
            payload,
            "offer_code",
            identifier(json_object(data.get("offer")).get("code"), strip=True),
        )
    elif event_type == "subscription_cancelled":
        _put(payload, "amount", number(data.get("actual_recurrence_value")))
        subscriber = json_object(data.get("subscriber")) or json_object(
            subscription.get("subscriber")
        )
        _put(payload, "subscriber_code", identifier(subscriber.get("code"), strip=True))
    return payload


def _occurred_at(body: dict[str, Any], data: dict[str, Any]) -> datetime | None:
    purchase = json_object(data.get("purchase"))
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
    buyer = json_object(data.get("buyer"))
    subscribers = [
        json_object(data.get("subscriber")),
        json_object(json_object(data.get("subscription")).get("subscriber")),
    ]
    email = text(buyer.get("email"), strip=True)
    phone = _phone(buyer.get("checkout_phone")) or _phone(buyer.get("phone"))
    code = None
    for subscriber in subscribers:
        email = email or text(subscriber.get("email"), strip=True)
        phone = phone or _phone(subscriber.get("phone"))
        code = code or identifier(subscriber.get("code"), strip=True)
    code = code or identifier(buyer.get("code"), strip=True)
    return email, phone, None if code is None else f"hotmart:{code}"


def _object_ref(event_type: str, data: dict[str, Any]) -> str | None:
    subscription = json_object(data.get("subscription"))
    subscriber = json_object(data.get("subscriber")) or json_object(subscription.get("subscriber"))
    transaction = reference(json_object(data.get("purchase")).get("transaction"), strip=True)
    subscription_ref = reference(subscription.get("id"), strip=True) or reference(
        subscriber.get("code"), strip=True
    )
    if event_type == "subscription_cancelled":
        return subscription_ref
    return transaction or subscription_ref


def _body_token(body: bytes) -> str | None:
    """The `hottok` that older deliveries carry in the body instead of the header."""
    try:
        data = decode_json(body)
    except MalformedBody:
        return None
    return text(json_object(data).get("hottok"), strip=True)


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
        body = body_object(delivery, "a Hotmart delivery must be a JSON object")
        kind = required_text(
            body.get("event"), field="event", message="a Hotmart delivery needs event", strip=True
        )
        key = idempotency_key(
            identifier(body.get("id"), strip=True),
            field="id",
            message="id is too long to be a Hotmart delivery id",
        )
        event_type = EVENT_TYPES.get(kind.upper()) or normalize_event_type(kind)
        if not event_type:
            raise InvalidPayload("event has no letters or digits", field="event")

        data = json_object(body.get("data"))
        email, phone, external_id = _identity(data)
        # The hottok is a credential: it never goes into the event log.
        raw = {name: value for name, value in body.items() if name != "hottok"}
        event = external_event(
            self.name,
            delivery,
            event_type=event_type,
            event_name=kind,
            occurred_at=_occurred_at(body, data),
            payload=_order_payload(event_type, data),
            raw_payload=raw,
            external_event_id=key,
            email=email,
            phone=phone,
            external_id=external_id,
            object_id_ref=_object_ref(event_type, data),
        )
        return Mapped(key, kind, [event])


HOTMART = HotmartProvider()
