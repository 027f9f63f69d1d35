"""Deterministic ids and the plan's own bookkeeping (no I/O)."""

from __future__ import annotations

import uuid

from journeyline.graph.plan import Edge, EdgeType, GraphPlan, Node, edge_id, node_id

TENANT, OTHER_TENANT = uuid.UUID(int=0xA), uuid.UUID(int=0xB)
A, B = node_id(TENANT, "Stage", "awareness"), node_id(TENANT, "Stage", "interest")


def edge(edge_type: EdgeType = "AT_STAGE") -> Edge:
    return Edge(edge_id(TENANT, edge_type, A, B), edge_type, A, B)


def test_node_ids_are_deterministic_per_tenant_type_and_key() -> None:
    assert node_id(TENANT, "Channel", "email") == node_id(TENANT, "Channel", "email")
    assert node_id(TENANT, "Channel", "email") != node_id(OTHER_TENANT, "Channel", "email")
    assert node_id(TENANT, "Channel", "email") != node_id(TENANT, "Campaign", "email")


def test_edge_ids_depend_on_type_and_direction() -> None:
    assert edge_id(TENANT, "AT_STAGE", A, B) == edge_id(TENANT, "AT_STAGE", A, B)
    assert edge_id(TENANT, "AT_STAGE", A, B) != edge_id(TENANT, "AT_STAGE", B, A)
    assert edge_id(TENANT, "AT_STAGE", A, B) != edge_id(TENANT, "CONTRIBUTES_TO", A, B)


def test_a_second_upsert_of_a_planned_node_merges_its_properties() -> None:
    plan = GraphPlan()
    plan.upsert_node(Node(A, "Stage", "awareness", "awareness", {"rank": 0, "name": "x"}))
    plan.upsert_node(Node(A, "Stage", "awareness", "Awareness", {"name": "y"}))
    assert plan.nodes[A] == Node(A, "Stage", "awareness", "Awareness", {"rank": 0, "name": "y"})


def test_deleting_a_node_drops_its_planned_edges_and_replacements() -> None:
    plan = GraphPlan()
    plan.upsert_edge(edge())
    plan.replace_edges_from("AT_STAGE", A)
    plan.delete_node(A)
    assert plan.edges == {}
    assert plan.deleted_nodes == {A}
    assert plan.replaced_sources == {"AT_STAGE": set()}
    assert plan.planned_edges_at(B) == []


def test_an_upsert_undoes_a_planned_delete_and_a_withdrawal_only_forgets() -> None:
    plan = GraphPlan()
    planned = edge()
    plan.delete_edge(planned.id)
    plan.upsert_edge(planned)
    assert (plan.edges, plan.deleted_edges) == ({planned.id: planned}, set())
    plan.withdraw_edge(planned.id)
    assert (plan.edges, plan.deleted_edges) == ({}, set())


def test_kept_edge_ids_are_the_planned_edges_of_a_type() -> None:
    plan = GraphPlan()
    at_stage, contributes = edge(), edge("CONTRIBUTES_TO")
    plan.upsert_edge(at_stage)
    plan.upsert_edge(contributes)
    assert plan.kept_edge_ids("AT_STAGE") == {at_stage.id}
