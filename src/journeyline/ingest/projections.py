"""Step 4 of the pipeline: every projection beyond identity (orders and products, the
intelligence graph, the CRM) from a chunk's resolved events, each written set-based for the
whole chunk, and what they wrote, for the chunk's realtime messages."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from journeyline.crm import service as crm_service
from journeyline.crm.deals import DealFact
from journeyline.crm.service import CrmChanges
from journeyline.graph import service as graph_service
from journeyline.graph.build import MergeStep, TouchFact
from journeyline.graph.plan import GraphPlan
from journeyline.identity.graph import IdentityGraph
from journeyline.identity.normalize import STRONG_KINDS
from journeyline.ingest import mutations
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.deal_facts import deal_fact
from journeyline.ingest.outcome import EventOutcome
from journeyline.orders import service as orders_service
from journeyline.orders.facts import order_fact, product_fact
from journeyline.orders.lifecycle import OrderFact, OrderState, ProductFact
from journeyline.store.db import Session


@dataclass(frozen=True, slots=True)
class Projected:
    """What the projections of a chunk wrote, for its realtime messages."""

    orders: list[OrderState]
    crm: CrmChanges
    graph: GraphPlan

    def messages(self, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
        return [
            *mutations.order_messages(tenant_id, self.orders),
            *mutations.deal_messages(tenant_id, self.crm.deals),
            *mutations.person_messages(tenant_id, self.crm.persons),
            *mutations.graph_messages(tenant_id, self.graph),
        ]


async def project(
    session: Session,
    tenant_id: uuid.UUID,
    graph: IdentityGraph,
    resolved: Sequence[tuple[CanonicalEvent, EventOutcome]],
    now: datetime,
    *,
    redelivered: Sequence[tuple[CanonicalEvent, EventOutcome]] = (),
    new_events: Collection[uuid.UUID] = frozenset(),
) -> Projected:
    """Every projection beyond identity, each written set-based for the whole chunk.
    `new_events` are those appended to the log by this transaction."""
    orders = await _commerce(session, tenant_id, graph, resolved, now)
    plan = await _graph(session, tenant_id, graph, resolved, now, redelivered, new_events)
    crm = await _crm(session, tenant_id, graph, resolved, now)
    return Projected(orders, crm, plan)


async def _crm(
    session: Session,
    tenant_id: uuid.UUID,
    graph: IdentityGraph,
    resolved: Sequence[tuple[CanonicalEvent, EventOutcome]],
    now: datetime,
) -> CrmChanges:
    """Deals from the chunk's commerce events; the persons of the anchors whose person fields
    may have changed: new attributes, new or moved strong identifiers, deals, merges. (A page
    view changes no person; a shadow is none.)"""
    facts: list[DealFact] = []
    inserted, moved = graph.identity_changes()
    touched = {graph.survivor(entry.profile_id) for entry in graph.lineage}
    touched |= {
        graph.survivor(owner)
        for changes in (inserted, moved)
        for (kind, _value), owner in changes.items()
        if kind in STRONG_KINDS
    }
    for event, outcome in resolved:
        if outcome.error is not None or outcome.event_id is None or outcome.profile_id is None:
            continue
        profile_id = graph.survivor(outcome.profile_id)
        if event.traits is not None:
            continue
        fact = deal_fact(
            event.event_type,
            event.payload,
            event_id=outcome.event_id,
            occurred_at=event.occurred_at or now,
            profile_id=profile_id,
        )
        if fact is not None:
            facts.append(fact)
    merged = {m.from_profile_id: graph.survivor(m.into_profile_id) for m in graph.merges}
    touched |= set(merged.values())
    touched = {
        profile_id
        for profile_id in touched
        if (state := graph.profiles.get(profile_id)) is None or state.status == "anchor"
    }
    return await crm_service.project(session, tenant_id, facts, touched, now, merged=merged)


async def _commerce(
    session: Session,
    tenant_id: uuid.UUID,
    graph: IdentityGraph,
    resolved: Sequence[tuple[CanonicalEvent, EventOutcome]],
    now: datetime,
) -> list[OrderState]:
    """Orders and products from the chunk's stored events, attributed to the profiles that
    survive the chunk; orders of profiles merged in it move to their survivors."""
    order_facts: list[OrderFact] = []
    product_facts: list[ProductFact] = []
    for event, outcome in resolved:
        if outcome.error is not None or outcome.event_id is None or event.traits is not None:
            continue
        at = event.occurred_at or now
        profile_id = graph.survivor(outcome.profile_id) if outcome.profile_id else None
        fact = order_fact(
            event.event_type,
            event.payload,
            event_id=outcome.event_id,
            occurred_at=at,
            profile_id=profile_id,
            source=event.source,
        )
        if fact is not None:
            order_facts.append(fact)
        product = product_fact(event.event_type, event.payload, at)
        if product is not None:
            product_facts.append(product)
    merged = {m.from_profile_id: graph.survivor(m.into_profile_id) for m in graph.merges}
    return await orders_service.project(
        session, tenant_id, order_facts, product_facts, merged=merged
    )


async def _graph(
    session: Session,
    tenant_id: uuid.UUID,
    graph: IdentityGraph,
    resolved: Sequence[tuple[CanonicalEvent, EventOutcome]],
    now: datetime,
    redelivered: Sequence[tuple[CanonicalEvent, EventOutcome]] = (),
    new_events: Collection[uuid.UUID] = frozenset(),
) -> GraphPlan:
    """The intelligence graph: every stored event a touchpoint of the profile it resolved to,
    with each merge of the chunk placed just before the event that caused it, so the chunk is
    planned in event order (as if its events came one at a time). `redelivered` (duplicates,
    whose outcome names the original event) refresh their touchpoints."""

    def fact(event: CanonicalEvent, event_id: uuid.UUID, profile_id: uuid.UUID | None) -> TouchFact:
        return graph_service.touch_fact(
            event_id=event_id,
            profile_id=profile_id,
            event_type=event.event_type,
            occurred_at=event.occurred_at or now,
            received_at=event.received_at,
            source=event.source,
            source_type=event.source_type,
            campaign_id=event.campaign_id,
            channel=event.channel,
            payload=event.payload,
        )

    merges = {m.from_profile_id: m for m in graph.merges}
    steps: list[TouchFact | MergeStep] = []
    for event, outcome in resolved:
        # A collapse appends the merged profile to its event's `merged_profile_ids`.
        for merged_id in outcome.merged_profile_ids:
            record = merges.pop(merged_id, None)
            if record is not None:
                steps.append(MergeStep(record.from_profile_id, record.into_profile_id))
        if outcome.error is None and outcome.event_id is not None:
            steps.append(fact(event, outcome.event_id, outcome.profile_id))
    steps.extend(MergeStep(m.from_profile_id, m.into_profile_id) for m in merges.values())
    steps.extend(
        fact(event, outcome.event_id, outcome.profile_id)
        for event, outcome in redelivered
        if outcome.duplicate and outcome.error is None and outcome.event_id is not None
    )
    plan = await graph_service.project(session, tenant_id, steps, new_events=new_events)
    for _item, outcome in (*resolved, *redelivered):
        if outcome.event_id is not None:
            outcome.touchpoint_id = plan.touchpoint_ids.get(outcome.event_id)
    return plan
