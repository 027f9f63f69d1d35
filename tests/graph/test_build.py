"""Graph building: node/edge upserts of events, re-syncs, merges and unmerges (no I/O).

`MemoryGraph` applies plans exactly as the module contract says a store must (deletes, then
replacements, then upserts merging properties), so the properties below hold for the plans as
persisted: a chunk gives the graph that its steps give one at a time, and an unmerge gives back
the graph as if the merge had never happened.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    revenue_of,
)
from journeyline.graph.plan import (
    EDGE_TYPES,
    Edge,
    GraphPlan,
    Node,
    customer_node_id,
    edge_id,
    node_id,
    touchpoint_node_id,
)
from journeyline.graph.stages import (
    STAGE_BY_EVENT_TYPE,
    STAGES,
    Contribution,
    Stage,
    TouchpointRecord,
)

TENANT = uuid.UUID(int=0xA)
T0 = datetime(2026, 11, 22, 10, tzinfo=UTC)
P1, P2, P3 = uuid.UUID(int=1), uuid.UUID(int=2), uuid.UUID(int=3)
PROFILES = (P1, P2, P3)
CHANNELS = ("direct", "email", "paid_search", "social", "api", "stripe")
CAMPAIGNS = ("spring", "fall")
PROPERTY = settings(max_examples=150, deadline=None, database=None)


def event_id(number: int) -> uuid.UUID:
    return uuid.UUID(int=1000 + number)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def fact(
    number: int,
    event_type: str,
    profile_id: uuid.UUID | None = P1,
    *,
    received: int | None = None,
    source: str = "web",
    source_type: str = "direct",
    campaign_id: str | None = None,
    channel: str | None = None,
    utm_medium: str | None = None,
    referrer: str | None = None,
    page_url: str | None = None,
    payload: dict[str, object] | None = None,
) -> TouchFact:
    return TouchFact(
        event_id=event_id(number),
        profile_id=profile_id,
        event_type=event_type,
        occurred_at=at(number),
        received_at=at(number if received is None else received),
        source=source,
        source_type=source_type,
        campaign_id=campaign_id,
        channel=channel,
        utm_medium=utm_medium,
        referrer=referrer,
        page_url=page_url,
        payload=payload or {},
    )


# Readable names for every id a test can meet: "Customer:1", "Stage:awareness", ...
NAMES: dict[uuid.UUID, str] = {
    **{customer_node_id(TENANT, p): f"Customer:{p.int}" for p in PROFILES},
    **{touchpoint_node_id(TENANT, event_id(n)): f"Touchpoint:{n}" for n in range(100)},
    **{node_id(TENANT, "Stage", s): f"Stage:{s}" for s in STAGES},
    **{node_id(TENANT, "Channel", c): f"Channel:{c}" for c in CHANNELS},
    **{node_id(TENANT, "Campaign", c): f"Campaign:{c}" for c in CAMPAIGNS},
}


def named_edges(edges: Iterable[Edge]) -> set[tuple[str, str, str]]:
    return {(edge.type, NAMES[edge.source], NAMES[edge.target]) for edge in edges}


def named_ids(ids: Iterable[uuid.UUID]) -> set[str]:
    return {NAMES[i] for i in ids}


def contributes(n: int, stage: Stage) -> uuid.UUID:
    return edge_id(
        TENANT,
        "CONTRIBUTES_TO",
        touchpoint_node_id(TENANT, event_id(n)),
        node_id(TENANT, "Stage", stage),
    )


# --- one event -------------------------------------------------------------------------------


def test_page_view_creates_the_customer_touchpoint_channel_and_stage() -> None:
    plan = plan_chunk(TENANT, GraphSnapshot(), [fact(1, "page_viewed")])
    assert named_ids(plan.nodes) == {
        "Customer:1",
        "Touchpoint:1",
        "Channel:direct",
        "Stage:awareness",
    }
    assert named_edges(plan.edges.values()) == {
        ("HAS_TOUCHPOINT", "Customer:1", "Touchpoint:1"),
        ("VIA_CHANNEL", "Touchpoint:1", "Channel:direct"),
        ("AT_STAGE", "Customer:1", "Stage:awareness"),
        ("CONTRIBUTES_TO", "Touchpoint:1", "Stage:awareness"),
    }
    assert plan.stages == {P1: "awareness"}
    assert plan.replaced_sources == {"AT_STAGE": {customer_node_id(TENANT, P1)}}
    assert plan.touchpoint_ids == {event_id(1): touchpoint_node_id(TENANT, event_id(1))}
    assert not plan.deleted_nodes
    assert not plan.deleted_edges


def test_touchpoint_properties_record_the_event_and_its_revenue() -> None:
    purchase = fact(
        2,
        "purchase_completed",
        received=5,
        source="stripe",
        source_type="external",
        campaign_id=" spring ",
        payload={"amount": 99.5, "currency": "usd", "campaign_name": "Spring sale"},
    )
    plan = plan_chunk(TENANT, GraphSnapshot(), [purchase])
    touchpoint = plan.nodes[touchpoint_node_id(TENANT, event_id(2))]
    assert (touchpoint.type, touchpoint.key, touchpoint.label) == (
        "Touchpoint",
        str(event_id(2)),
        "purchase_completed",
    )
    assert touchpoint.properties == {
        "event_id": str(event_id(2)),
        "event_type": "purchase_completed",
        "occurred_at": at(2).isoformat(),
        "source": "stripe",
        "source_type": "external",
        "channel": "stripe",
        "campaign_id": "spring",
        "revenue": 99.5,
        "currency": "USD",
        "first_synced_at": at(5).isoformat(),
        "last_synced_at": at(5).isoformat(),
        "sync_count": 1,
    }
    campaign = plan.nodes[node_id(TENANT, "Campaign", "spring")]
    assert (campaign.label, campaign.properties) == ("spring", {"campaign_name": "Spring sale"})
    assert ("INFLUENCED_BY", "Touchpoint:2", "Campaign:spring") in named_edges(plan.edges.values())


@pytest.mark.parametrize(
    ("identified", "channel"),
    [
        (fact(1, "identified", channel="Email"), "email"),
        (fact(1, "identified", utm_medium="cpc"), "paid_search"),
        (
            fact(1, "identified", referrer="https://t.co/x", page_url="https://shop.example.com/"),
            "social",
        ),
        (fact(1, "identified", source="api", source_type="internal"), "api"),
        (fact(1, "identified"), "direct"),
    ],
)
def test_touchpoint_goes_via_its_derived_channel(identified: TouchFact, channel: str) -> None:
    plan = plan_chunk(TENANT, GraphSnapshot(), [identified])
    assert ("VIA_CHANNEL", "Touchpoint:1", f"Channel:{channel}") in named_edges(plan.edges.values())


def test_an_event_without_a_campaign_has_no_campaign_edge() -> None:
    plan = plan_chunk(TENANT, GraphSnapshot(), [fact(1, "page_viewed", campaign_id="  ")])
    assert not [edge for edge in plan.edges.values() if edge.type == "INFLUENCED_BY"]


def test_an_event_with_no_customer_is_no_touchpoint() -> None:
    plan = plan_chunk(TENANT, GraphSnapshot(), [fact(1, "purchase_completed", profile_id=None)])
    assert plan == GraphPlan()


@pytest.mark.parametrize(
    ("event_type", "payload", "expected"),
    [
        ("purchase_completed", {"amount": 10}, 10.0),
        ("purchase_completed", {"revenue": 7.5, "amount": 10}, 7.5),
        ("subscription_created", {"total": 20.25}, 20.25),
        ("purchase_completed", {"amount": "10"}, None),
        ("purchase_completed", {"amount": True}, None),
        ("purchase_completed", {"amount": float("nan"), "value": 3}, 3.0),
        ("purchase_abandoned", {"cart_value": 50, "amount": 50}, None),
    ],
)
def test_revenue_of(event_type: str, payload: dict[str, object], expected: float | None) -> None:
    assert revenue_of(event_type, payload) == expected


def test_read_marketing_context_takes_the_trackers_top_level_fields() -> None:
    context = read_marketing_context(
        {
            "utm_campaign": " spring ",
            "utm_medium": "cpc",
            "referrer": "https://t.co/x",
            "url": "https://shop.example.com/",
            "extra": 1,
        }
    )
    assert (context.utm_campaign, context.utm_medium, context.referrer, context.page_url) == (
        "spring",
        "cpc",
        "https://t.co/x",
        "https://shop.example.com/",
    )
    assert read_marketing_context({"utm_medium": 3, "referrer": ""}).utm_medium is None


# --- stages ----------------------------------------------------------------------------------


def test_a_chunk_keeps_only_the_last_at_stage_edge_and_every_contribution() -> None:
    steps = [
        fact(1, "page_viewed"),
        fact(2, "product_added"),
        fact(3, "page_viewed"),
        fact(4, "purchase_completed"),
    ]
    plan = plan_chunk(TENANT, GraphSnapshot(), steps)
    stage_edges = named_edges(
        e for e in plan.edges.values() if e.type in ("AT_STAGE", "CONTRIBUTES_TO")
    )
    assert stage_edges == {
        ("AT_STAGE", "Customer:1", "Stage:conversion"),
        ("CONTRIBUTES_TO", "Touchpoint:1", "Stage:awareness"),
        ("CONTRIBUTES_TO", "Touchpoint:2", "Stage:consideration"),
        ("CONTRIBUTES_TO", "Touchpoint:4", "Stage:conversion"),
    }
    assert plan.stages == {P1: "conversion"}


def test_a_stored_stage_never_moves_backwards() -> None:
    snapshot = GraphSnapshot(customers={P1: CustomerSnapshot(stage="consideration")})
    plan = plan_chunk(TENANT, snapshot, [fact(1, "page_viewed"), fact(2, "identified")])
    assert not [e for e in plan.edges.values() if e.type in ("AT_STAGE", "CONTRIBUTES_TO")]
    assert plan.stages == {}
    assert plan.replaced_sources == {}


def test_a_repeat_purchase_moves_a_converted_customer_to_retention() -> None:
    snapshot = GraphSnapshot(customers={P1: CustomerSnapshot(stage="conversion")})
    plan = plan_chunk(TENANT, snapshot, [fact(1, "purchase_completed")])
    assert plan.stages == {P1: "retention"}
    assert ("AT_STAGE", "Customer:1", "Stage:retention") in named_edges(plan.edges.values())


# --- re-syncs --------------------------------------------------------------------------------


def test_a_resynced_event_refreshes_its_touchpoint_and_nothing_else() -> None:
    snapshot = GraphSnapshot(
        customers={P1: CustomerSnapshot(stage="conversion")},
        touchpoints={event_id(1): TouchpointSync(sync_count=2, last_synced_at=at(30))},
    )
    # A redelivered purchase: not a repeat purchase, so no retention.
    plan = plan_chunk(TENANT, snapshot, [fact(1, "purchase_completed", received=60)])
    touchpoint = touchpoint_node_id(TENANT, event_id(1))
    assert plan.nodes == {
        touchpoint: Node(
            touchpoint,
            "Touchpoint",
            str(event_id(1)),
            "purchase_completed",
            {"last_synced_at": at(60).isoformat(), "sync_count": 3},
        )
    }
    assert plan.edges == {}
    assert plan.stages == {}
    assert plan.touchpoint_ids == {event_id(1): touchpoint}


def test_a_late_redelivery_keeps_the_latest_sync_time() -> None:
    snapshot = GraphSnapshot(touchpoints={event_id(1): TouchpointSync(1, at(30))})
    plan = plan_chunk(TENANT, snapshot, [fact(1, "page_viewed", received=10)])
    node = plan.nodes[touchpoint_node_id(TENANT, event_id(1))]
    assert node.properties == {"last_synced_at": at(30).isoformat(), "sync_count": 2}


def test_the_same_event_twice_in_a_chunk_is_one_touchpoint_synced_twice() -> None:
    plan = plan_chunk(
        TENANT, GraphSnapshot(), [fact(1, "page_viewed"), fact(1, "page_viewed", received=9)]
    )
    touchpoints = [n for n in plan.nodes.values() if n.type == "Touchpoint"]
    assert len(touchpoints) == 1
    assert touchpoints[0].properties["sync_count"] == 2
    assert touchpoints[0].properties["first_synced_at"] == at(1).isoformat()
    assert touchpoints[0].properties["last_synced_at"] == at(9).isoformat()
    assert len([e for e in plan.edges.values() if e.type == "HAS_TOUCHPOINT"]) == 1


# --- merges ----------------------------------------------------------------------------------


def test_merge_repoints_the_shadows_touchpoints_and_keeps_the_later_stage() -> None:
    snapshot = GraphSnapshot(
        customers={
            P2: CustomerSnapshot(
                stage="interest",
                touchpoint_event_ids=frozenset({event_id(1), event_id(2)}),
                contributions=(
                    Contribution("awareness", event_id(1), at(1)),
                    Contribution("interest", event_id(2), at(2)),
                ),
            ),
            P1: CustomerSnapshot(
                stage="awareness",
                touchpoint_event_ids=frozenset({event_id(0)}),
                contributions=(Contribution("awareness", event_id(0), at(0)),),
            ),
        }
    )
    plan = plan_merge(TENANT, snapshot, P2, P1)
    assert named_ids(plan.deleted_nodes) == {"Customer:2"}
    assert named_edges(plan.edges.values()) == {
        ("HAS_TOUCHPOINT", "Customer:1", "Touchpoint:1"),
        ("HAS_TOUCHPOINT", "Customer:1", "Touchpoint:2"),
        ("AT_STAGE", "Customer:1", "Stage:interest"),
    }
    # Both entered awareness: the earlier touchpoint (event 0, the survivor's) keeps it.
    assert plan.deleted_edges == {contributes(1, "awareness")}
    assert plan.stages == {P1: "interest"}
    assert plan.replaced_sources == {"AT_STAGE": {customer_node_id(TENANT, P1)}}


def test_merge_into_a_further_customer_leaves_its_stage() -> None:
    snapshot = GraphSnapshot(
        customers={
            P2: CustomerSnapshot(stage="awareness", touchpoint_event_ids=frozenset({event_id(1)})),
            P1: CustomerSnapshot(stage="conversion"),
        }
    )
    plan = plan_merge(TENANT, snapshot, P2, P1)
    assert named_edges(plan.edges.values()) == {("HAS_TOUCHPOINT", "Customer:1", "Touchpoint:1")}
    assert plan.stages == {}


def test_merge_of_a_profile_into_itself_plans_nothing() -> None:
    assert plan_merge(TENANT, GraphSnapshot(), P1, P1) == GraphPlan()


def test_events_after_a_merge_in_the_chunk_go_to_the_survivor() -> None:
    steps: list[TouchFact | MergeStep] = [
        fact(1, "page_viewed", P2),
        MergeStep(P2, P1),
        fact(2, "form_submitted", P2),
    ]
    plan = plan_chunk(TENANT, GraphSnapshot(), steps)
    assert "Customer:2" not in named_ids(plan.nodes)
    assert named_ids(plan.deleted_nodes) == {"Customer:2"}
    assert named_edges(e for e in plan.edges.values() if e.type != "VIA_CHANNEL") == {
        ("HAS_TOUCHPOINT", "Customer:1", "Touchpoint:1"),
        ("HAS_TOUCHPOINT", "Customer:1", "Touchpoint:2"),
        ("AT_STAGE", "Customer:1", "Stage:interest"),
        ("CONTRIBUTES_TO", "Touchpoint:1", "Stage:awareness"),
        ("CONTRIBUTES_TO", "Touchpoint:2", "Stage:interest"),
    }
    assert plan.stages == {P1: "interest"}


# --- unmerge ---------------------------------------------------------------------------------


def test_unmerge_gives_the_restored_customer_its_touchpoints_and_replayed_stages() -> None:
    plan = plan_unmerge(
        TENANT,
        survivor_id=P1,
        restored_id=P2,
        survivor_touchpoints=[
            TouchpointRecord(event_id(0), "page_viewed", at(0)),
            TouchpointRecord(event_id(1), "purchase_completed", at(1)),
        ],
        restored_touchpoints=[TouchpointRecord(event_id(2), "form_submitted", at(2))],
    )
    assert named_edges(plan.edges.values()) == {
        ("HAS_TOUCHPOINT", "Customer:2", "Touchpoint:2"),
        ("AT_STAGE", "Customer:1", "Stage:conversion"),
        ("AT_STAGE", "Customer:2", "Stage:interest"),
        ("CONTRIBUTES_TO", "Touchpoint:0", "Stage:awareness"),
        ("CONTRIBUTES_TO", "Touchpoint:1", "Stage:conversion"),
        ("CONTRIBUTES_TO", "Touchpoint:2", "Stage:interest"),
    }
    assert plan.deleted_edges == {
        edge_id(
            TENANT,
            "HAS_TOUCHPOINT",
            customer_node_id(TENANT, P1),
            touchpoint_node_id(TENANT, event_id(2)),
        )
    }
    assert plan.stages == {P1: "conversion", P2: "interest"}
    assert named_ids(plan.replaced_sources["AT_STAGE"]) == {"Customer:1", "Customer:2"}
    assert named_ids(plan.replaced_sources["CONTRIBUTES_TO"]) == {
        "Touchpoint:0",
        "Touchpoint:1",
        "Touchpoint:2",
    }


def test_unmerge_leaves_a_side_without_funnel_events_without_a_stage() -> None:
    plan = plan_unmerge(
        TENANT,
        survivor_id=P1,
        restored_id=P2,
        survivor_touchpoints=[TouchpointRecord(event_id(0), "sentiment_detected", at(0))],
        restored_touchpoints=[TouchpointRecord(event_id(1), "purchase_completed", at(1))],
    )
    assert plan.stages == {P1: None, P2: "conversion"}
    assert ("AT_STAGE", "Customer:2", "Stage:conversion") in named_edges(plan.edges.values())
    assert customer_node_id(TENANT, P1) in plan.replaced_sources["AT_STAGE"]


# --- the persistence contract, as properties -------------------------------------------------


@dataclass
class MemoryGraph:
    """A store that applies plans in the order the build module prescribes."""

    nodes: dict[uuid.UUID, Node] = field(default_factory=dict)
    edges: dict[uuid.UUID, Edge] = field(default_factory=dict)

    def apply(self, plan: GraphPlan) -> None:
        check_plan(plan)
        self.nodes = {i: n for i, n in self.nodes.items() if i not in plan.deleted_nodes}
        self.edges = {
            i: e
            for i, e in self.edges.items()
            if i not in plan.deleted_edges
            and e.source not in plan.deleted_nodes
            and e.target not in plan.deleted_nodes
        }
        for edge_type, sources in plan.replaced_sources.items():
            kept = plan.kept_edge_ids(edge_type)
            self.edges = {
                i: e
                for i, e in self.edges.items()
                if not (e.type == edge_type and e.source in sources and i not in kept)
            }
        for node in plan.nodes.values():
            stored = self.nodes.get(node.id)
            properties = node.properties if stored is None else stored.properties | node.properties
            self.nodes[node.id] = replace(node, properties=properties)
        for edge in plan.edges.values():
            stored_edge = self.edges.get(edge.id)
            properties = (
                edge.properties if stored_edge is None else stored_edge.properties | edge.properties
            )
            self.edges[edge.id] = replace(edge, properties=properties)

    def targets(self, edge_type: str, source: uuid.UUID) -> list[Node]:
        return [
            self.nodes[e.target]
            for e in self.edges.values()
            if e.type == edge_type and e.source == source
        ]

    def snapshot(self) -> GraphSnapshot:
        """Everything a chunk could need, loaded the way a service would from the tables."""
        customers = {}
        for node in self.nodes.values():
            if node.type != "Customer":
                continue
            stages = self.targets("AT_STAGE", node.id)
            touchpoints = self.targets("HAS_TOUCHPOINT", node.id)
            contributions = [
                Contribution(
                    STAGE_OF[e.target], uuid.UUID(touchpoint.key), when(e.properties["occurred_at"])
                )
                for touchpoint in touchpoints
                for e in self.edges.values()
                if e.type == "CONTRIBUTES_TO" and e.source == touchpoint.id
            ]
            customers[uuid.UUID(node.key)] = CustomerSnapshot(
                stage=STAGE_OF[stages[0].id] if stages else None,
                touchpoint_event_ids=frozenset(uuid.UUID(t.key) for t in touchpoints),
                contributions=tuple(contributions),
            )
        syncs = {
            uuid.UUID(node.key): TouchpointSync(
                sync_count=int(str(node.properties["sync_count"])),
                last_synced_at=when(node.properties["last_synced_at"]),
            )
            for node in self.nodes.values()
            if node.type == "Touchpoint"
        }
        return GraphSnapshot(customers=customers, touchpoints=syncs)

    def records(self, profile_id: uuid.UUID) -> list[TouchpointRecord]:
        return [
            TouchpointRecord(
                uuid.UUID(t.key),
                str(t.properties["event_type"]),
                when(t.properties["occurred_at"]),
            )
            for t in self.targets("HAS_TOUCHPOINT", customer_node_id(TENANT, profile_id))
        ]


STAGE_OF: dict[uuid.UUID, Stage] = {node_id(TENANT, "Stage", s): s for s in STAGES}


def when(value: object) -> datetime:
    return datetime.fromisoformat(str(value))


def check_plan(plan: GraphPlan) -> None:
    """The plan's own invariants: ids match contents, no id both deleted and written."""
    assert not plan.nodes.keys() & plan.deleted_nodes
    assert not plan.edges.keys() & plan.deleted_edges
    for node in plan.nodes.values():
        assert node.id == node_id(TENANT, node.type, node.key)
    for edge in plan.edges.values():
        assert edge.id == edge_id(TENANT, edge.type, edge.source, edge.target)
        assert edge.source not in plan.deleted_nodes
        assert edge.target not in plan.deleted_nodes
    assert set(plan.replaced_sources) <= set(EDGE_TYPES)


def check_graph(graph: MemoryGraph) -> None:
    """Invariants of a stored graph."""
    for edge in graph.edges.values():
        assert edge.source in graph.nodes
        assert edge.target in graph.nodes
    customers = [n for n in graph.nodes.values() if n.type == "Customer"]
    for customer in customers:
        assert len(graph.targets("AT_STAGE", customer.id)) <= 1
        contributed = [
            STAGE_OF[e.target]
            for t in graph.targets("HAS_TOUCHPOINT", customer.id)
            for e in graph.edges.values()
            if e.type == "CONTRIBUTES_TO" and e.source == t.id
        ]
        assert len(contributed) == len(set(contributed))
    for touchpoint in (n for n in graph.nodes.values() if n.type == "Touchpoint"):
        assert len(graph.targets("VIA_CHANNEL", touchpoint.id)) == 1
        owners = [
            e
            for e in graph.edges.values()
            if e.type == "HAS_TOUCHPOINT" and e.target == touchpoint.id
        ]
        assert len(owners) == 1


EVENT_TYPES = [*STAGE_BY_EVENT_TYPE, "email_opened", "sentiment_detected", "order_refunded"]


@st.composite
def chunks(draw: st.DrawFn, *, merges: bool = True) -> list[TouchFact | MergeStep]:
    """Event streams as the pipeline would hand them over: profiles already resolved to their
    survivors, redeliveries of earlier events, and merges between them."""
    steps: list[TouchFact | MergeStep] = []
    merged_into: dict[uuid.UUID, uuid.UUID] = {}

    def survivor(profile_id: uuid.UUID) -> uuid.UUID:
        while profile_id in merged_into:
            profile_id = merged_into[profile_id]
        return profile_id

    facts: list[TouchFact] = []
    for number in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(["event", "event", "event", "resync", "merge"]))
        if kind == "merge" and merges:
            shadow = survivor(draw(st.sampled_from(PROFILES)))
            target = survivor(draw(st.sampled_from(PROFILES)))
            if shadow != target:
                merged_into[shadow] = target
                steps.append(MergeStep(shadow, target))
            continue
        if kind == "resync" and facts:
            original = draw(st.sampled_from(facts))
            steps.append(replace(original, received_at=at(draw(st.integers(0, 60)))))
            continue
        new = fact(
            number,
            draw(st.sampled_from(EVENT_TYPES)),
            survivor(draw(st.sampled_from(PROFILES))),
            channel=draw(st.sampled_from([None, *CHANNELS])),
            campaign_id=draw(st.sampled_from([None, *CAMPAIGNS])),
        )
        facts.append(new)
        steps.append(new)
    return steps


@PROPERTY
@given(chunks())
def test_a_chunk_gives_the_graph_its_steps_give_one_by_one(
    steps: list[TouchFact | MergeStep],
) -> None:
    chunked = MemoryGraph()
    chunked.apply(plan_chunk(TENANT, GraphSnapshot(), steps))
    one_by_one = MemoryGraph()
    for step in steps:
        one_by_one.apply(plan_chunk(TENANT, one_by_one.snapshot(), [step]))
    assert chunked.nodes == one_by_one.nodes
    assert chunked.edges == one_by_one.edges
    check_graph(chunked)


@PROPERTY
@given(chunks())
def test_replanning_a_processed_chunk_changes_only_sync_counts(
    steps: list[TouchFact | MergeStep],
) -> None:
    graph = MemoryGraph()
    graph.apply(plan_chunk(TENANT, GraphSnapshot(), steps))
    before = MemoryGraph(dict(graph.nodes), dict(graph.edges))
    graph.apply(
        plan_chunk(TENANT, graph.snapshot(), [s for s in steps if isinstance(s, TouchFact)])
    )
    assert graph.edges == before.edges
    assert graph.nodes.keys() == before.nodes.keys()
    for node in graph.nodes.values():
        if node.type != "Touchpoint":
            assert node == before.nodes[node.id]


@PROPERTY
@given(
    st.lists(st.tuples(st.sampled_from(EVENT_TYPES), st.sampled_from([P1, P2])), max_size=10),
    st.lists(st.sampled_from(EVENT_TYPES), max_size=5),
)
def test_unmerge_restores_the_graph_as_if_the_merge_never_happened(
    before_merge: list[tuple[str, uuid.UUID]], after_merge: list[str]
) -> None:
    """P2 merges into P1; the events after the merge are P1's own. Unmerging P2 must give the
    graph of the same events with no merge at all."""
    # One event outside the funnel each, so that both customers exist in both worlds.
    facts = [fact(0, "sentiment_detected", P1), fact(1, "sentiment_detected", P2)]
    facts += [
        fact(2 + n, event_type, profile) for n, (event_type, profile) in enumerate(before_merge)
    ]
    later = [fact(20 + n, event_type, P1) for n, event_type in enumerate(after_merge)]
    merged = MemoryGraph()
    merged.apply(plan_chunk(TENANT, GraphSnapshot(), [*facts, MergeStep(P2, P1), *later]))
    restored_events = {f.event_id for f in facts if f.profile_id == P2}
    owned = merged.records(P1)
    merged.apply(
        plan_unmerge(
            TENANT,
            survivor_id=P1,
            restored_id=P2,
            survivor_touchpoints=[r for r in owned if r.event_id not in restored_events],
            restored_touchpoints=[r for r in owned if r.event_id in restored_events],
        )
    )
    never_merged = MemoryGraph()
    never_merged.apply(plan_chunk(TENANT, GraphSnapshot(), [*facts, *later]))
    # Stage nodes are the funnel's shared vocabulary and are never deleted: one the merged
    # customer reached stays, with no edge left.
    assert merged.edges == never_merged.edges
    assert without_idle_stages(merged) == without_idle_stages(never_merged)
    check_graph(merged)


def without_idle_stages(graph: MemoryGraph) -> dict[uuid.UUID, Node]:
    linked = {e.target for e in graph.edges.values()}
    return {i: n for i, n in graph.nodes.items() if n.type != "Stage" or i in linked}
