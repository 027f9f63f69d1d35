"""The intelligence view: the summary/full filter and the graph's stats (pure)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from journeyline.graph.plan import EDGE_TYPES, NODE_TYPES, Edge, EdgeType, Node, NodeType
from journeyline.graph.stages import STAGES, Stage

Mode = Literal["summary", "full"]

# Every edge type but AT_STAGE has a Touchpoint at one end: summary mode drops them all, which
# also tells a service what it need not load for a summary.
TOUCHPOINT_EDGE_TYPES: frozenset[EdgeType] = frozenset(
    {"HAS_TOUCHPOINT", "INFLUENCED_BY", "VIA_CHANNEL", "CONTRIBUTES_TO"}
)
SUMMARY_NODE_TYPES: frozenset[NodeType] = frozenset(NODE_TYPES) - {"Touchpoint"}
SUMMARY_EDGE_TYPES: frozenset[EdgeType] = frozenset(EDGE_TYPES) - TOUCHPOINT_EDGE_TYPES


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


def filter_mode(
    nodes: Iterable[Node], edges: Iterable[Edge], mode: Mode
) -> tuple[tuple[Node, ...], tuple[Edge, ...]]:
    """`full` keeps everything; `summary` drops Touchpoint nodes and every edge touching one."""
    all_nodes, all_edges = tuple(nodes), tuple(edges)
    if mode == "full":
        return all_nodes, all_edges
    touchpoints = {node.id for node in all_nodes if node.type == "Touchpoint"}
    return (
        tuple(node for node in all_nodes if node.type in SUMMARY_NODE_TYPES),
        tuple(
            edge
            for edge in all_edges
            if edge.type in SUMMARY_EDGE_TYPES
            and edge.source not in touchpoints
            and edge.target not in touchpoints
        ),
    )


def _counts_by_target(
    nodes: dict[uuid.UUID, Node], edges: Iterable[Edge], edge_type: EdgeType, node_type: NodeType
) -> tuple[TouchpointCount, ...]:
    counts: Counter[str] = Counter(
        {node.key: 0 for node in nodes.values() if node.type == node_type}
    )
    for edge in edges:
        target = nodes.get(edge.target)
        if edge.type == edge_type and target is not None and target.type == node_type:
            counts[target.key] += 1
    return tuple(
        TouchpointCount(key, count)
        for key, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    )


def graph_stats(nodes: Iterable[Node], edges: Iterable[Edge]) -> GraphStats:
    """Counts per node type, per edge type, customers per stage, touchpoints per campaign and
    per channel. Computed on the full graph, so a summary still reports touchpoint counts."""
    by_id: dict[uuid.UUID, Node] = {node.id: node for node in nodes}
    all_edges = tuple(edges)
    node_counts = Counter(node.type for node in by_id.values())
    edge_counts = Counter(edge.type for edge in all_edges)
    stage_counts: Counter[str] = Counter()
    for edge in all_edges:
        target = by_id.get(edge.target)
        if edge.type == "AT_STAGE" and target is not None:
            stage_counts[target.key] += 1
    return GraphStats(
        nodes={node_type: node_counts[node_type] for node_type in NODE_TYPES},
        edges={edge_type: edge_counts[edge_type] for edge_type in EDGE_TYPES},
        stages={stage: stage_counts[stage] for stage in STAGES},
        campaigns=_counts_by_target(by_id, all_edges, "INFLUENCED_BY", "Campaign"),
        channels=_counts_by_target(by_id, all_edges, "VIA_CHANNEL", "Channel"),
    )


def intelligence_view(nodes: Iterable[Node], edges: Iterable[Edge], mode: Mode) -> IntelligenceView:
    """The `GET /v1/intelligence` answer: stats over the whole graph, nodes and edges by mode."""
    all_nodes, all_edges = tuple(nodes), tuple(edges)
    kept_nodes, kept_edges = filter_mode(all_nodes, all_edges, mode)
    return IntelligenceView(kept_nodes, kept_edges, graph_stats(all_nodes, all_edges))
