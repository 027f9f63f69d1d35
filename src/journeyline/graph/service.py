"""Persisting and serving the intelligence graph: what a chunk needs loaded in a bounded number
of queries, the pure plan (`build.py`), the plan saved set-based in the order `plan.py` gives;
merges and unmerges made by an operator; the reads behind `GET /v1/intelligence`."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from journeyline.graph.attribution import Attribution, AttributionModel, attribute
from journeyline.graph.attribution import attribution_inputs as read_attribution_inputs
from journeyline.graph.build import (
    CustomerSnapshot,
    GraphSnapshot,
    MergeStep,
    TouchFact,
    TouchpointSync,
    plan_chunk,
    plan_merge,
    plan_unmerge,
    read_marketing_context,
)
from journeyline.graph.plan import (
    Edge,
    EdgeType,
    GraphPlan,
    Node,
    NodeType,
    Properties,
    customer_node_id,
    stage_node_id,
    touchpoint_node_id,
)
from journeyline.graph.stages import STAGES, Contribution, Stage, TouchpointRecord
from journeyline.graph.view import IntelligenceView, Mode, counted_stats
from journeyline.store.db import Session
from journeyline.store.repositories.events import EventRepository
from journeyline.store.repositories.graph import EdgeRow, GraphRepository, NodeRow


def touch_fact(
    *,
    event_id: uuid.UUID,
    profile_id: uuid.UUID | None,
    event_type: str,
    occurred_at: datetime,
    received_at: datetime,
    source: str,
    source_type: str,
    campaign_id: str | None,
    channel: str | None,
    payload: Mapping[str, Any],
) -> TouchFact:
    """The graph's view of one stored event: the campaign is the event's campaign id, else the
    payload's `utm_campaign`; the channel inputs are the event's channel and the payload's
    `utm_medium`, `referrer` and `url` (where the tracker and Keystone put them)."""
    context = read_marketing_context(payload)
    return TouchFact(
        event_id=event_id,
        profile_id=profile_id,
        event_type=event_type,
        occurred_at=occurred_at,
        received_at=received_at,
        source=source,
        source_type=source_type,
        campaign_id=campaign_id or context.utm_campaign,
        channel=channel,
        utm_medium=context.utm_medium,
        referrer=context.referrer,
        page_url=context.page_url,
        payload=payload,
    )


# Loading.


def _moment(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _event_id(key: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(key)
    except ValueError:
        return None


def _sync(node: NodeRow) -> TouchpointSync | None:
    properties = node.properties
    last = _moment(properties.get("last_synced_at")) or _moment(properties.get("occurred_at"))
    count = properties.get("sync_count")
    if last is None:
        return None
    return TouchpointSync(count if isinstance(count, int) else 1, last)


async def _snapshot(
    repo: GraphRepository,
    tenant_id: uuid.UUID,
    *,
    profiles: Collection[uuid.UUID],
    shadows: Collection[uuid.UUID],
    merging: Collection[uuid.UUID],
    event_ids: Collection[uuid.UUID],
) -> GraphSnapshot:
    """At most four queries: the profiles' current stages, the shadows' touchpoints, the merging
    customers' contributions, the stored touchpoints of the events."""
    customer_of = {customer_node_id(tenant_id, profile): profile for profile in profiles}
    stage_of = {stage_node_id(tenant_id, stage): stage for stage in STAGES}
    stages = await repo.stage_edges(customer_of) if customer_of else {}
    touchpoints: dict[uuid.UUID, set[uuid.UUID]] = {}
    if shadows:
        for row in await repo.touchpoints_of([customer_node_id(tenant_id, p) for p in shadows]):
            event_id = _event_id(row.touchpoint.key)
            if event_id is not None:
                touchpoints.setdefault(customer_of[row.customer], set()).add(event_id)
    contributions: dict[uuid.UUID, list[Contribution]] = {}
    if merging:
        for found in await repo.contributions_of([customer_node_id(tenant_id, p) for p in merging]):
            stage = stage_of.get(found.stage_node)
            event_id = _event_id(found.touchpoint_key)
            at = _moment(found.properties.get("occurred_at"))
            if stage is not None and event_id is not None and at is not None:
                contributions.setdefault(customer_of[found.customer], []).append(
                    Contribution(stage, event_id, at)
                )
    customers = {
        profile: CustomerSnapshot(
            stage=stage_of[stages[node]] if stages.get(node) in stage_of else None,
            touchpoint_event_ids=frozenset(touchpoints.get(profile, ())),
            contributions=tuple(contributions.get(profile, ())),
        )
        for node, profile in customer_of.items()
    }
    by_node = {touchpoint_node_id(tenant_id, event_id): event_id for event_id in event_ids}
    syncs: dict[uuid.UUID, TouchpointSync] = {}
    if by_node:
        for node_id, node in (await repo.nodes_by_id(by_node)).items():
            sync = _sync(node) if node.type == "Touchpoint" else None
            if sync is not None:
                syncs[by_node[node_id]] = sync
    return GraphSnapshot(customers=customers, touchpoints=syncs)


# Saving.


def _node_row(node: Node) -> dict[str, Any]:
    return {
        "id": node.id,
        "type": node.type,
        "key": node.key,
        "label": node.label,
        "properties": dict(node.properties),
    }


def _edge_row(edge: Edge) -> dict[str, Any]:
    return {
        "id": edge.id,
        "type": edge.type,
        "source": edge.source,
        "target": edge.target,
        "properties": dict(edge.properties),
    }


async def save_plan(
    repo: GraphRepository, plan: GraphPlan, fresh: frozenset[uuid.UUID] = frozenset()
) -> None:
    """Write `plan` in the order `plan.py` gives. Each upserted row takes the cheapest way that
    gives the store's result:

    - fresh: a node in `fresh` (the touchpoint of an event seen for the first time, so not
      stored yet) and every edge at one go in by `append_rows` (COPY on PostgreSQL), unread;
    - bare: a row that brings no properties (and a node whose label is its key) changes nothing
      in a stored row, so it is inserted with ON CONFLICT DO NOTHING, unread;
    - the rest are read once per table, their properties merged key by key here, and the new
      ones INSERTed in multi-row statements, the changed ones UPDATEd in one executemany; a row
      the plan leaves as it is is not written."""
    await repo.delete_nodes(sorted(plan.deleted_nodes))
    await repo.delete_edges(sorted(plan.deleted_edges))
    for edge_type, sources in plan.replaced_sources.items():
        if sources:
            kept = {
                edge.id: edge.source
                for edge in plan.edges.values()
                if edge.type == edge_type and edge.source in sources
            }
            await repo.replace_edges(edge_type, sorted(sources), kept)

    fresh_nodes: list[dict[str, Any]] = []
    bare_nodes: list[dict[str, Any]] = []
    rich_nodes: list[Node] = []
    for node in plan.nodes.values():
        if node.id in fresh:
            fresh_nodes.append(_node_row(node))
        elif not node.properties and node.label == node.key:
            bare_nodes.append(_node_row(node))
        else:
            rich_nodes.append(node)
    stored_nodes = await repo.nodes_by_id([n.id for n in rich_nodes]) if rich_nodes else {}
    new_nodes: list[dict[str, Any]] = []
    changed_nodes: list[dict[str, Any]] = []
    for node in rich_nodes:
        stored_node = stored_nodes.get(node.id)
        if stored_node is None:
            new_nodes.append(_node_row(node))
            continue
        merged = {**stored_node.properties, **node.properties}
        if merged != stored_node.properties or node.label != stored_node.label:
            changed_nodes.append({"id": node.id, "label": node.label, "properties": merged})
    await repo.append_nodes(fresh_nodes)
    await repo.insert_nodes(bare_nodes + new_nodes)
    await repo.update_nodes(sorted(changed_nodes, key=lambda row: row["id"]))

    fresh_edges: list[dict[str, Any]] = []
    bare_edges: list[dict[str, Any]] = []
    rich_edges: list[Edge] = []
    for edge in plan.edges.values():
        if edge.source in fresh or edge.target in fresh:
            fresh_edges.append(_edge_row(edge))
        elif not edge.properties:
            bare_edges.append(_edge_row(edge))
        else:
            rich_edges.append(edge)
    stored_edges = await repo.edges_by_id([e.id for e in rich_edges]) if rich_edges else {}
    new_edges: list[dict[str, Any]] = []
    changed_edges: list[dict[str, Any]] = []
    for edge in rich_edges:
        stored_edge = stored_edges.get(edge.id)
        if stored_edge is None:
            new_edges.append(_edge_row(edge))
            continue
        merged = {**stored_edge.properties, **edge.properties}
        if merged != stored_edge.properties:
            changed_edges.append({"id": edge.id, "properties": merged})
    await repo.append_edges(fresh_edges)
    await repo.insert_edges(bare_edges + new_edges)
    await repo.update_edges(sorted(changed_edges, key=lambda row: row["id"]))


# Projecting.


async def project(
    session: Session,
    tenant_id: uuid.UUID,
    steps: Sequence[TouchFact | MergeStep],
    *,
    new_events: Collection[uuid.UUID] = frozenset(),
) -> GraphPlan:
    """Plan and save a chunk's events and merges, in their order. An event already in the
    graph (a redelivery) refreshes its touchpoint and changes nothing else. `new_events` are
    events stored in this very transaction (the pipeline minted their ids): they cannot have a
    touchpoint yet, so theirs are not looked up."""
    if not steps:
        return GraphPlan()
    facts = [step for step in steps if isinstance(step, TouchFact)]
    merges = [step for step in steps if isinstance(step, MergeStep)]
    shadows = {merge.from_profile_id for merge in merges}
    merging = shadows | {merge.into_profile_id for merge in merges}
    profiles = merging | {fact.profile_id for fact in facts if fact.profile_id is not None}
    repo = GraphRepository(session, tenant_id)
    snapshot = await _snapshot(
        repo,
        tenant_id,
        profiles=profiles,
        shadows=shadows,
        merging=merging,
        event_ids={
            fact.event_id
            for fact in facts
            if fact.profile_id is not None and fact.event_id not in new_events
        },
    )
    plan = plan_chunk(tenant_id, snapshot, steps)
    fresh = frozenset(
        plan.touchpoint_ids[fact.event_id]
        for fact in facts
        if fact.event_id not in snapshot.touchpoints and fact.event_id in plan.touchpoint_ids
    )
    await save_plan(repo, plan, fresh)
    return plan


async def move_on_merge(
    session: Session, tenant_id: uuid.UUID, from_id: uuid.UUID, into_id: uuid.UUID
) -> None:
    """An operator merged `from_id` (a surviving profile until then) into `into_id`: its Customer
    goes, its touchpoints move to the survivor, whose stage becomes the later of the two."""
    repo = GraphRepository(session, tenant_id)
    both = {from_id, into_id}
    snapshot = await _snapshot(
        repo, tenant_id, profiles=both, shadows={from_id}, merging=both, event_ids=()
    )
    await save_plan(repo, plan_merge(tenant_id, snapshot, from_id, into_id))


def _record(node: NodeRow) -> TouchpointRecord | None:
    event_id = _event_id(node.key)
    at = _moment(node.properties.get("occurred_at"))
    event_type = node.properties.get("event_type")
    if event_id is None or at is None:
        return None
    return TouchpointRecord(event_id, event_type if isinstance(event_type, str) else node.label, at)


async def restore_on_unmerge(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    survivor_id: uuid.UUID,
    restored_id: uuid.UUID,
    restored_family: Iterable[uuid.UUID],
) -> None:
    """After an unmerge, the restored profile's Customer comes back with the touchpoints of the
    events the log attributes to its family, and both customers' stages are replayed."""
    repo = GraphRepository(session, tenant_id)
    owned = await repo.touchpoints_of([customer_node_id(tenant_id, survivor_id)])
    records = [record for row in owned if (record := _record(row.touchpoint)) is not None]
    theirs = await EventRepository(session, tenant_id).events_of_profiles(
        [record.event_id for record in records], set(restored_family)
    )
    plan = plan_unmerge(
        tenant_id,
        survivor_id=survivor_id,
        restored_id=restored_id,
        survivor_touchpoints=records,
        restored_touchpoints=[record for record in records if record.event_id in theirs],
    )
    await save_plan(repo, plan)


# Reading.


def _as_node(row: NodeRow) -> Node:
    return Node(
        row.id, cast(NodeType, row.type), row.key, row.label, cast(Properties, row.properties)
    )


def _as_edge(row: EdgeRow) -> Edge:
    return Edge(
        row.id, cast(EdgeType, row.type), row.source, row.target, cast(Properties, row.properties)
    )


async def intelligence(
    session: Session, tenant_id: uuid.UUID, mode: Mode, limit: int
) -> IntelligenceView:
    """The graph as `GET /v1/intelligence` serves it, bounded: every Campaign, Channel and
    Stage, the newest `limit` Customers and (in `full`) the newest `limit` Touchpoints, and the
    edges between the nodes returned. The stats describe the whole graph (counting queries)."""
    repo = GraphRepository(session, tenant_id)
    shared = [_as_node(row) for row in await repo.nodes({"Campaign", "Channel", "Stage"})]
    customers = [_as_node(row) for row in await repo.newest_nodes("Customer", limit + 1)]
    touchpoints: list[Node] = []
    if mode == "full":
        touchpoints = [_as_node(row) for row in await repo.newest_nodes("Touchpoint", limit + 1)]
    truncated = len(customers) > limit or len(touchpoints) > limit
    customers, touchpoints = customers[:limit], touchpoints[:limit]
    customer_ids = {node.id for node in customers}
    touchpoint_ids = {node.id for node in touchpoints}
    rows = await repo.edges_at({"AT_STAGE"}, sources=customer_ids)
    if touchpoints:
        rows += await repo.edges_at(
            {"VIA_CHANNEL", "INFLUENCED_BY", "CONTRIBUTES_TO"}, sources=touchpoint_ids
        )
        rows += [
            row
            for row in await repo.edges_at({"HAS_TOUCHPOINT"}, targets=touchpoint_ids)
            if row.source in customer_ids
        ]
    nodes = [*sorted(shared + customers, key=lambda n: (n.type, n.key)), *touchpoints]
    stats = counted_stats(
        node_counts=await repo.node_counts(),
        edge_counts=await repo.edge_counts(),
        stage_nodes={stage: stage_node_id(tenant_id, stage) for stage in STAGES},
        at_stage=await repo.edge_counts_by_target("AT_STAGE"),
        shared=shared,
        influenced_by=await repo.edge_counts_by_target("INFLUENCED_BY"),
        via_channel=await repo.edge_counts_by_target("VIA_CHANNEL"),
    )
    return IntelligenceView(tuple(nodes), tuple(_as_edge(row) for row in rows), stats, truncated)


async def attribution(
    session: Session,
    tenant_id: uuid.UUID,
    model: AttributionModel,
    *,
    stage: Stage = "conversion",
    since: datetime | None = None,
    until: datetime | None = None,
) -> Attribution:
    """Every conversion into `stage` in [since, until), shared among its customer's touchpoints
    by `model` (`attribution.py`)."""
    repo = GraphRepository(session, tenant_id)
    nodes = [_as_node(row) for row in await repo.nodes({"Customer", "Touchpoint", "Stage"})]
    edges = [_as_edge(row) for row in await repo.edges({"HAS_TOUCHPOINT", "CONTRIBUTES_TO"})]
    conversions, touches = read_attribution_inputs(nodes, edges, stage, since=since, until=until)
    return attribute(conversions, touches, model)
