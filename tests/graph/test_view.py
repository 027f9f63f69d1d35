"""The intelligence view assembled from stored rows and the log's, and the stats from counting
queries (no I/O)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from journeyline.graph.plan import (
    Edge,
    EdgeType,
    Node,
    Properties,
    customer_node_id,
    edge_id,
    node_id,
    stage_node_id,
    touchpoint_node_id,
)
from journeyline.graph.stages import Stage, StageRow
from journeyline.graph.view import (
    Shared,
    Touchpoint,
    TouchpointCount,
    assemble,
    counted_stats,
)

TENANT, OTHER_TENANT = uuid.UUID(int=0xA), uuid.UUID(int=0xB)
T0 = datetime(2026, 11, 22, 10, tzinfo=UTC)
# Ann and Ben are shown; Cal's touchpoint is on the page but Cal is not.
ANN, BEN, CAL, MERGED = (uuid.UUID(int=n) for n in range(1, 5))


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def event_id(number: int) -> uuid.UUID:
    return uuid.UUID(int=100 + number)


SHARED = (
    Shared("Campaign", "spring", "Spring sale", 2, at(1), at(3)),
    Shared("Campaign", "fall", None, 0, at(0), at(0)),
    Shared("Channel", "email", None, 2, at(1), at(3)),
    Shared("Channel", "direct", None, 3, at(2), at(5)),
)


def touchpoint(
    number: int,
    event_type: str,
    customer: uuid.UUID,
    *,
    campaign_id: str | None = None,
    channel: str | None = "direct",
    payload: dict[str, object] | None = None,
    redeliveries: int = 0,
    last_synced_at: datetime | None = None,
) -> Touchpoint:
    return Touchpoint(
        event_id=event_id(number),
        customer_id=customer,
        event_type=event_type,
        source="web",
        source_type="direct",
        occurred_at=at(number),
        received_at=at(number),
        campaign_id=campaign_id,
        channel=channel,
        payload=payload or {},
        redeliveries=redeliveries,
        last_synced_at=last_synced_at,
    )


TOUCHPOINTS = (
    touchpoint(1, "page_viewed", ANN, campaign_id="spring", channel="email"),
    touchpoint(2, "page_viewed", BEN),
    touchpoint(3, "product_viewed", ANN, campaign_id="spring", channel="email"),
    touchpoint(4, "purchase_completed", ANN, payload={"amount": 40, "currency": "eur"}),
    touchpoint(5, "page_viewed", CAL),
)


def stage_row(
    customer: uuid.UUID, stage: Stage, number: int, origin: uuid.UUID | None = None
) -> StageRow:
    return StageRow(
        profile_id=customer,
        origin_profile_id=customer if origin is None else origin,
        stage=stage,
        event_id=event_id(number),
        event_type="purchase_completed" if stage == "conversion" else "page_viewed",
        occurred_at=at(number),
    )


STAGE_ROWS = (
    stage_row(ANN, "awareness", 1),
    stage_row(ANN, "conversion", 4),
    stage_row(BEN, "awareness", 2),
)


def view(
    touchpoints: Sequence[Touchpoint] = (),
    stage_rows: Iterable[StageRow] = STAGE_ROWS,
    tenant_id: uuid.UUID = TENANT,
) -> tuple[list[Node], list[Edge]]:
    return assemble(
        tenant_id,
        shared=SHARED,
        reached=["awareness", "conversion"],
        customers=[ANN, BEN],
        stage_rows=stage_rows,
        touchpoints=touchpoints,
    )


# Readable names for every node id a test can meet.
NAMES: dict[uuid.UUID, str] = {
    **{customer_node_id(TENANT, p): f"Customer:{p.int}" for p in (ANN, BEN, CAL)},
    **{touchpoint_node_id(TENANT, event_id(n)): f"Touchpoint:{n}" for n in range(10)},
    **{stage_node_id(TENANT, s): f"Stage:{s}" for s in ("awareness", "conversion")},
    **{node_id(TENANT, s.type, s.key): f"{s.type}:{s.key}" for s in SHARED},
}


def named_edges(edges: Iterable[Edge], *types: EdgeType) -> set[tuple[str, str, str]]:
    return {
        (edge.type, NAMES[edge.source], NAMES[edge.target])
        for edge in edges
        if not types or edge.type in types
    }


def node_named(nodes: Iterable[Node], name: str) -> Node:
    [found] = [node for node in nodes if NAMES[node.id] == name]
    return found


def test_summary_shows_every_campaign_channel_reached_stage_and_customer() -> None:
    nodes, _ = view()
    assert [NAMES[node.id] for node in nodes] == [
        "Campaign:fall",
        "Campaign:spring",
        "Channel:direct",
        "Channel:email",
        f"Customer:{ANN.int}",
        f"Customer:{BEN.int}",
        "Stage:awareness",
        "Stage:conversion",
    ]


def test_summary_links_each_customer_to_its_current_stage_only() -> None:
    _, edges = view()
    assert named_edges(edges) == {
        ("AT_STAGE", f"Customer:{ANN.int}", "Stage:conversion"),
        ("AT_STAGE", f"Customer:{BEN.int}", "Stage:awareness"),
    }


@pytest.mark.parametrize(
    ("name", "properties"),
    [
        (
            "Campaign:spring",
            {
                "touchpoints": 2,
                "first_seen_at": at(1).isoformat(),
                "last_seen_at": at(3).isoformat(),
                "campaign_name": "Spring sale",
            },
        ),
        (
            "Channel:direct",
            {
                "touchpoints": 3,
                "first_seen_at": at(2).isoformat(),
                "last_seen_at": at(5).isoformat(),
            },
        ),
        ("Stage:conversion", {"rank": 3}),
        (f"Customer:{ANN.int}", {"stage": "conversion"}),
    ],
)
def test_nodes_carry_their_stored_properties(name: str, properties: Properties) -> None:
    assert node_named(view()[0], name).properties == properties


def test_a_customer_with_no_stage_row_has_no_stage_and_no_at_stage_edge() -> None:
    nodes, edges = view(stage_rows=[row for row in STAGE_ROWS if row.profile_id != BEN])
    assert node_named(nodes, f"Customer:{BEN.int}").properties == {"stage": None}
    assert named_edges(edges) == {("AT_STAGE", f"Customer:{ANN.int}", "Stage:conversion")}


def test_full_mode_lists_the_touchpoints_after_the_other_nodes_in_the_given_order() -> None:
    nodes, _ = view(TOUCHPOINTS)
    assert [NAMES[node.id] for node in nodes[-5:]] == [f"Touchpoint:{n}" for n in range(1, 6)]


def test_touchpoints_go_via_their_channel_and_are_influenced_by_their_campaign() -> None:
    _, edges = view(TOUCHPOINTS)
    assert named_edges(edges, "VIA_CHANNEL", "INFLUENCED_BY") == {
        ("VIA_CHANNEL", "Touchpoint:1", "Channel:email"),
        ("INFLUENCED_BY", "Touchpoint:1", "Campaign:spring"),
        ("VIA_CHANNEL", "Touchpoint:2", "Channel:direct"),
        ("VIA_CHANNEL", "Touchpoint:3", "Channel:email"),
        ("INFLUENCED_BY", "Touchpoint:3", "Campaign:spring"),
        ("VIA_CHANNEL", "Touchpoint:4", "Channel:direct"),
        ("VIA_CHANNEL", "Touchpoint:5", "Channel:direct"),
    }


def test_a_touchpoint_has_a_customer_edge_only_when_its_customer_is_shown() -> None:
    _, edges = view(TOUCHPOINTS)
    assert named_edges(edges, "HAS_TOUCHPOINT") == {
        ("HAS_TOUCHPOINT", f"Customer:{ANN.int}", "Touchpoint:1"),
        ("HAS_TOUCHPOINT", f"Customer:{BEN.int}", "Touchpoint:2"),
        ("HAS_TOUCHPOINT", f"Customer:{ANN.int}", "Touchpoint:3"),
        ("HAS_TOUCHPOINT", f"Customer:{ANN.int}", "Touchpoint:4"),
    }


def test_only_the_touchpoint_that_moved_its_customer_contributes_to_the_stage() -> None:
    _, edges = view(TOUCHPOINTS)
    assert named_edges(edges, "CONTRIBUTES_TO") == {
        ("CONTRIBUTES_TO", "Touchpoint:1", "Stage:awareness"),
        ("CONTRIBUTES_TO", "Touchpoint:2", "Stage:awareness"),
        ("CONTRIBUTES_TO", "Touchpoint:4", "Stage:conversion"),
    }


def test_a_contribution_records_when_and_by_what_type_of_event() -> None:
    _, edges = view(TOUCHPOINTS)
    contributions = {edge.source: edge for edge in edges if edge.type == "CONTRIBUTES_TO"}
    contribution = contributions[touchpoint_node_id(TENANT, event_id(4))]
    assert contribution.properties == {
        "occurred_at": at(4).isoformat(),
        "event_type": "purchase_completed",
    }


def test_after_a_merge_the_earlier_row_of_a_stage_contributes() -> None:
    """Ann's own awareness (event 1) is later than the merged profile's (event 0)."""
    rows = [*STAGE_ROWS, stage_row(ANN, "awareness", 0, origin=MERGED)]
    merged = touchpoint(0, "page_viewed", ANN)
    _, edges = view([merged, *TOUCHPOINTS[:1]], stage_rows=rows)
    assert named_edges(edges, "CONTRIBUTES_TO") == {
        ("CONTRIBUTES_TO", "Touchpoint:0", "Stage:awareness")
    }


def test_a_touchpoint_records_its_event_and_revenue() -> None:
    nodes, _ = view(TOUCHPOINTS)
    node = node_named(nodes, "Touchpoint:4")
    assert (node.type, node.key, node.label) == (
        "Touchpoint",
        str(event_id(4)),
        "purchase_completed",
    )
    assert node.properties == {
        "event_id": str(event_id(4)),
        "event_type": "purchase_completed",
        "occurred_at": at(4).isoformat(),
        "source": "web",
        "source_type": "direct",
        "channel": "direct",
        "first_synced_at": at(4).isoformat(),
        "last_synced_at": at(4).isoformat(),
        "sync_count": 1,
        "revenue": 40.0,
        "currency": "EUR",
    }


def test_a_touchpoint_with_a_campaign_names_it() -> None:
    assert node_named(view(TOUCHPOINTS)[0], "Touchpoint:1").properties["campaign_id"] == "spring"


@pytest.mark.parametrize(
    ("redeliveries", "last_synced_at", "sync_count", "last_synced"),
    [
        (0, None, 1, at(1)),
        (2, at(30), 3, at(30)),
        # A re-sync counter older than the first delivery never moves the time back.
        (1, at(0), 2, at(1)),
    ],
)
def test_a_touchpoint_counts_its_deliveries(
    redeliveries: int, last_synced_at: datetime | None, sync_count: int, last_synced: datetime
) -> None:
    synced = touchpoint(
        1, "page_viewed", ANN, redeliveries=redeliveries, last_synced_at=last_synced_at
    )
    properties = node_named(view([synced])[0], "Touchpoint:1").properties
    assert (
        properties["sync_count"],
        properties["first_synced_at"],
        properties["last_synced_at"],
    ) == (
        sync_count,
        at(1).isoformat(),
        last_synced.isoformat(),
    )


def test_the_same_input_gives_the_same_ids() -> None:
    assert view(TOUCHPOINTS) == view(TOUCHPOINTS)


def test_node_ids_are_the_deterministic_ids_of_their_type_and_key() -> None:
    nodes, _ = view(TOUCHPOINTS)
    assert all(node.id == node_id(TENANT, node.type, node.key) for node in nodes)


def test_edge_ids_are_the_deterministic_ids_of_their_type_and_endpoints() -> None:
    _, edges = view(TOUCHPOINTS)
    assert all(edge.id == edge_id(TENANT, edge.type, edge.source, edge.target) for edge in edges)


def test_another_tenant_gets_other_ids() -> None:
    ours, theirs = view(TOUCHPOINTS), view(TOUCHPOINTS, tenant_id=OTHER_TENANT)
    assert not {node.id for node in ours[0]} & {node.id for node in theirs[0]}
    assert not {edge.id for edge in ours[1]} & {edge.id for edge in theirs[1]}


# --- stats -----------------------------------------------------------------------------------


def stats_of_the_view() -> dict[str, object]:
    """Counts as the store's queries give them for the customers and touchpoints above."""
    return counted_stats(
        customers=3,
        touchpoints=5,
        with_campaign=2,
        shared=SHARED,
        reached=["awareness", "conversion", "awareness"],
        current_by_rank={0: 2, 3: 1},
        contributions=4,
    ).as_json()


def test_stats_count_nodes_by_type() -> None:
    assert stats_of_the_view()["nodes"] == {
        "Customer": 3,
        "Touchpoint": 5,
        "Campaign": 2,
        "Channel": 2,
        "Stage": 2,
    }


def test_stats_count_edges_by_type() -> None:
    assert stats_of_the_view()["edges"] == {
        "HAS_TOUCHPOINT": 5,
        "INFLUENCED_BY": 2,
        "VIA_CHANNEL": 5,
        "AT_STAGE": 3,
        "CONTRIBUTES_TO": 4,
    }


def test_stats_list_customers_at_every_stage() -> None:
    assert stats_of_the_view()["stages"] == {
        "awareness": 2,
        "interest": 0,
        "consideration": 0,
        "conversion": 1,
        "retention": 0,
    }


def test_stats_order_campaigns_and_channels_by_touchpoints_then_key() -> None:
    stats = counted_stats(
        customers=0,
        touchpoints=0,
        with_campaign=0,
        shared=[*SHARED, Shared("Channel", "affiliate", None, 3, at(0), at(0))],
        reached=[],
        current_by_rank={},
        contributions=0,
    )
    assert stats.campaigns == (TouchpointCount("spring", 2), TouchpointCount("fall", 0))
    assert stats.channels == (
        TouchpointCount("affiliate", 3),
        TouchpointCount("direct", 3),
        TouchpointCount("email", 2),
    )


def test_stats_as_json_names_campaigns_and_channels() -> None:
    as_json = stats_of_the_view()
    assert (as_json["campaigns"], as_json["channels"]) == (
        [{"campaign_id": "spring", "touchpoints": 2}, {"campaign_id": "fall", "touchpoints": 0}],
        [{"channel": "direct", "touchpoints": 3}, {"channel": "email", "touchpoints": 2}],
    )
