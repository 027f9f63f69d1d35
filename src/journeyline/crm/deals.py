"""Deals: one per order and per subscription, moved through their stages by commerce facts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Final

from journeyline.ids import deterministic_id
from journeyline.statuses import DealKind, DealStage

# The board's column order (presentation), which is not the machine's order (STAGE_RANK).
STAGES: Final[tuple[DealStage, ...]] = ("open", "checkout", "won", "lost", "refunded")
# The stage machine is a maximum over this one total order: a fact can only move a deal to a
# later stage. That single rule gives every behaviour the CRM promises — a late cart event never
# reopens a won deal, an abandoned cart that is bought after all becomes won (a recovered cart:
# a purchase beats an abandonment whatever their timestamps), a refund closes any deal, nothing
# leaves `refunded` — and makes the stage independent of the order and repetition of facts, so
# webhooks arriving out of order and a rebuild from the log converge on the same board.
STAGE_RANK: Final[Mapping[DealStage, int]] = {
    "open": 0,
    "checkout": 1,
    "lost": 2,
    "won": 3,
    "refunded": 4,
}

# Normalized event types (ingest's taxonomy) that move a deal. Anything else is not a deal fact.
STAGE_BY_EVENT: Final[Mapping[str, DealStage]] = {
    "order_created": "open",
    "order_updated": "open",
    "product_added": "open",
    "product_removed": "open",
    "cart_updated": "open",
    "checkout_started": "checkout",
    "purchase_completed": "won",
    "purchase_confirmed": "won",
    "payment_succeeded": "won",
    "subscription_created": "won",
    "purchase_abandoned": "lost",
    "order_cancelled": "lost",
    # A cancellation before the subscription was won loses it; after, the revenue was won and
    # stays won (the stage machine never goes back): the deal is flagged `cancelled` instead,
    # which is what turns the person's lifecycle to `churned`.
    "subscription_cancelled": "lost",
    "order_refunded": "refunded",
}
CANCELLING_EVENTS: Final[frozenset[str]] = frozenset({"order_cancelled", "subscription_cancelled"})
SUBSCRIPTION_EVENTS: Final[frozenset[str]] = frozenset(
    {"subscription_created", "subscription_cancelled"}
)
# A purchase without an order id is still a sale: it becomes a deal of its own, keyed by event.
ORDERLESS_SALE_EVENTS: Final[frozenset[str]] = frozenset(
    {"purchase_completed", "purchase_confirmed"}
)

MAX_NAME_LENGTH: Final = 255
_NAMED_PRODUCTS: Final = 2


@dataclass(frozen=True, slots=True)
class DealFact:
    """What one event says about a deal; ids are the survivors' (merges already followed)."""

    event_id: uuid.UUID
    event_type: str
    occurred_at: datetime
    profile_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    order_id: str | None = None
    order_number: str | None = None  # the human one ("1001"), when it differs from order_id
    subscription_id: str | None = None
    plan_id: str | None = None
    plan_name: str | None = None
    product_names: tuple[str, ...] = ()
    amount: Decimal | None = None  # ignored on refunds: a refund's amount is not the deal's value
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class Deal:
    id: uuid.UUID
    key: str  # "order:<order_id>", "subscription:<id>", "purchase:<event_id>"
    kind: DealKind
    stage: DealStage
    name: str
    amount: Decimal | None
    currency: str | None
    profile_id: uuid.UUID | None  # the person's id is their anchor profile's id
    company_id: uuid.UUID | None
    subscription_id: str | None  # on an order: the subscription it pays for
    cancelled: bool
    first_seen_at: datetime
    last_activity_at: datetime
    # The fact that last set name, amount, currency, person and company: the newest fact of the
    # latest stage seen. Only a fact of a later stage, or a newer one of the same stage, replaces
    # it, so a late cart event cannot overwrite a won deal's amount, and a redelivered fact
    # changes nothing. Refunds never become the basis (their amount is not the deal's value);
    # a deal first heard of through its refund has none until its sale arrives.
    basis_stage: DealStage | None
    basis_at: datetime | None
    basis_event_id: uuid.UUID | None


def deal_id(tenant_id: uuid.UUID, key: str) -> uuid.UUID:
    return deterministic_id(tenant_id, "deal", key)


def deal_key(fact: DealFact) -> str | None:
    """The deal a fact belongs to, or None when it is not about a deal."""
    if fact.event_type not in STAGE_BY_EVENT:
        return None
    if fact.event_type in SUBSCRIPTION_EVENTS:
        if fact.subscription_id:
            return f"subscription:{fact.subscription_id}"
        # The Lead Domain's subscription events carry only plan_id: one subscription per person
        # and plan. (A later explicit merge of two anchors does not re-key it.)
        if fact.plan_id and fact.profile_id is not None:
            return f"subscription:{fact.profile_id}:plan:{fact.plan_id}"
        return None
    if fact.subscription_id and STAGE_BY_EVENT[fact.event_type] in ("won", "refunded"):
        # A subscription's sales and refunds are its deal's, order id or not: Stripe's
        # subscription checkout completes an order (the session) *and* creates the subscription,
        # one sale that must not read as two won deals; a renewal has no order at all.
        return f"subscription:{fact.subscription_id}"
    if fact.order_id:
        return f"order:{fact.order_id}"
    if fact.event_type in ORDERLESS_SALE_EVENTS:
        return f"purchase:{fact.event_id}"
    return None


def deal_keys(facts: Iterable[DealFact]) -> list[str]:
    """The keys of the deals these facts touch (to load them in one query), first-seen order."""
    return list(dict.fromkeys(key for key in map(deal_key, facts) if key is not None))


def is_later_stage(stage: DealStage, than: DealStage) -> bool:
    return STAGE_RANK[stage] > STAGE_RANK[than]


def normalize_currency(raw: str | None) -> str | None:
    """ISO 4217 style: three letters, upper-case; anything else is unknown."""
    if raw is None:
        return None
    code = raw.strip().upper()
    return code if len(code) == 3 and code.isascii() and code.isalpha() else None


def products_summary(names: Iterable[str]) -> str | None:
    """`Hat`, `Hat, Scarf`, `Hat, Scarf + 2 more`."""
    unique = list(dict.fromkeys(name.strip() for name in names if name.strip()))
    if not unique:
        return None
    shown = ", ".join(unique[:_NAMED_PRODUCTS])
    hidden = len(unique) - _NAMED_PRODUCTS
    return f"{shown} + {hidden} more" if hidden > 0 else shown


def _given_name(kind: DealKind, fact: DealFact) -> str | None:
    """A name the fact actually states (products, plan), as opposed to one made from ids."""
    plan = fact.plan_name.strip() if fact.plan_name and fact.plan_name.strip() else None
    products = products_summary(fact.product_names)
    name = (plan or products) if kind == "subscription" else (products or plan)
    return name[:MAX_NAME_LENGTH] if name else None


def _default_name(kind: DealKind, key: str, fact: DealFact) -> str:
    if kind == "subscription":
        return f"Subscription {fact.subscription_id}" if fact.subscription_id else "Subscription"
    if key.startswith("purchase:"):
        return "Purchase"
    return f"Order #{fact.order_number or fact.order_id}"[:MAX_NAME_LENGTH]


def _kind_of(key: str) -> DealKind:
    return "subscription" if key.startswith("subscription:") else "order"


def _new_deal(tenant_id: uuid.UUID, key: str, fact: DealFact, stage: DealStage) -> Deal:
    kind = _kind_of(key)
    return Deal(
        id=deal_id(tenant_id, key),
        key=key,
        kind=kind,
        stage=stage,
        name=_default_name(kind, key, fact),
        amount=None,
        currency=None,
        profile_id=fact.profile_id,
        company_id=fact.company_id,
        subscription_id=fact.subscription_id,
        cancelled=False,
        first_seen_at=fact.occurred_at,
        last_activity_at=fact.occurred_at,
        basis_stage=None,
        basis_at=None,
        basis_event_id=None,
    )


def _supersedes(fact: DealFact, stage: DealStage, deal: Deal) -> bool:
    """Is this fact newer than the deal's basis? Stage first, then time, then event id (UUIDv7,
    time-ordered) so that the order is total and only the same fact ties."""
    if stage == "refunded":
        return False
    if deal.basis_stage is None or deal.basis_at is None or deal.basis_event_id is None:
        return True
    mine = (STAGE_RANK[stage], fact.occurred_at, fact.event_id)
    theirs = (STAGE_RANK[deal.basis_stage], deal.basis_at, deal.basis_event_id)
    return mine > theirs


def apply_deal_fact(tenant_id: uuid.UUID, deal: Deal | None, fact: DealFact) -> Deal | None:
    """The deal after one fact (`deal` is the current state of `deal_key(fact)`, or None)."""
    key = deal_key(fact)
    if key is None:
        return deal
    stage = STAGE_BY_EVENT[fact.event_type]
    current = deal if deal is not None else _new_deal(tenant_id, key, fact, stage)
    # Joins: independent of the order facts arrive in.
    joined = replace(
        current,
        stage=stage if is_later_stage(stage, current.stage) else current.stage,
        cancelled=current.cancelled or fact.event_type in CANCELLING_EVENTS,
        first_seen_at=min(current.first_seen_at, fact.occurred_at),
        last_activity_at=max(current.last_activity_at, fact.occurred_at),
        subscription_id=current.subscription_id or fact.subscription_id,
    )
    if not _supersedes(fact, stage, current):
        return joined
    # The new basis sets what it states and keeps the rest.
    amount = fact.amount if fact.amount is not None and fact.amount.is_finite() else None
    currency = normalize_currency(fact.currency) if amount is not None else None
    return replace(
        joined,
        name=_given_name(current.kind, fact) or current.name,
        amount=current.amount if amount is None else amount,
        currency=current.currency if amount is None else (currency or current.currency),
        profile_id=current.profile_id if fact.profile_id is None else fact.profile_id,
        company_id=current.company_id if fact.company_id is None else fact.company_id,
        basis_stage=stage,
        basis_at=fact.occurred_at,
        basis_event_id=fact.event_id,
    )


def apply_deal_facts(
    tenant_id: uuid.UUID, current: Mapping[str, Deal], facts: Iterable[DealFact]
) -> dict[str, Deal]:
    """Apply facts in order to the current deals (by key); return only the deals that changed
    (new ones included), by key, for one set-based write."""
    state: dict[str, Deal] = {}
    for fact in facts:
        key = deal_key(fact)
        if key is None:
            continue
        updated = apply_deal_fact(tenant_id, state.get(key, current.get(key)), fact)
        if updated is not None:
            state[key] = updated
    return {key: deal for key, deal in state.items() if current.get(key) != deal}


def move_deals(
    deals: Iterable[Deal], *, into_profile_id: uuid.UUID, company_id: uuid.UUID | None
) -> list[Deal]:
    """A merge: the merged profile's deals now belong to the survivor (and the survivor's
    company, when it has one). Returns the deals that changed."""
    moved: list[Deal] = []
    for deal in deals:
        updated = replace(
            deal,
            profile_id=into_profile_id,
            company_id=deal.company_id if company_id is None else company_id,
        )
        if updated != deal:
            moved.append(updated)
    return moved
