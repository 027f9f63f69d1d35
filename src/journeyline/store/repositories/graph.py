"""The intelligence graph: nodes and edges loaded by id list or by the customers of a chunk,
written set-based (a fixed number of statements per chunk, sliced only for very long lists)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased

from journeyline.store.models import GraphEdge, GraphNode
from journeyline.store.repositories.scoped import TenantRepository, slices, table_of

NODES = table_of(GraphNode)
EDGES = table_of(GraphEdge)


@dataclass(frozen=True, slots=True)
class NodeRow:
    id: uuid.UUID
    type: str
    key: str
    label: str
    properties: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EdgeRow:
    id: uuid.UUID
    type: str
    source: uuid.UUID
    target: uuid.UUID
    properties: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CustomerTouchpoint:
    """A customer node's HAS_TOUCHPOINT target, with the touchpoint node."""

    customer: uuid.UUID
    touchpoint: NodeRow


@dataclass(frozen=True, slots=True)
class CustomerContribution:
    """A CONTRIBUTES_TO edge of one of a customer's touchpoints, with the touchpoint's key."""

    customer: uuid.UUID
    touchpoint_key: str
    stage_node: uuid.UUID
    properties: dict[str, Any]


def _node(row: Any) -> NodeRow:
    return NodeRow(row.id, row.type, row.key, row.label, dict(row.properties or {}))


def _edge(row: Any) -> EdgeRow:
    return EdgeRow(row.id, row.type, row.source, row.target, dict(row.properties or {}))


class GraphRepository(TenantRepository):
    # Reads for planning a chunk.

    async def stage_edges(self, customers: Collection[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        """Each customer node's AT_STAGE target (its current stage node)."""
        found: dict[uuid.UUID, uuid.UUID] = {}
        for part in slices(sorted(customers)):
            rows = await self.session.execute(
                select(GraphEdge.source, GraphEdge.target).where(
                    GraphEdge.tenant_id == self.tenant_id,
                    GraphEdge.source.in_(part),
                    GraphEdge.type == "AT_STAGE",
                )
            )
            found.update((source, target) for source, target in rows)
        return found

    async def touchpoints_of(self, customers: Collection[uuid.UUID]) -> list[CustomerTouchpoint]:
        """The touchpoint nodes of the customer nodes (their HAS_TOUCHPOINT targets)."""
        found: list[CustomerTouchpoint] = []
        for part in slices(sorted(customers)):
            rows = await self.session.execute(
                select(GraphEdge.source, GraphNode)
                .join(
                    GraphNode,
                    and_(
                        GraphNode.tenant_id == GraphEdge.tenant_id,
                        GraphNode.id == GraphEdge.target,
                    ),
                )
                .where(
                    GraphEdge.tenant_id == self.tenant_id,
                    GraphEdge.source.in_(part),
                    GraphEdge.type == "HAS_TOUCHPOINT",
                )
            )
            found.extend(CustomerTouchpoint(source, _node(node)) for source, node in rows)
        return found

    async def contributions_of(
        self, customers: Collection[uuid.UUID]
    ) -> list[CustomerContribution]:
        """The CONTRIBUTES_TO edges of the customer nodes' touchpoints (one join)."""
        owned = aliased(GraphEdge)
        contributes = aliased(GraphEdge)
        found: list[CustomerContribution] = []
        for part in slices(sorted(customers)):
            rows = await self.session.execute(
                select(owned.source, GraphNode.key, contributes.target, contributes.properties)
                .join(
                    contributes,
                    and_(
                        contributes.tenant_id == owned.tenant_id,
                        contributes.source == owned.target,
                        contributes.type == "CONTRIBUTES_TO",
                    ),
                )
                .join(
                    GraphNode,
                    and_(GraphNode.tenant_id == owned.tenant_id, GraphNode.id == owned.target),
                )
                .where(
                    owned.tenant_id == self.tenant_id,
                    owned.source.in_(part),
                    owned.type == "HAS_TOUCHPOINT",
                )
            )
            found.extend(
                CustomerContribution(customer, key, stage, dict(properties or {}))
                for customer, key, stage, properties in rows
            )
        return found

    async def nodes_by_id(self, node_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, NodeRow]:
        found: dict[uuid.UUID, NodeRow] = {}
        for part in slices(sorted(node_ids)):
            rows = await self.session.scalars(
                select(GraphNode).where(
                    GraphNode.tenant_id == self.tenant_id, GraphNode.id.in_(part)
                )
            )
            found.update((row.id, _node(row)) for row in rows)
        return found

    async def edges_by_id(self, edge_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, EdgeRow]:
        found: dict[uuid.UUID, EdgeRow] = {}
        for part in slices(sorted(edge_ids)):
            rows = await self.session.scalars(
                select(GraphEdge).where(
                    GraphEdge.tenant_id == self.tenant_id, GraphEdge.id.in_(part)
                )
            )
            found.update((row.id, _edge(row)) for row in rows)
        return found

    # Reads for the routes.

    async def nodes(self, types: Collection[str] | None = None) -> list[NodeRow]:
        statement = select(GraphNode).where(GraphNode.tenant_id == self.tenant_id)
        if types is not None:
            statement = statement.where(GraphNode.type.in_(sorted(types)))
        rows = await self.session.scalars(statement.order_by(GraphNode.type, GraphNode.key))
        return [_node(row) for row in rows]

    async def edges(self, types: Collection[str] | None = None) -> list[EdgeRow]:
        statement = select(GraphEdge).where(GraphEdge.tenant_id == self.tenant_id)
        if types is not None:
            statement = statement.where(GraphEdge.type.in_(sorted(types)))
        rows = await self.session.scalars(statement.order_by(GraphEdge.type, GraphEdge.id))
        return [_edge(row) for row in rows]

    async def newest_nodes(self, node_type: str, limit: int) -> list[NodeRow]:
        """The `limit` nodes of a type with the greatest keys: for Customers (profile ids) and
        Touchpoints (event ids), both UUIDv7, the newest."""
        rows = await self.session.scalars(
            select(GraphNode)
            .where(GraphNode.tenant_id == self.tenant_id, GraphNode.type == node_type)
            .order_by(GraphNode.key.desc())
            .limit(limit)
        )
        return [_node(row) for row in rows]

    async def edges_at(
        self,
        edge_types: Collection[str],
        *,
        sources: Collection[uuid.UUID] = (),
        targets: Collection[uuid.UUID] = (),
    ) -> list[EdgeRow]:
        """The edges of these types leaving one of `sources` or reaching one of `targets`."""
        found: dict[uuid.UUID, EdgeRow] = {}
        for column, ends in ((GraphEdge.source, sources), (GraphEdge.target, targets)):
            for part in slices(sorted(ends)):
                rows = await self.session.scalars(
                    select(GraphEdge).where(
                        GraphEdge.tenant_id == self.tenant_id,
                        GraphEdge.type.in_(sorted(edge_types)),
                        column.in_(part),
                    )
                )
                found.update((row.id, _edge(row)) for row in rows)
        return sorted(found.values(), key=lambda edge: (edge.type, edge.id))

    async def node_counts(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(GraphNode.type, func.count())
            .where(GraphNode.tenant_id == self.tenant_id)
            .group_by(GraphNode.type)
        )
        return {node_type: int(count) for node_type, count in rows}

    async def edge_counts(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(GraphEdge.type, func.count())
            .where(GraphEdge.tenant_id == self.tenant_id)
            .group_by(GraphEdge.type)
        )
        return {edge_type: int(count) for edge_type, count in rows}

    async def edge_counts_by_target(self, edge_type: str) -> dict[uuid.UUID, int]:
        rows = await self.session.execute(
            select(GraphEdge.target, func.count())
            .where(GraphEdge.tenant_id == self.tenant_id, GraphEdge.type == edge_type)
            .group_by(GraphEdge.target)
        )
        return {target: int(count) for target, count in rows}

    # Writes, in the order `graph/plan.py` gives.

    async def delete_nodes(self, node_ids: Sequence[uuid.UUID]) -> None:
        """Delete the nodes and every edge with one of them at either end."""
        for part in slices(node_ids, 1000):
            await self.session.execute(
                delete(GraphEdge).where(
                    GraphEdge.tenant_id == self.tenant_id,
                    or_(GraphEdge.source.in_(part), GraphEdge.target.in_(part)),
                )
            )
            await self.session.execute(
                delete(GraphNode).where(
                    GraphNode.tenant_id == self.tenant_id, GraphNode.id.in_(part)
                )
            )

    async def delete_edges(self, edge_ids: Sequence[uuid.UUID]) -> None:
        for part in slices(edge_ids):
            await self.session.execute(
                delete(GraphEdge).where(
                    GraphEdge.tenant_id == self.tenant_id, GraphEdge.id.in_(part)
                )
            )

    async def replace_edges(
        self,
        edge_type: str,
        sources: Sequence[uuid.UUID],
        kept: Mapping[uuid.UUID, uuid.UUID],
    ) -> None:
        """Delete the edges of `edge_type` from `sources` except those in `kept` (edge id ->
        its source: the planned edges of that type from those sources)."""
        for part in slices(sorted(sources), 1000):
            in_part = set(part)
            statement = delete(GraphEdge).where(
                GraphEdge.tenant_id == self.tenant_id,
                GraphEdge.type == edge_type,
                GraphEdge.source.in_(part),
            )
            spared = sorted(edge for edge, source in kept.items() if source in in_part)
            if spared:
                statement = statement.where(GraphEdge.id.not_in(spared))
            await self.session.execute(statement)

    async def append_nodes(self, rows: Sequence[dict[str, Any]]) -> None:
        """Nodes that cannot be stored yet (touchpoints of first-seen events): COPY on PostgreSQL."""
        await self.append_rows(NODES, rows)

    async def append_edges(self, rows: Sequence[dict[str, Any]]) -> None:
        """Edges of such nodes."""
        await self.append_rows(EDGES, rows)

    async def insert_nodes(self, rows: Sequence[dict[str, Any]]) -> None:
        await self._insert(NODES, rows)

    async def insert_edges(self, rows: Sequence[dict[str, Any]]) -> None:
        await self._insert(EDGES, rows)

    async def update_nodes(self, rows: Sequence[dict[str, Any]]) -> None:
        """One executemany UPDATE of labels and (already merged) properties."""
        if not rows:
            return
        statement = (
            update(NODES)
            .where(NODES.c.tenant_id == self.tenant_id, NODES.c.id == bindparam("b_id"))
            .values(label=bindparam("b_label"), properties=bindparam("b_properties"))
        )
        await self.session.execute(
            statement,
            [
                {"b_id": row["id"], "b_label": row["label"], "b_properties": row["properties"]}
                for row in rows
            ],
        )

    async def update_edges(self, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        statement = (
            update(EDGES)
            .where(EDGES.c.tenant_id == self.tenant_id, EDGES.c.id == bindparam("b_id"))
            .values(properties=bindparam("b_properties"))
        )
        await self.session.execute(
            statement,
            [{"b_id": row["id"], "b_properties": row["properties"]} for row in rows],
        )

    async def _insert(self, table: Any, rows: Sequence[dict[str, Any]]) -> None:
        """Multi-row INSERT of rows not found when the chunk was planned. Campaign, Channel and
        Stage nodes are shared by every customer of the tenant, so a concurrent chunk (another
        PostgreSQL writer) may have inserted one since: that one is kept (ON CONFLICT DO
        NOTHING); rows go in id order so that two writers wait for each other in one order."""
        if not rows:
            return
        dialect = self.session.get_bind().dialect.name
        for part in slices(sorted(rows, key=lambda row: row["id"]), 500):
            values = [{**row, "tenant_id": self.tenant_id} for row in part]
            if dialect == "postgresql":
                await self.session.execute(pg_insert(table).on_conflict_do_nothing(), values)
            elif dialect == "sqlite":
                await self.session.execute(sqlite_insert(table).on_conflict_do_nothing(), values)
            else:
                await self.session.execute(insert(table), values)
