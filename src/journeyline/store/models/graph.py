"""The intelligence graph (Waypath), projected from the log (DESIGN §5): nodes and edges with
deterministic ids (UUIDv5 of tenant, type, key; of tenant, type, source, target), so every write
is an idempotent upsert. `graph/plan.py` says how a chunk's plan is written."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from journeyline.store.base import Base, JsonType


class GraphNode(Base):
    __tablename__ = "graph_nodes"
    __table_args__ = (Index("ix_graph_nodes_tenant_type", "tenant_id", "type"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    # A Customer's profile id, a Touchpoint's event id, a campaign id, a channel, a stage (Text:
    # a utm_medium or utm_campaign read from a payload has no length limit of its own).
    key: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text)
    properties: Mapped[dict[str, Any]] = mapped_column(JsonType)


class GraphEdge(Base):
    __tablename__ = "graph_edges"
    __table_args__ = (
        # A customer's touchpoints and current stage; a touchpoint's channel, campaign and
        # contributions; the AT_STAGE replacement (by type and source).
        Index("ix_graph_edges_tenant_source_type", "tenant_id", "source", "type"),
        # Deleting a node takes the edges that point at it too.
        Index("ix_graph_edges_tenant_target", "tenant_id", "target"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    source: Mapped[uuid.UUID] = mapped_column(Uuid)
    target: Mapped[uuid.UUID] = mapped_column(Uuid)
    properties: Mapped[dict[str, Any]] = mapped_column(JsonType)
