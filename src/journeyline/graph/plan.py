"""The graph's vocabulary and its write plan: node and edge types, deterministic ids, and the
`GraphPlan` a chunk persists set-based, in this order:

1. delete `deleted_nodes` and every edge whose source or target is one of them;
2. delete `deleted_edges`;
3. for each `(edge type, sources)` of `replaced_sources`, delete the stored edges of that type
   from those sources that the plan does not upsert (`GraphPlan.kept_edge_ids`) — how the
   single current `AT_STAGE` edge of a customer replaces its previous one;
4. upsert `nodes`, then `edges`, by id: on conflict the label is replaced and the stored
   properties are updated key by key with the planned ones (a re-synced touchpoint carries
   only `last_synced_at` and `sync_count`).

A plan never both deletes and upserts the same id, and never upserts an edge touching a
deleted node, so the order above gives the state of applying its steps one by one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Literal

from journeyline.graph.stages import Stage
from journeyline.ids import deterministic_id

NodeType = Literal["Customer", "Touchpoint", "Campaign", "Channel", "Stage"]
EdgeType = Literal["HAS_TOUCHPOINT", "INFLUENCED_BY", "VIA_CHANNEL", "AT_STAGE", "CONTRIBUTES_TO"]
NODE_TYPES: tuple[NodeType, ...] = ("Customer", "Touchpoint", "Campaign", "Channel", "Stage")
EDGE_TYPES: tuple[EdgeType, ...] = (
    "HAS_TOUCHPOINT",
    "INFLUENCED_BY",
    "VIA_CHANNEL",
    "AT_STAGE",
    "CONTRIBUTES_TO",
)

PropertyValue = str | int | float | bool | None
Properties = dict[str, PropertyValue]


@dataclass(frozen=True, slots=True)
class Node:
    id: uuid.UUID
    type: NodeType
    key: str
    label: str
    properties: Properties = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Edge:
    id: uuid.UUID
    type: EdgeType
    source: uuid.UUID
    target: uuid.UUID
    properties: Properties = field(default_factory=dict)


def node_id(tenant_id: uuid.UUID, node_type: NodeType, key: str) -> uuid.UUID:
    """The node's id: UUIDv5 of (tenant, type, key), so every write is an idempotent upsert."""
    return deterministic_id(tenant_id, node_type, key)


def edge_id(
    tenant_id: uuid.UUID, edge_type: EdgeType, source: uuid.UUID, target: uuid.UUID
) -> uuid.UUID:
    """The edge's id, from its type and endpoints: one edge per (type, source, target)."""
    return deterministic_id(tenant_id, edge_type, f"{source}>{target}")


def customer_node_id(tenant_id: uuid.UUID, profile_id: uuid.UUID) -> uuid.UUID:
    return node_id(tenant_id, "Customer", str(profile_id))


def touchpoint_node_id(tenant_id: uuid.UUID, event_id: uuid.UUID) -> uuid.UUID:
    return node_id(tenant_id, "Touchpoint", str(event_id))


def stage_node_id(tenant_id: uuid.UUID, stage: Stage) -> uuid.UUID:
    return node_id(tenant_id, "Stage", stage)


@dataclass(slots=True)
class GraphPlan:
    """Everything one chunk writes, keyed by id so that it persists set-based (module doc)."""

    nodes: dict[uuid.UUID, Node] = field(default_factory=dict)
    edges: dict[uuid.UUID, Edge] = field(default_factory=dict)
    deleted_nodes: set[uuid.UUID] = field(default_factory=set)
    deleted_edges: set[uuid.UUID] = field(default_factory=set)
    replaced_sources: dict[EdgeType, set[uuid.UUID]] = field(default_factory=dict)
    # The new stage of every profile whose stage changed (None: unmerge left it without one).
    stages: dict[uuid.UUID, Stage | None] = field(default_factory=dict)
    # event id -> touchpoint node id, for every event that is (or refreshes) a touchpoint.
    touchpoint_ids: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)

    # Planned edge ids by endpoint, so that dropping a customer's planned edges does not scan
    # the whole chunk's plan.
    _edges_at: dict[uuid.UUID, set[uuid.UUID]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def kept_edge_ids(self, edge_type: EdgeType) -> set[uuid.UUID]:
        """The ids of the planned edges of `edge_type`: those a replacement must not delete."""
        return {edge.id for edge in self.edges.values() if edge.type == edge_type}

    def planned_edges_at(self, node_id: uuid.UUID) -> list[Edge]:
        """The planned edges with `node_id` at either end."""
        return [self.edges[edge_id] for edge_id in self._edges_at.get(node_id, ())]

    def upsert_node(self, node: Node) -> None:
        """Plan an upsert; one already planned for the id absorbs it as the store would."""
        planned = self.nodes.get(node.id)
        if planned is not None:
            node = replace(node, properties=planned.properties | node.properties)
        self.deleted_nodes.discard(node.id)
        self.nodes[node.id] = node

    def upsert_edge(self, edge: Edge) -> None:
        planned = self.edges.get(edge.id)
        if planned is not None:
            edge = replace(edge, properties=planned.properties | edge.properties)
        self.deleted_edges.discard(edge.id)
        self.edges[edge.id] = edge
        for end in (edge.source, edge.target):
            self._edges_at.setdefault(end, set()).add(edge.id)

    def withdraw_edge(self, edge_id: uuid.UUID) -> None:
        """Forget a planned upsert; a stored edge with that id is left alone."""
        edge = self.edges.pop(edge_id, None)
        if edge is not None:
            for end in (edge.source, edge.target):
                self._edges_at.get(end, set()).discard(edge_id)

    def delete_edge(self, edge_id: uuid.UUID) -> None:
        self.withdraw_edge(edge_id)
        self.deleted_edges.add(edge_id)

    def delete_node(self, node_id: uuid.UUID) -> None:
        """Delete a node; its stored edges go with it (step 1), its planned ones are dropped."""
        self.nodes.pop(node_id, None)
        self.deleted_nodes.add(node_id)
        for edge in self.planned_edges_at(node_id):
            self.withdraw_edge(edge.id)
        for sources in self.replaced_sources.values():
            sources.discard(node_id)

    def replace_edges_from(self, edge_type: EdgeType, source: uuid.UUID) -> None:
        self.replaced_sources.setdefault(edge_type, set()).add(source)
