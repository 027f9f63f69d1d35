"""The intelligence view: what `GET /v1/intelligence` answers, and the graph's stats from its
counting queries (pure)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from journeyline.graph.plan import EDGE_TYPES, NODE_TYPES, Edge, EdgeType, Node, NodeType
from journeyline.graph.stages import STAGES, Stage

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


def _by_touchpoints(
    nodes: Iterable[Node], node_type: NodeType, by_target: Mapping[uuid.UUID, int]
) -> tuple[TouchpointCount, ...]:
    counts = [
        TouchpointCount(node.key, by_target.get(node.id, 0))
        for node in nodes
        if node.type == node_type
    ]
    return tuple(sorted(counts, key=lambda count: (-count.touchpoints, count.key)))


def counted_stats(
    *,
    node_counts: Mapping[str, int],
    edge_counts: Mapping[str, int],
    stage_nodes: Mapping[Stage, uuid.UUID],
    at_stage: Mapping[uuid.UUID, int],
    shared: Iterable[Node],
    influenced_by: Mapping[uuid.UUID, int],
    via_channel: Mapping[uuid.UUID, int],
) -> GraphStats:
    """The whole graph's stats from counting queries: nodes per type, edges per type, AT_STAGE
    edges per stage node, INFLUENCED_BY / VIA_CHANNEL edges per target, and the Campaign and
    Channel nodes (`shared`, every one listed, a campaign with no touchpoint at 0)."""
    shared_nodes = tuple(shared)
    return GraphStats(
        nodes={node_type: node_counts.get(node_type, 0) for node_type in NODE_TYPES},
        edges={edge_type: edge_counts.get(edge_type, 0) for edge_type in EDGE_TYPES},
        stages={stage: at_stage.get(stage_nodes[stage], 0) for stage in STAGES},
        campaigns=_by_touchpoints(shared_nodes, "Campaign", influenced_by),
        channels=_by_touchpoints(shared_nodes, "Channel", via_channel),
    )
