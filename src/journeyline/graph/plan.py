"""The graph's vocabulary and what a chunk writes.

The graph is a view over the log (DESIGN §5): Customers are the surviving profiles, Touchpoints
the events, and their HAS_TOUCHPOINT, INFLUENCED_BY and VIA_CHANNEL edges are read off the
events' own columns. Node and edge ids are deterministic (UUIDv5 of tenant, type, key; of
tenant, type, source, target) and computed when a view is read, never stored. What a chunk
writes (`GraphPlan`) is only what the log cannot say:

- the stage rows it reached (one per profile and stage, naming the event), and the moves of
  the stage rows of the profiles it merged (a handful per profile);
- one increment per distinct Campaign and Channel key (touchpoints, first and last seen);
- one re-sync counter per event delivered again (nothing on a first delivery).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from journeyline.graph.stages import Stage, StageRow
from journeyline.ids import deterministic_id

NodeType = Literal["Customer", "Touchpoint", "Campaign", "Channel", "Stage"]
EdgeType = Literal["HAS_TOUCHPOINT", "INFLUENCED_BY", "VIA_CHANNEL", "AT_STAGE", "CONTRIBUTES_TO"]
SharedType = Literal["Campaign", "Channel"]
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
    """The node's id: UUIDv5 of (tenant, type, key)."""
    return deterministic_id(tenant_id, node_type, key)


def edge_id(
    tenant_id: uuid.UUID, edge_type: EdgeType, source: uuid.UUID, target: uuid.UUID
) -> uuid.UUID:
    """The edge's id, from its type and endpoints: one edge per (type, source, target)."""
    return deterministic_id(tenant_id, edge_type, f"{source}>{target}")


def customer_node_id(tenant_id: uuid.UUID, profile_id: uuid.UUID) -> uuid.UUID:
    return node_id(tenant_id, "Customer", str(profile_id))


def touchpoint_node_id(tenant_id: uuid.UUID, event_id: uuid.UUID) -> uuid.UUID:
    """A touchpoint is its event: the same event (a redelivery too) is the same touchpoint."""
    return node_id(tenant_id, "Touchpoint", str(event_id))


def stage_node_id(tenant_id: uuid.UUID, stage: Stage) -> uuid.UUID:
    return node_id(tenant_id, "Stage", stage)


@dataclass(slots=True)
class SharedCount:
    """A chunk's touchpoints of one Campaign or Channel, added to its stored counters."""

    type: SharedType
    key: str
    touchpoints: int
    first_seen_at: datetime
    last_seen_at: datetime
    # A campaign's name, as its latest touchpoint in the chunk gave it.
    name: str | None = None

    def add(self, at: datetime, name: str | None = None) -> None:
        self.touchpoints += 1
        self.first_seen_at = min(self.first_seen_at, at)
        self.last_seen_at = max(self.last_seen_at, at)
        if name is not None:
            self.name = name


@dataclass(slots=True)
class Resync:
    """A chunk's deliveries of an event that was already a touchpoint."""

    event_id: uuid.UUID
    redeliveries: int
    last_synced_at: datetime


@dataclass(slots=True)
class GraphPlan:
    """Everything one chunk writes to the graph (module doc), set-based."""

    # New stage rows, attributed to the profile that survives the chunk.
    reached: list[StageRow] = field(default_factory=list)
    # Stored stage rows of profiles merged in the chunk: from-profile -> its survivor.
    moved: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    shared: dict[tuple[SharedType, str], SharedCount] = field(default_factory=dict)
    resyncs: dict[uuid.UUID, Resync] = field(default_factory=dict)
    # Surviving profiles whose current stage the chunk changed, with the new stage.
    stages: dict[uuid.UUID, Stage] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.reached or self.moved or self.shared or self.resyncs)
