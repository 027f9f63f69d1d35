"""The graph persisted: a chunk written in a fixed number of statements, one chunk equal to its
steps one at a time, redeliveries refreshing their touchpoint (against the real database)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from journeyline.config import Settings
from journeyline.graph import service as graph_service
from journeyline.graph.build import MergeStep, TouchFact
from journeyline.ingest import pipeline
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.store.db import Database, recorded_statements
from journeyline.tenancy import service as tenancy
from journeyline.tenancy.context import build_context

NOW = datetime(2026, 11, 22, tzinfo=UTC)
EVENT_TYPES = (
    "page_viewed",
    "identified",
    "product_added",
    "purchase_completed",
    "subscription_created",
    "email_opened",
    "something_else",
)


def canonical(minute: int, event_type: str, **fields: Any) -> CanonicalEvent:
    return CanonicalEvent(
        event_type=event_type,
        event_name=event_type,
        source_type="direct",
        source="web",
        received_at=NOW,
        occurred_at=NOW + timedelta(minutes=minute),
        **fields,
    )


def collapsing_chunk(size: int, tag: str) -> list[CanonicalEvent]:
    """Per person: a known customer, an anonymous visitor from a campaign, then the visitor
    identified as the customer (a collapse in the middle of the chunk)."""
    events: list[CanonicalEvent] = []
    for i in range(size):
        events += [
            canonical(0, "page_viewed", email=f"{tag}{i}@x.io"),
            canonical(
                1,
                "page_viewed",
                anonymous_id=f"{tag}-anon-{i}",
                campaign_id=f"camp-{i % 3}",
                payload={"utm_medium": "cpc", "url": "https://shop.example/"},
            ),
            canonical(2, "product_added", email=f"{tag}{i}@x.io", anonymous_id=f"{tag}-anon-{i}"),
        ]
    return events


async def graph_statements(database: Database, settings: Settings, size: int) -> list[str]:
    tag = f"q{size}-{uuid.uuid4().hex[:6]}"
    created = await database.run(lambda session: tenancy.create_tenant(session, tag))
    context = build_context(created.tenant_id, "secret", {}, settings)
    events = collapsing_chunk(size, tag)
    with recorded_statements(database) as statements:
        await database.run(lambda session: pipeline.process(session, context, events, now=NOW))
    async with database.read() as session:
        view = await graph_service.intelligence(session, created.tenant_id, "summary", 1000)
    assert view.stats.nodes["Customer"] == size
    assert view.stats.nodes["Touchpoint"] == 3 * size
    assert view.stats.stages["consideration"] == size
    return [s for s in statements if "graph_nodes" in s or "graph_edges" in s]


async def test_a_chunk_writes_the_graph_in_a_fixed_number_of_statements(
    database: Database, settings: Settings
) -> None:
    one = await graph_statements(database, settings, 1)
    many = await graph_statements(database, settings, 60)
    # Rows go 500 to an INSERT: 60 people make about 700 edges, one INSERT more.
    assert len(many) <= len(one) + 1
    assert len(one) <= 16


async def save(database: Database, tenant_id: uuid.UUID, steps: Sequence[Any]) -> None:
    await database.run(lambda session: graph_service.project(session, tenant_id, steps))


async def normalized(database: Database, tenant_id: uuid.UUID) -> Any:
    """The graph with node ids replaced by (type, key), so two tenants' graphs compare."""
    async with database.read() as session:
        view = await graph_service.intelligence(session, tenant_id, "full", 10_000)
    names = {node.id: (node.type, node.key) for node in view.nodes}
    nodes = sorted(
        (node.type, node.key, node.label, sorted(node.properties.items())) for node in view.nodes
    )
    edges = sorted(
        (edge.type, names[edge.source], names[edge.target], sorted(edge.properties.items()))
        for edge in view.edges
    )
    return nodes, edges, view.stats


def random_steps(seed: int, length: int) -> list[TouchFact | MergeStep]:
    """Events of surviving profiles and merges between them, as identity resolution makes."""
    rng = random.Random(seed)
    alive = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(5)]
    steps: list[TouchFact | MergeStep] = []
    for i in range(length):
        if len(alive) > 1 and rng.random() < 0.12:
            shadow, target = rng.sample(alive, 2)
            alive.remove(shadow)
            steps.append(MergeStep(shadow, target))
            continue
        event_type = rng.choice(EVENT_TYPES)
        steps.append(
            TouchFact(
                event_id=uuid.UUID(int=(i + 1) << 80 | rng.getrandbits(64)),
                profile_id=rng.choice(alive),
                event_type=event_type,
                occurred_at=NOW + timedelta(minutes=rng.randrange(0, 600)),
                received_at=NOW + timedelta(minutes=i),
                source="web",
                source_type="direct",
                campaign_id=rng.choice([None, "a", "b"]),
                utm_medium=rng.choice([None, "cpc", "email"]),
                payload={"total": 10} if event_type == "purchase_completed" else {},
            )
        )
    return steps


async def test_one_chunk_writes_what_its_steps_write_one_at_a_time(database: Database) -> None:
    for seed in range(4):
        steps = random_steps(seed, 40)
        chunked, stepped = uuid.uuid4(), uuid.uuid4()
        await save(database, chunked, steps)
        for step in steps:
            await save(database, stepped, [step])
        assert await normalized(database, chunked) == await normalized(database, stepped), seed


async def test_a_redelivery_refreshes_its_touchpoint_and_nothing_else(database: Database) -> None:
    tenant_id, profile_id = uuid.uuid4(), uuid.uuid4()
    purchase = TouchFact(
        event_id=uuid.uuid4(),
        profile_id=profile_id,
        event_type="purchase_completed",
        occurred_at=NOW,
        received_at=NOW,
        source="web",
        source_type="direct",
        payload={"total": 12},
    )
    await save(database, tenant_id, [purchase])
    _, edges_before, stats_before = await normalized(database, tenant_id)
    later = NOW + timedelta(hours=1)
    await save(database, tenant_id, [TouchFact(**{**_fields(purchase), "received_at": later})])
    # A delivery that arrives late counts, but does not move `last_synced_at` back.
    await save(database, tenant_id, [TouchFact(**{**_fields(purchase), "received_at": NOW})])
    nodes, edges, stats = await normalized(database, tenant_id)
    assert (edges, stats) == (edges_before, stats_before)
    [touchpoint] = [properties for kind, _, _, properties in nodes if kind == "Touchpoint"]
    found = dict(touchpoint)
    assert found["sync_count"] == 3
    assert found["first_synced_at"] == NOW.isoformat()
    assert found["last_synced_at"] == later.isoformat()
    assert stats.stages["conversion"] == 1


async def test_an_event_and_its_redelivery_in_one_chunk_make_one_touchpoint(
    database: Database,
) -> None:
    tenant_id = uuid.uuid4()
    view = TouchFact(
        event_id=uuid.uuid4(),
        profile_id=uuid.uuid4(),
        event_type="page_viewed",
        occurred_at=NOW,
        received_at=NOW,
        source="web",
        source_type="direct",
    )
    again = TouchFact(**{**_fields(view), "received_at": NOW + timedelta(seconds=5)})
    await save(database, tenant_id, [view, again])
    nodes, edges, _ = await normalized(database, tenant_id)
    [touchpoint] = [dict(properties) for kind, _, _, properties in nodes if kind == "Touchpoint"]
    assert touchpoint["sync_count"] == 2
    assert len([edge for edge in edges if edge[0] == "HAS_TOUCHPOINT"]) == 1


def _fields(fact: TouchFact) -> dict[str, Any]:
    return {name: getattr(fact, name) for name in TouchFact.__slots__}
