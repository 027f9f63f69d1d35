"""Graph building (Waypath): events and merges in, a `GraphPlan` of idempotent node and edge
upserts out (pure). `plan.py` says how a plan is persisted."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from journeyline.graph.channels import derive_channel
from journeyline.graph.plan import (
    Edge,
    EdgeType,
    GraphPlan,
    Node,
    NodeType,
    Properties,
    customer_node_id,
    edge_id,
    node_id,
    stage_node_id,
    touchpoint_node_id,
)
from journeyline.graph.stages import (
    STAGE_RANK,
    Contribution,
    Stage,
    TouchpointRecord,
    later_stage,
    next_stage,
    replay_stages,
)

# Event types whose amount is revenue (a conversion or a retention), kept on the touchpoint so
# attribution can read conversions straight from the graph.
REVENUE_EVENT_TYPES: frozenset[str] = frozenset({"purchase_completed", "subscription_created"})
REVENUE_FIELDS: tuple[str, ...] = ("revenue", "amount", "total", "value")


@dataclass(frozen=True, slots=True)
class TouchFact:
    """What the graph needs to know about one event; the pipeline builds it from its
    CanonicalEvent (`read_marketing_context` reads the UTM and page fields of a payload)."""

    event_id: uuid.UUID
    # The surviving profile the event belongs to; None for provider events with no customer.
    profile_id: uuid.UUID | None
    event_type: str
    occurred_at: datetime
    # When this delivery arrived: a redelivery of a known event refreshes `last_synced_at`.
    received_at: datetime
    source: str
    source_type: str
    campaign_id: str | None = None
    channel: str | None = None
    utm_medium: str | None = None
    referrer: str | None = None
    page_url: str | None = None
    payload: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MarketingContext:
    utm_campaign: str | None
    utm_medium: str | None
    referrer: str | None
    page_url: str | None


def _text(payload: Mapping[str, object], key: str) -> str | None:
    value = payload.get(key)
    return (value.strip() or None) if isinstance(value, str) else None


def read_marketing_context(payload: Mapping[str, object]) -> MarketingContext:
    """The UTM and page fields of an event payload, where the tracker puts them (top level)."""
    return MarketingContext(
        utm_campaign=_text(payload, "utm_campaign"),
        utm_medium=_text(payload, "utm_medium"),
        referrer=_text(payload, "referrer"),
        page_url=_text(payload, "url"),
    )


def revenue_of(event_type: str, payload: Mapping[str, object]) -> float | None:
    """The revenue an event carries: the first finite number among `REVENUE_FIELDS`, for the
    revenue event types only (a cart's value is not revenue)."""
    if event_type not in REVENUE_EVENT_TYPES:
        return None
    for key in REVENUE_FIELDS:
        value = payload.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    return None


def fact_channel(fact: TouchFact) -> str:
    return derive_channel(
        channel=fact.channel,
        utm_medium=fact.utm_medium,
        referrer=fact.referrer,
        page_url=fact.page_url,
        source=fact.source,
        source_type=fact.source_type,
    )


def fact_campaign(fact: TouchFact) -> str | None:
    """The campaign key: the campaign id (or utm_campaign) as sent, trimmed."""
    if fact.campaign_id is None:
        return None
    return fact.campaign_id.strip() or None


@dataclass(frozen=True, slots=True)
class TouchpointSync:
    """A stored touchpoint's delivery bookkeeping (from its properties)."""

    sync_count: int
    last_synced_at: datetime


@dataclass(frozen=True, slots=True)
class CustomerSnapshot:
    """A stored customer's part of the graph, as far as a chunk needs it."""

    stage: Stage | None = None
    # Needed only for profiles merged away in the chunk (their HAS_TOUCHPOINT targets).
    touchpoint_event_ids: frozenset[uuid.UUID] = frozenset()
    # Needed only for the two sides of a merge in the chunk (their CONTRIBUTES_TO edges).
    contributions: tuple[Contribution, ...] = ()


@dataclass(frozen=True, slots=True)
class GraphSnapshot:
    """What the caller loads before planning a chunk: customers by profile id (every profile
    of the chunk), touchpoints by event id (every event of the chunk that is already stored)."""

    customers: Mapping[uuid.UUID, CustomerSnapshot] = field(default_factory=dict)
    touchpoints: Mapping[uuid.UUID, TouchpointSync] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MergeStep:
    """A profile collapse or manual merge, in its place among the chunk's events."""

    from_profile_id: uuid.UUID
    into_profile_id: uuid.UUID


def _iso(moment: datetime) -> str:
    return moment.isoformat()


class _Graph:
    """The graph as a chunk is planned: the snapshot plus what the chunk did so far."""

    def __init__(self, tenant_id: uuid.UUID, snapshot: GraphSnapshot) -> None:
        self.tenant_id = tenant_id
        self.plan = GraphPlan()
        self.stages: dict[uuid.UUID, Stage | None] = {}
        self.touchpoints_of: dict[uuid.UUID, set[uuid.UUID]] = {}
        self.contributions: dict[uuid.UUID, dict[Stage, Contribution]] = {}
        for profile_id, customer in snapshot.customers.items():
            self.stages[profile_id] = customer.stage
            self.touchpoints_of[profile_id] = set(customer.touchpoint_event_ids)
            self.contributions[profile_id] = {c.stage: c for c in customer.contributions}
        self.syncs: dict[uuid.UUID, TouchpointSync] = dict(snapshot.touchpoints)
        self.merged_into: dict[uuid.UUID, uuid.UUID] = {}
        # UUIDv5 is a SHA-1: a chunk meets the same customers, channels and stages many times.
        self.node_ids: dict[tuple[NodeType, str], uuid.UUID] = {}

    def survivor(self, profile_id: uuid.UUID) -> uuid.UUID:
        while profile_id in self.merged_into:
            profile_id = self.merged_into[profile_id]
        return profile_id

    def node(
        self, node_type: NodeType, key: str, properties: Properties | None = None
    ) -> uuid.UUID:
        """Plan the upsert of the (type, key) node; once per chunk unless it brings properties."""
        known = self.node_ids.get((node_type, key))
        if known is None:
            known = self.node_ids[node_type, key] = node_id(self.tenant_id, node_type, key)
        if properties or known not in self.plan.nodes:
            self.plan.upsert_node(Node(known, node_type, key, key, properties or {}))
        return known

    def customer(self, profile_id: uuid.UUID) -> uuid.UUID:
        return self.node("Customer", str(profile_id))

    def stage(self, stage: Stage) -> uuid.UUID:
        return self.node("Stage", stage, {"rank": STAGE_RANK[stage]})

    def edge(
        self,
        edge_type: EdgeType,
        source: uuid.UUID,
        target: uuid.UUID,
        properties: Properties | None = None,
    ) -> None:
        edge = Edge(
            edge_id(self.tenant_id, edge_type, source, target),
            edge_type,
            source,
            target,
            properties or {},
        )
        self.plan.upsert_edge(edge)

    def set_stage(self, profile_id: uuid.UUID, stage: Stage | None) -> None:
        """Make `stage` the customer's one AT_STAGE edge (none at all for None)."""
        customer = self.customer(profile_id)
        self.stages[profile_id] = stage
        self.plan.stages[profile_id] = stage
        for planned in self.plan.planned_edges_at(customer):
            if planned.type == "AT_STAGE":
                self.plan.withdraw_edge(planned.id)
        if stage is not None:
            self.edge("AT_STAGE", customer, self.stage(stage))
        self.plan.replace_edges_from("AT_STAGE", customer)

    def contribute(
        self, profile_id: uuid.UUID, contribution: Contribution, event_type: str
    ) -> None:
        self.contributions.setdefault(profile_id, {})[contribution.stage] = contribution
        properties: Properties = {
            "occurred_at": _iso(contribution.occurred_at),
            "event_type": event_type,
        }
        touchpoint = touchpoint_node_id(self.tenant_id, contribution.event_id)
        self.edge("CONTRIBUTES_TO", touchpoint, self.stage(contribution.stage), properties)

    def contribution_edge_id(self, contribution: Contribution) -> uuid.UUID:
        return edge_id(
            self.tenant_id,
            "CONTRIBUTES_TO",
            touchpoint_node_id(self.tenant_id, contribution.event_id),
            stage_node_id(self.tenant_id, contribution.stage),
        )

    def add_event(self, fact: TouchFact) -> None:
        if fact.profile_id is None:
            # A touchpoint is a customer's interaction: a provider event with no customer
            # (a catalogue update) has none to belong to.
            return
        touchpoint = touchpoint_node_id(self.tenant_id, fact.event_id)
        self.plan.touchpoint_ids[fact.event_id] = touchpoint
        known = self.syncs.get(fact.event_id)
        if known is not None:
            self.resync(fact, touchpoint, known)
            return
        self.syncs[fact.event_id] = TouchpointSync(1, fact.received_at)
        profile_id = self.survivor(fact.profile_id)
        channel = fact_channel(fact)
        campaign = fact_campaign(fact)
        properties: Properties = {
            "event_id": str(fact.event_id),
            "event_type": fact.event_type,
            "occurred_at": _iso(fact.occurred_at),
            "source": fact.source,
            "source_type": fact.source_type,
            "channel": channel,
            "first_synced_at": _iso(fact.received_at),
            "last_synced_at": _iso(fact.received_at),
            "sync_count": 1,
        }
        if campaign is not None:
            properties["campaign_id"] = campaign
        revenue = revenue_of(fact.event_type, fact.payload)
        if revenue is not None:
            properties["revenue"] = revenue
            currency = _text(fact.payload, "currency")
            if currency is not None:
                properties["currency"] = currency.upper()
        self.plan.upsert_node(
            Node(touchpoint, "Touchpoint", str(fact.event_id), fact.event_type, properties)
        )

        self.edge("VIA_CHANNEL", touchpoint, self.node("Channel", channel))
        if campaign is not None:
            name = _text(fact.payload, "campaign_name")
            named: Properties | None = None if name is None else {"campaign_name": name}
            self.edge("INFLUENCED_BY", touchpoint, self.node("Campaign", campaign, named))
        self.edge("HAS_TOUCHPOINT", self.customer(profile_id), touchpoint)
        self.touchpoints_of.setdefault(profile_id, set()).add(fact.event_id)
        moved = next_stage(self.stages.get(profile_id), fact.event_type)
        if moved is not None:
            self.set_stage(profile_id, moved)
            self.contribute(
                profile_id, Contribution(moved, fact.event_id, fact.occurred_at), fact.event_type
            )

    def resync(self, fact: TouchFact, touchpoint: uuid.UUID, known: TouchpointSync) -> None:
        """A redelivered event refreshes its touchpoint's bookkeeping and nothing else: it is
        not a new interaction, so it neither adds edges nor moves the customer's stage (a
        redelivered purchase must not read as a repeat purchase)."""
        sync = TouchpointSync(known.sync_count + 1, max(known.last_synced_at, fact.received_at))
        self.syncs[fact.event_id] = sync
        refreshed: Properties = {
            "last_synced_at": _iso(sync.last_synced_at),
            "sync_count": sync.sync_count,
        }
        self.plan.upsert_node(
            Node(touchpoint, "Touchpoint", str(fact.event_id), fact.event_type, refreshed)
        )

    def merge(self, step: MergeStep) -> None:
        shadow = self.survivor(step.from_profile_id)
        target = self.survivor(step.into_profile_id)
        if shadow == target:
            return
        self.merged_into[shadow] = target
        # One Customer per surviving profile: the shadow's node goes, with its edges.
        self.plan.delete_node(customer_node_id(self.tenant_id, shadow))
        self.plan.stages.pop(shadow, None)
        customer = self.customer(target)
        moved = self.touchpoints_of.pop(shadow, set())
        for event_id in sorted(moved):
            self.edge("HAS_TOUCHPOINT", customer, touchpoint_node_id(self.tenant_id, event_id))
        self.touchpoints_of.setdefault(target, set()).update(moved)

        stage = later_stage(self.stages.pop(shadow, None), self.stages.get(target))
        if stage != self.stages.get(target):
            self.set_stage(target, stage)
        self.merge_contributions(shadow, target)

    def merge_contributions(self, shadow: uuid.UUID, target: uuid.UUID) -> None:
        """Both customers entered some stages: the earlier touchpoint keeps the credit, so a
        customer still has at most one contributor per stage."""
        kept = self.contributions.setdefault(target, {})
        for stage, contribution in self.contributions.pop(shadow, {}).items():
            current = kept.get(stage)
            if current is None:
                kept[stage] = contribution
                continue
            order = sorted([current, contribution], key=lambda c: (c.occurred_at, c.event_id))
            kept[stage] = order[0]
            self.plan.delete_edge(self.contribution_edge_id(order[1]))


def plan_chunk(
    tenant_id: uuid.UUID, snapshot: GraphSnapshot, steps: Iterable[TouchFact | MergeStep]
) -> GraphPlan:
    """The graph writes of a chunk's events and merges, applied in order, as one plan.

    Events of profiles merged earlier in the chunk go to the survivor; the snapshot must hold
    every profile of the chunk (its stage), every already stored touchpoint of the chunk (its
    sync bookkeeping), and, for each merge, the shadow's touchpoints and both sides'
    contributions.
    """
    graph = _Graph(tenant_id, snapshot)
    for step in steps:
        if isinstance(step, MergeStep):
            graph.merge(step)
        else:
            graph.add_event(step)
    return graph.plan


def plan_merge(
    tenant_id: uuid.UUID,
    snapshot: GraphSnapshot,
    from_profile_id: uuid.UUID,
    into_profile_id: uuid.UUID,
) -> GraphPlan:
    """What a merge moves: the shadow Customer goes, its HAS_TOUCHPOINT edges are re-pointed to
    the survivor, whose stage becomes the later of the two (not re-derived from the combined
    history: a merge costs the shadow's projections, not the survivor's history)."""
    return plan_chunk(tenant_id, snapshot, [MergeStep(from_profile_id, into_profile_id)])


def plan_unmerge(
    tenant_id: uuid.UUID,
    *,
    survivor_id: uuid.UUID,
    restored_id: uuid.UUID,
    survivor_touchpoints: Iterable[TouchpointRecord],
    restored_touchpoints: Iterable[TouchpointRecord],
) -> GraphPlan:
    """Undo a merge: the restored profile's Customer comes back with its own touchpoints, and
    both customers' stages and contributions are replayed from their own touchpoints.

    This is the one place a stage may move back: the survivor's stage had been raised by
    history that turned out not to be its own.
    """
    restored = {record.event_id: record for record in restored_touchpoints}
    # A touchpoint is on exactly one side; the caller's split decides, restored side first.
    kept = {r.event_id: r for r in survivor_touchpoints if r.event_id not in restored}
    graph = _Graph(tenant_id, GraphSnapshot())
    survivor_node = graph.customer(survivor_id)
    restored_node = graph.customer(restored_id)
    for event_id in sorted(restored):
        touchpoint = touchpoint_node_id(tenant_id, event_id)
        graph.plan.delete_edge(edge_id(tenant_id, "HAS_TOUCHPOINT", survivor_node, touchpoint))
        graph.edge("HAS_TOUCHPOINT", restored_node, touchpoint)
    for profile_id, records in ((survivor_id, kept), (restored_id, restored)):
        stage, contributions = replay_stages(records.values())
        graph.set_stage(profile_id, stage)
        for event_id in records:
            graph.plan.replace_edges_from("CONTRIBUTES_TO", touchpoint_node_id(tenant_id, event_id))
        for contribution in contributions:
            graph.contribute(profile_id, contribution, records[contribution.event_id].event_type)
    return graph.plan
