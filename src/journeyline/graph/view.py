"""The intelligence view: the nodes and edges `GET /v1/intelligence` answers, assembled from the
stored rows and the log's (pure), and the graph's stats from its counting queries."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from journeyline.graph.build import currency_of, revenue_of
from journeyline.graph.plan import (
    EDGE_TYPES,
    NODE_TYPES,
    Edge,
    EdgeType,
    Node,
    NodeType,
    Properties,
    SharedType,
    customer_node_id,
    edge_id,
    node_id,
    stage_node_id,
    touchpoint_node_id,
)
from journeyline.graph.stages import (
    STAGE_RANK,
    STAGES,
    Stage,
    StageRow,
    contributors,
    current_stage,
)

Mode = Literal["summary", "full"]


@dataclass(frozen=True, slots=True)
class TouchpointCount:
    key: str
    touchpoints: int


@dataclass(frozen=True, slots=True)
class GraphStats:
    nodes: dict[NodeType, int]
    edges: dict[EdgeType, int]
    # Customers per current stage (their AT_STAGE edge), every stage listed.
    stages: dict[Stage, int]
    # Campaigns and channels by touchpoint count (descending), then key.
    campaigns: tuple[TouchpointCount, ...]
    channels: tuple[TouchpointCount, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "nodes": dict(self.nodes),
            "edges": dict(self.edges),
            "stages": dict(self.stages),
            "campaigns": [
                {"campaign_id": c.key, "touchpoints": c.touchpoints} for c in self.campaigns
            ],
            "channels": [{"channel": c.key, "touchpoints": c.touchpoints} for c in self.channels],
        }


@dataclass(frozen=True, slots=True)
class IntelligenceView:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    stats: GraphStats
    # Some Customers or Touchpoints were left out (the view is bounded; the stats are not).
    truncated: bool = False
    # `mode=full`: the key of the next page of touchpoints (older ones), if any.
    next_cursor: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Shared:
    """A stored Campaign or Channel node with its counters."""

    type: SharedType
    key: str
    name: str | None
    touchpoints: int
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class Touchpoint:
    """An event of a customer, as the view shows it."""

    event_id: uuid.UUID
    # The surviving profile its event belongs to (through the merge family).
    customer_id: uuid.UUID
    event_type: str
    source: str
    source_type: str
    occurred_at: datetime
    received_at: datetime
    campaign_id: str | None
    channel: str | None
    payload: Mapping[str, object]
    # Deliveries after the first, and the latest one's time (re-sync counters).
    redeliveries: int = 0
    last_synced_at: datetime | None = None


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def stage_node(tenant_id: uuid.UUID, stage: Stage) -> Node:
    return Node(stage_node_id(tenant_id, stage), "Stage", stage, stage, {"rank": STAGE_RANK[stage]})


def customer_node(tenant_id: uuid.UUID, profile_id: uuid.UUID, stage: Stage | None) -> Node:
    key = str(profile_id)
    return Node(customer_node_id(tenant_id, profile_id), "Customer", key, key, {"stage": stage})


def shared_node(tenant_id: uuid.UUID, shared: Shared) -> Node:
    properties: Properties = {
        "touchpoints": shared.touchpoints,
        "first_seen_at": _iso(shared.first_seen_at),
        "last_seen_at": _iso(shared.last_seen_at),
    }
    if shared.name is not None:
        properties["campaign_name"] = shared.name
    return Node(
        node_id(tenant_id, shared.type, shared.key), shared.type, shared.key, shared.key, properties
    )


def touchpoint_node(tenant_id: uuid.UUID, touchpoint: Touchpoint) -> Node:
    received = touchpoint.received_at
    last = touchpoint.last_synced_at
    properties: Properties = {
        "event_id": str(touchpoint.event_id),
        "event_type": touchpoint.event_type,
        "occurred_at": _iso(touchpoint.occurred_at),
        "source": touchpoint.source,
        "source_type": touchpoint.source_type,
        "channel": touchpoint.channel,
        "first_synced_at": _iso(received),
        "last_synced_at": _iso(max(received, last) if last is not None else received),
        "sync_count": 1 + touchpoint.redeliveries,
    }
    if touchpoint.campaign_id is not None:
        properties["campaign_id"] = touchpoint.campaign_id
    revenue = revenue_of(touchpoint.event_type, touchpoint.payload)
    if revenue is not None:
        properties["revenue"] = revenue
        currency = currency_of(touchpoint.payload)
        if currency is not None:
            properties["currency"] = currency
    key = str(touchpoint.event_id)
    return Node(
        touchpoint_node_id(tenant_id, touchpoint.event_id),
        "Touchpoint",
        key,
        touchpoint.event_type,
        properties,
    )


def _edge(
    tenant_id: uuid.UUID,
    edge_type: EdgeType,
    source: uuid.UUID,
    target: uuid.UUID,
    properties: Properties | None = None,
) -> Edge:
    return Edge(
        edge_id(tenant_id, edge_type, source, target), edge_type, source, target, properties or {}
    )


def assemble(
    tenant_id: uuid.UUID,
    *,
    shared: Sequence[Shared],
    reached: Iterable[Stage],
    customers: Sequence[uuid.UUID],
    stage_rows: Iterable[StageRow],
    touchpoints: Sequence[Touchpoint] = (),
) -> tuple[list[Node], list[Edge]]:
    """The view's nodes and edges: every Campaign, Channel and reached Stage; the `customers`
    with their AT_STAGE edge; the `touchpoints` with their VIA_CHANNEL and INFLUENCED_BY edges,
    the HAS_TOUCHPOINT edge of those whose customer is shown, and CONTRIBUTES_TO where the
    touchpoint moved its customer into a stage (`stage_rows`: the customers' rows)."""
    rows_of: dict[uuid.UUID, list[StageRow]] = {}
    for row in stage_rows:
        rows_of.setdefault(row.profile_id, []).append(row)
    by_key = {(item.type, item.key): shared_node(tenant_id, item) for item in shared}
    stages = {stage: stage_node(tenant_id, stage) for stage in STAGES if stage in set(reached)}
    customer_nodes: dict[uuid.UUID, Node] = {}
    edges: list[Edge] = []
    contributed: dict[uuid.UUID, tuple[Stage, StageRow]] = {}
    for profile_id in customers:
        first = contributors(rows_of.get(profile_id, ()))
        stage = current_stage(first.values())
        node = customer_nodes[profile_id] = customer_node(tenant_id, profile_id, stage)
        if stage is not None:
            edges.append(_edge(tenant_id, "AT_STAGE", node.id, stages[stage].id))
        contributed.update(
            (row.event_id, (reached_stage, row)) for reached_stage, row in first.items()
        )
    touchpoint_nodes: list[Node] = []
    for touchpoint in touchpoints:
        node = touchpoint_node(tenant_id, touchpoint)
        touchpoint_nodes.append(node)
        owner = customer_nodes.get(touchpoint.customer_id)
        if owner is not None:
            edges.append(_edge(tenant_id, "HAS_TOUCHPOINT", owner.id, node.id))
        channel = by_key.get(("Channel", touchpoint.channel or ""))
        if channel is not None:
            edges.append(_edge(tenant_id, "VIA_CHANNEL", node.id, channel.id))
        campaign = by_key.get(("Campaign", touchpoint.campaign_id or ""))
        if campaign is not None:
            edges.append(_edge(tenant_id, "INFLUENCED_BY", node.id, campaign.id))
        reached_by = contributed.get(touchpoint.event_id)
        if reached_by is not None:
            stage, row = reached_by
            properties: Properties = {
                "occurred_at": _iso(row.occurred_at),
                "event_type": row.event_type,
            }
            edges.append(_edge(tenant_id, "CONTRIBUTES_TO", node.id, stages[stage].id, properties))
    nodes = [
        *sorted(
            [*by_key.values(), *stages.values(), *customer_nodes.values()],
            key=lambda node: (node.type, node.key),
        ),
        *touchpoint_nodes,
    ]
    return nodes, sorted(edges, key=lambda edge: (edge.type, edge.id))


def _by_touchpoints(shared: Iterable[Shared], kind: SharedType) -> tuple[TouchpointCount, ...]:
    counts = [TouchpointCount(item.key, item.touchpoints) for item in shared if item.type == kind]
    return tuple(sorted(counts, key=lambda count: (-count.touchpoints, count.key)))


def counted_stats(
    *,
    customers: int,
    touchpoints: int,
    with_campaign: int,
    shared: Sequence[Shared],
    reached: Iterable[Stage],
    current_by_rank: Mapping[int, int],
    contributions: int,
) -> GraphStats:
    """The whole graph's stats from counting queries: every touchpoint has a customer and a
    channel; those with a campaign are INFLUENCED_BY it; a customer with a stage has one
    AT_STAGE edge; a (customer, stage) reached is one CONTRIBUTES_TO edge."""
    reached_stages = set(reached)
    at_stage = sum(current_by_rank.values())
    nodes: dict[NodeType, int] = {
        "Customer": customers,
        "Touchpoint": touchpoints,
        "Campaign": sum(1 for item in shared if item.type == "Campaign"),
        "Channel": sum(1 for item in shared if item.type == "Channel"),
        "Stage": len(reached_stages),
    }
    edges: dict[EdgeType, int] = {
        "HAS_TOUCHPOINT": touchpoints,
        "INFLUENCED_BY": with_campaign,
        "VIA_CHANNEL": touchpoints,
        "AT_STAGE": at_stage,
        "CONTRIBUTES_TO": contributions,
    }
    return GraphStats(
        nodes={node_type: nodes[node_type] for node_type in NODE_TYPES},
        edges={edge_type: edges[edge_type] for edge_type in EDGE_TYPES},
        stages={stage: current_by_rank.get(STAGE_RANK[stage], 0) for stage in STAGES},
        campaigns=_by_touchpoints(shared, "Campaign"),
        channels=_by_touchpoints(shared, "Channel"),
    )
