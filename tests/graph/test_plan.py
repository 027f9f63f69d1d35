"""The graph's deterministic ids and a plan's own bookkeeping (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from journeyline.graph.plan import (
    GraphPlan,
    NodeType,
    Resync,
    SharedCount,
    customer_node_id,
    edge_id,
    node_id,
    stage_node_id,
    touchpoint_node_id,
)
from journeyline.graph.stages import StageRow

TENANT, OTHER_TENANT = uuid.UUID(int=0xA), uuid.UUID(int=0xB)
PROFILE, EVENT = uuid.UUID(int=1), uuid.UUID(int=100)
A, B = node_id(TENANT, "Stage", "awareness"), node_id(TENANT, "Stage", "interest")
T0 = datetime(2026, 11, 22, 10, tzinfo=UTC)


def test_node_ids_are_deterministic() -> None:
    assert node_id(TENANT, "Channel", "email") == node_id(TENANT, "Channel", "email")


@pytest.mark.parametrize(
    ("tenant_id", "node_type", "key"),
    [(OTHER_TENANT, "Channel", "email"), (TENANT, "Campaign", "email"), (TENANT, "Channel", "sms")],
)
def test_node_ids_differ_by_tenant_type_and_key(
    tenant_id: uuid.UUID, node_type: NodeType, key: str
) -> None:
    assert node_id(tenant_id, node_type, key) != node_id(TENANT, "Channel", "email")


def test_edge_ids_are_deterministic() -> None:
    assert edge_id(TENANT, "AT_STAGE", A, B) == edge_id(TENANT, "AT_STAGE", A, B)


@pytest.mark.parametrize(
    "other",
    [
        edge_id(TENANT, "AT_STAGE", B, A),
        edge_id(TENANT, "CONTRIBUTES_TO", A, B),
        edge_id(OTHER_TENANT, "AT_STAGE", A, B),
    ],
)
def test_edge_ids_differ_by_direction_type_and_tenant(other: uuid.UUID) -> None:
    assert other != edge_id(TENANT, "AT_STAGE", A, B)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (customer_node_id(TENANT, PROFILE), node_id(TENANT, "Customer", str(PROFILE))),
        (touchpoint_node_id(TENANT, EVENT), node_id(TENANT, "Touchpoint", str(EVENT))),
        (stage_node_id(TENANT, "conversion"), node_id(TENANT, "Stage", "conversion")),
    ],
)
def test_typed_node_ids_are_node_ids_of_their_key(given: uuid.UUID, expected: uuid.UUID) -> None:
    assert given == expected


@pytest.mark.parametrize(
    ("at", "name", "expected"),
    [
        (T0, None, SharedCount("Campaign", "spring", 2, T0, T0 + timedelta(hours=1), "Spring")),
        (
            T0 - timedelta(hours=1),
            None,
            SharedCount(
                "Campaign", "spring", 2, T0 - timedelta(hours=1), T0 + timedelta(hours=1), "Spring"
            ),
        ),
        (
            T0 + timedelta(hours=2),
            "Spring sale",
            SharedCount("Campaign", "spring", 2, T0, T0 + timedelta(hours=2), "Spring sale"),
        ),
    ],
)
def test_adding_to_a_shared_count_counts_widens_the_seen_range_and_keeps_a_given_name(
    at: datetime, name: str | None, expected: SharedCount
) -> None:
    count = SharedCount("Campaign", "spring", 1, T0, T0 + timedelta(hours=1), "Spring")
    count.add(at, name)
    assert count == expected


def test_an_empty_plan_is_false() -> None:
    assert not GraphPlan()


ROW = StageRow(PROFILE, PROFILE, "awareness", EVENT, "page_viewed", T0)


@pytest.mark.parametrize(
    "plan",
    [
        GraphPlan(reached=[ROW]),
        GraphPlan(moved={PROFILE: uuid.UUID(int=2)}),
        GraphPlan(shared={("Channel", "direct"): SharedCount("Channel", "direct", 1, T0, T0)}),
        GraphPlan(resyncs={EVENT: Resync(EVENT, 1, T0)}),
    ],
)
def test_a_plan_with_anything_to_write_is_true(plan: GraphPlan) -> None:
    assert plan
