"""The intelligence stats from counting queries (no I/O): the counts are taken here, in
Python, from a planned graph, as the store's GROUP BY queries would."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from journeyline.graph.build import GraphSnapshot, TouchFact, plan_chunk
from journeyline.graph.plan import Edge, Node, node_id, stage_node_id
from journeyline.graph.stages import STAGES
from journeyline.graph.view import GraphStats, TouchpointCount, counted_stats

TENANT = uuid.UUID(int=0xA)
T0 = datetime(2026, 11, 22, 10, tzinfo=UTC)
ANN, BEN = uuid.UUID(int=1), uuid.UUID(int=2)


def fact(
    number: int,
    event_type: str,
    profile_id: uuid.UUID,
    campaign_id: str | None = None,
    channel: str | None = None,
) -> TouchFact:
    return TouchFact(
        event_id=uuid.UUID(int=100 + number),
        profile_id=profile_id,
        event_type=event_type,
        occurred_at=T0 + timedelta(minutes=number),
        received_at=T0 + timedelta(minutes=number),
        source="web",
        source_type="direct",
        campaign_id=campaign_id,
        channel=channel,
    )


def graph() -> tuple[list[Node], list[Edge]]:
    """Ann: two views from the spring campaign by email, then a purchase (conversion).
    Ben: one view, direct (awareness). A `fall` campaign node with no touchpoint left."""
    plan = plan_chunk(
        TENANT,
        GraphSnapshot(),
        [
            fact(1, "page_viewed", ANN, campaign_id="spring", channel="email"),
            fact(2, "page_viewed", BEN),
            fact(3, "product_viewed", ANN, campaign_id="spring", channel="email"),
            fact(4, "purchase_completed", ANN),
        ],
    )
    fall = Node(node_id(TENANT, "Campaign", "fall"), "Campaign", "fall", "fall")
    return [*plan.nodes.values(), fall], list(plan.edges.values())


def graph_stats(nodes: list[Node], edges: list[Edge]) -> GraphStats:
    def per_target(edge_type: str) -> Counter[uuid.UUID]:
        return Counter(edge.target for edge in edges if edge.type == edge_type)

    return counted_stats(
        node_counts=Counter(node.type for node in nodes),
        edge_counts=Counter(edge.type for edge in edges),
        stage_nodes={stage: stage_node_id(TENANT, stage) for stage in STAGES},
        at_stage=per_target("AT_STAGE"),
        shared=[node for node in nodes if node.type in ("Campaign", "Channel")],
        influenced_by=per_target("INFLUENCED_BY"),
        via_channel=per_target("VIA_CHANNEL"),
    )


def test_stats_count_nodes_edges_stages_campaigns_and_channels() -> None:
    stats = graph_stats(*graph())
    assert stats.nodes == {
        "Customer": 2,
        "Touchpoint": 4,
        "Campaign": 2,
        "Channel": 2,
        "Stage": 2,
    }
    assert stats.edges == {
        "HAS_TOUCHPOINT": 4,
        "INFLUENCED_BY": 2,
        "VIA_CHANNEL": 4,
        "AT_STAGE": 2,
        "CONTRIBUTES_TO": 3,
    }
    assert stats.stages == {
        "awareness": 1,
        "interest": 0,
        "consideration": 0,
        "conversion": 1,
        "retention": 0,
    }
    assert stats.campaigns == (TouchpointCount("spring", 2), TouchpointCount("fall", 0))
    assert stats.channels == (TouchpointCount("direct", 2), TouchpointCount("email", 2))


def test_stats_as_json() -> None:
    as_json = graph_stats(*graph()).as_json()
    assert as_json["campaigns"] == [
        {"campaign_id": "spring", "touchpoints": 2},
        {"campaign_id": "fall", "touchpoints": 0},
    ]
    assert as_json["channels"] == [
        {"channel": "direct", "touchpoints": 2},
        {"channel": "email", "touchpoints": 2},
    ]
    assert set(as_json) == {"nodes", "edges", "stages", "campaigns", "channels"}
