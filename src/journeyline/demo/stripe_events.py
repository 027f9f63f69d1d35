"""Stripe events shaped like the captured fixtures (tests/fixtures/webhooks/stripe)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

# The API version of the captured fixtures, whose shape these events copy; `cancellation_details`
# is the one later field added (the mapping reads the customer's feedback from it).
STRIPE_API_VERSION: Final = "2020-03-02"
STRIPE_HEADERS: Final = {
    "content-type": "application/json; charset=utf-8",
    "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
}


def _unix(at: datetime) -> int:
    return int(at.timestamp())


def stripe_event(
    event_id: str, kind: str, created: datetime, obj: dict[str, Any]
) -> dict[str, Any]:
    """The envelope every Stripe webhook event comes in."""
    return {
        "id": event_id,
        "object": "event",
        "api_version": STRIPE_API_VERSION,
        "created": _unix(created),
        "data": {"object": obj, "previous_attributes": None},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }


@dataclass(frozen=True, slots=True)
class StripeCheckout:
    """What varies between two completed checkout sessions (amounts in cents)."""

    session_id: str
    customer_id: str
    email: str
    name: str
    amount_cents: int
    currency: str
    invoice_id: str
    payment_intent_id: str | None  # a subscription's session pays through its invoice
    subscription_id: str | None
    created: datetime


def stripe_checkout_session(checkout: StripeCheckout) -> dict[str, Any]:
    """A `checkout.session` as in checkout.session.completed.json."""
    created = _unix(checkout.created)
    return {
        "id": checkout.session_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": True},
        "after_expiration": None,
        "allow_promotion_codes": True,
        "amount_subtotal": checkout.amount_cents,
        "amount_total": checkout.amount_cents,
        "automatic_tax": {
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "billing_address_collection": None,
        "cancel_url": "https://shop.trailhead.example/cart",
        "client_reference_id": None,
        "client_secret": None,
        "collected_information": {"shipping_details": None},
        "consent": None,
        "consent_collection": None,
        "created": created,
        "currency": checkout.currency,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": checkout.customer_id,
        "customer_creation": "always",
        "customer_details": {
            "address": {
                "city": None,
                "country": "US",
                "line1": None,
                "line2": None,
                "postal_code": None,
                "state": None,
            },
            "email": checkout.email,
            "name": checkout.name,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        },
        "customer_email": None,
        "discounts": [],
        "expires_at": created + 24 * 3600,
        "invoice": checkout.invoice_id,
        "invoice_creation": None,
        "livemode": False,
        "locale": None,
        "metadata": {},
        "mode": "payment" if checkout.subscription_id is None else "subscription",
        "origin_context": None,
        "payment_intent": checkout.payment_intent_id,
        "payment_link": None,
        "payment_method_collection": "if_required",
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": ["card", "link"],
        "payment_status": "paid",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_details": None,
        "shipping_options": [],
        "status": "complete",
        "submit_type": None,
        "subscription": checkout.subscription_id,
        "success_url": "https://shop.trailhead.example/thank-you",
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": None,
        "wallet_options": None,
    }


@dataclass(frozen=True, slots=True)
class StripePlan:
    price_id: str
    product_id: str
    nickname: str
    unit_amount: int  # cents per interval
    currency: str
    interval: str


@dataclass(frozen=True, slots=True)
class StripeSubscription:
    subscription_id: str
    item_id: str
    customer_id: str
    latest_invoice: str
    plan: StripePlan
    started: datetime
    # Set on the customer.subscription.deleted object: when, and what the customer said.
    cancelled: datetime | None = None
    feedback: str | None = None


def _stripe_plan(plan: StripePlan, created: int) -> dict[str, Any]:
    return {
        "id": plan.price_id,
        "object": "plan",
        "active": True,
        "aggregate_usage": None,
        "amount": plan.unit_amount,
        "amount_decimal": str(plan.unit_amount),
        "billing_scheme": "per_unit",
        "created": created,
        "currency": plan.currency,
        "interval": plan.interval,
        "interval_count": 1,
        "livemode": False,
        "metadata": {},
        "nickname": plan.nickname,
        "product": plan.product_id,
        "tiers": None,
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }


def _stripe_price(plan: StripePlan, created: int) -> dict[str, Any]:
    return {
        "id": plan.price_id,
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": created,
        "currency": plan.currency,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": plan.nickname,
        "product": plan.product_id,
        "recurring": {
            "aggregate_usage": None,
            "interval": plan.interval,
            "interval_count": 1,
            "trial_period_days": None,
            "usage_type": "licensed",
        },
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": plan.unit_amount,
        "unit_amount_decimal": str(plan.unit_amount),
    }


def stripe_subscription(subscription: StripeSubscription) -> dict[str, Any]:
    """A `subscription` as in customer.subscription.created.json (and, once `cancelled` is set,
    as in customer.subscription.deleted.json)."""
    started = _unix(subscription.started)
    period_end = started + 30 * 24 * 3600
    ended = None if subscription.cancelled is None else _unix(subscription.cancelled)
    plan_created = started - 90 * 24 * 3600
    return {
        "id": subscription.subscription_id,
        "object": "subscription",
        "application_fee_percent": None,
        "billing_cycle_anchor": started,
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": ended,
        "cancellation_details": {
            "comment": None,
            "feedback": subscription.feedback,
            "reason": None if ended is None else "cancellation_requested",
        },
        "collection_method": "charge_automatically",
        "created": started,
        "current_period_end": period_end,
        "current_period_start": started,
        "customer": subscription.customer_id,
        "days_until_due": None,
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "discount": None,
        "ended_at": ended,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": subscription.item_id,
                    "object": "subscription_item",
                    "billing_thresholds": None,
                    "created": started,
                    "metadata": {},
                    "plan": _stripe_plan(subscription.plan, plan_created),
                    "price": _stripe_price(subscription.plan, plan_created),
                    "quantity": 1,
                    "subscription": subscription.subscription_id,
                    "tax_rates": [],
                }
            ],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/subscription_items?subscription={subscription.subscription_id}",
        },
        "latest_invoice": subscription.latest_invoice,
        "livemode": False,
        "metadata": {},
        "next_pending_invoice_item_invoice": None,
        "pause_collection": None,
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "plan": _stripe_plan(subscription.plan, plan_created),
        "quantity": 1,
        "schedule": None,
        "start_date": started,
        "status": "active" if ended is None else "canceled",
        "tax_percent": None,
        "transfer_data": None,
        "trial_end": None,
        "trial_start": None,
    }
