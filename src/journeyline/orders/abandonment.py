"""Abandoned carts: incomplete orders idle longer than their tenant's `abandon_after` emit an
internal `purchase_abandoned` event through the normal pipeline (DESIGN §5).

Exactly once per order, whoever sweeps and however often: the event's idempotency key is
`abandon:<order_id>`, permanent like every other, and the event itself marks the order
abandoned (`abandoned_at`) in the same transaction, so the next sweep no longer selects it.

The orders job: it calls the pipeline, so it is the one module of `orders/` above `ingest` in
the layers (decision 57); nothing the pipeline runs may import it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial

from journeyline.config import Settings
from journeyline.ingest import pipeline
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.orders import service as orders_service
from journeyline.orders.lifecycle import OrderState, abandonment_payload
from journeyline.store.db import Database, Session
from journeyline.tenancy import service as tenancy

log = logging.getLogger("journeyline.orders")

SOURCE = "journeyline"
# Orders handled per transaction.
CHUNK = 500
MAX_PASSES = 1000


@dataclass(frozen=True, slots=True)
class SweepSummary:
    tenants: int
    abandoned: int


def abandonment_event(order: OrderState, now: datetime) -> CanonicalEvent:
    return CanonicalEvent(
        event_type="purchase_abandoned",
        event_name="purchase_abandoned",
        source_type="internal",
        source=SOURCE,
        received_at=now,
        occurred_at=now,
        payload=abandonment_payload(order),
        external_event_id=f"abandon:{order.order_id}",
        profile_id=order.profile_id,
        allow_no_identity=True,
    )


async def _sweep_tenant(
    session: Session, *, tenant_id: uuid.UUID, settings: Settings, now: datetime
) -> int:
    context = await tenancy.context_for_tenant(session, tenant_id, "secret", settings)
    if context is None:
        return 0
    due = await orders_service.idle_orders(session, tenant_id, now - context.abandon_after, CHUNK)
    if not due:
        return 0
    events = [abandonment_event(order, now) for order in due]
    outcomes = await pipeline.process(session, context, events, now=now)
    # An order whose profile is gone (erased) is abandoned without one.
    orphans = [
        replace(event, profile_id=None)
        for event, outcome in zip(events, outcomes, strict=True)
        if outcome.error is not None
    ]
    if orphans:
        await pipeline.process(session, context, orphans, now=now)
    return len(due)


async def sweep_abandoned(
    database: Database,
    settings: Settings,
    *,
    now: datetime | None = None,
    tenant_id: uuid.UUID | None = None,
) -> SweepSummary:
    """Abandon every due order (of one tenant, or of all); returns what it did."""
    now = now or datetime.now(UTC)
    if tenant_id is not None:
        tenants = [tenant_id]
    else:
        # The shortest possible `abandon_after` is unknown per tenant: ask for any idle order,
        # then let each tenant's own cutoff decide.
        async with database.read() as session:
            tenants = await orders_service.tenants_with_idle_orders(session, now)
    abandoned = 0
    for tenant in tenants:
        # Each pass marks what it abandons, so the next one selects the following orders; the
        # bound only guards against an order that somehow stays due.
        for _ in range(MAX_PASSES):
            count = await database.run(
                partial(_sweep_tenant, tenant_id=tenant, settings=settings, now=now)
            )
            abandoned += count
            if count < CHUNK:
                break
    if abandoned:
        log.info("abandoned %d idle order(s) in %d tenant(s)", abandoned, len(tenants))
    return SweepSummary(len(tenants), abandoned)
