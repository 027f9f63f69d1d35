"""What a committed chunk changed, as realtime messages (DESIGN §10; pure): the events stored,
the profiles created, updated and merged, identity conflicts, orders, CRM persons and deals,
and the graph's nodes and edges. Summaries, not rows: a client that wants more reads the API."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from journeyline.crm.deals import Deal
from journeyline.graph.plan import (
    GraphPlan,
    customer_node_id,
    edge_id,
    node_id,
    stage_node_id,
    touchpoint_node_id,
)
from journeyline.identity.identity_map import IdentityMap
from journeyline.orders.lifecycle import OrderState
from journeyline.realtime.messages import message

Message = dict[str, Any]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _id(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def event_messages(
    tenant_id: uuid.UUID, rows: Iterable[Mapping[str, Any]], identity_map: IdentityMap
) -> list[Message]:
    """`event.ingested` per stored event row, with the profile it belongs to now and its
    touchpoint (the event of a customer is one)."""
    return [
        message(
            tenant_id,
            "event.ingested",
            {
                "event_id": str(row["id"]),
                "profile_id": _id(
                    identity_map.survivor(row["profile_id"]) if row["profile_id"] else None
                ),
                "event_type": row["event_type"],
                "event_name": row["event_name"],
                "source": row["source"],
                "source_type": row["source_type"],
                "occurred_at": _iso(row["occurred_at"]),
                "touchpoint_id": _id(
                    touchpoint_node_id(tenant_id, row["id"]) if row["profile_id"] else None
                ),
            },
        )
        for row in rows
    ]


def identity_messages(
    tenant_id: uuid.UUID, identity_map: IdentityMap, event_ids: Sequence[uuid.UUID | None]
) -> list[Message]:
    """Profiles created (and still standing), merged, updated; identity conflicts."""
    messages: list[Message] = []
    for state in identity_map.profiles.values():
        if not state.is_dirty or state.merged_into is not None:
            continue
        messages.append(
            message(
                tenant_id,
                "profile.created" if state.is_new else "profile.updated",
                {
                    "profile_id": str(state.id),
                    "status": state.status,
                    "event_count": state.event_count,
                    "first_seen_at": _iso(state.first_seen_at),
                    "last_seen_at": _iso(state.last_seen_at),
                },
            )
        )
    for merge in identity_map.merges:
        messages.append(
            message(
                tenant_id,
                "profile.merged",
                {
                    "from_profile_id": str(merge.from_profile_id),
                    "into_profile_id": str(identity_map.survivor(merge.into_profile_id)),
                    "reason": merge.reason,
                },
            )
        )
    for conflict in identity_map.conflicts:
        index = conflict.event_index
        event_id = event_ids[index] if index is not None and index < len(event_ids) else None
        messages.append(
            message(
                tenant_id,
                "identity.conflict",
                {
                    "kind": conflict.kind,
                    "value": conflict.value,
                    "reason": conflict.reason,
                    "owner_profile_id": _id(conflict.owner_profile_id),
                    "attempted_profile_id": _id(conflict.attempted_profile_id),
                    "event_id": _id(event_id),
                },
            )
        )
    return messages


def order_messages(tenant_id: uuid.UUID, orders: Iterable[OrderState]) -> list[Message]:
    return [
        message(
            tenant_id,
            "order.updated",
            {
                "order_id": order.order_id,
                "profile_id": _id(order.profile_id),
                "status": order.status,
                "total": order.total,
                "currency": order.currency,
                "items": len(order.items),
            },
        )
        for order in orders
    ]


def deal_messages(tenant_id: uuid.UUID, deals: Iterable[Deal]) -> list[Message]:
    return [
        message(
            tenant_id,
            "crm.deal",
            {
                "id": str(deal.id),
                "key": deal.key,
                "kind": deal.kind,
                "stage": deal.stage,
                "name": deal.name,
                "amount": None if deal.amount is None else float(deal.amount),
                "currency": deal.currency,
                "profile_id": _id(deal.profile_id),
                "cancelled": deal.cancelled,
            },
        )
        for deal in deals
    ]


def person_messages(tenant_id: uuid.UUID, persons: Iterable[Mapping[str, Any]]) -> list[Message]:
    return [
        message(
            tenant_id,
            "crm.person",
            {
                "profile_id": str(person["profile_id"]),
                "name": person["name"],
                "email": person["email"],
                "lifecycle_stage": person["lifecycle_stage"],
                "company_id": _id(person["company_id"]),
            },
        )
        for person in persons
    ]


# Nodes or edges one graph message lists; a bigger change says `truncated` (read the graph).
MAX_GRAPH_ITEMS = 500


def _listed(items: Sequence[dict[str, str]], deleted: Iterable[uuid.UUID]) -> dict[str, Any]:
    gone = sorted(str(item) for item in deleted)
    return {
        "upserted": items[:MAX_GRAPH_ITEMS],
        "deleted": gone[:MAX_GRAPH_ITEMS],
        "truncated": len(items) > MAX_GRAPH_ITEMS or len(gone) > MAX_GRAPH_ITEMS,
    }


def graph_messages(tenant_id: uuid.UUID, plan: GraphPlan) -> list[Message]:
    """One `graph.nodes` and one `graph.edges` message per commit: the Campaigns, Channels and
    Stages the chunk touched and the Customers whose stage moved (a merged profile's Customer
    is deleted), their AT_STAGE edges and the CONTRIBUTES_TO edges of the stages reached.
    Touchpoints are the events: `event.ingested` names each one's `touchpoint_id`."""
    if not plan:
        return []
    nodes = [
        {"id": str(node_id(tenant_id, kind, key)), "type": kind, "key": key, "label": key}
        for kind, key in sorted(plan.shared)
    ]
    reached = sorted({row.stage for row in plan.reached} | set(plan.stages.values()))
    stage_ids = {stage: stage_node_id(tenant_id, stage) for stage in reached}
    nodes += [
        {"id": str(stage_ids[stage]), "type": "Stage", "key": stage, "label": stage}
        for stage in reached
    ]
    edges: list[dict[str, str]] = []
    # Past MAX_GRAPH_ITEMS a message says `truncated`: ids are derived (UUIDv5) only for the
    # items it lists, plus one to tell that more exist.
    for profile_id, stage in sorted(plan.stages.items())[: MAX_GRAPH_ITEMS + 1]:
        customer = customer_node_id(tenant_id, profile_id)
        nodes.append(
            {
                "id": str(customer),
                "type": "Customer",
                "key": str(profile_id),
                "label": str(profile_id),
            }
        )
        target = stage_ids[stage]
        edges.append(
            {
                "id": str(edge_id(tenant_id, "AT_STAGE", customer, target)),
                "type": "AT_STAGE",
                "source": str(customer),
                "target": str(target),
            }
        )
    for row in plan.reached[: max(MAX_GRAPH_ITEMS + 1 - len(edges), 0)]:
        source = touchpoint_node_id(tenant_id, row.event_id)
        target = stage_ids[row.stage]
        edges.append(
            {
                "id": str(edge_id(tenant_id, "CONTRIBUTES_TO", source, target)),
                "type": "CONTRIBUTES_TO",
                "source": str(source),
                "target": str(target),
            }
        )
    gone = [
        customer_node_id(tenant_id, profile_id)
        for profile_id in list(plan.moved)[: MAX_GRAPH_ITEMS + 1]
    ]
    messages = [message(tenant_id, "graph.nodes", _listed(nodes, gone))]
    if edges:
        messages.append(message(tenant_id, "graph.edges", _listed(edges, ())))
    return messages
