"""Rebuild: replaying a tenant's log into fresh projections gives the state that incremental
processing built (profiles, identities, attributes, lineage, merges, conflicts)."""

from __future__ import annotations

import random
import uuid
from typing import Any

import httpx
from sqlalchemy import select

from journeyline.config import Settings
from journeyline.graph import service as graph_service
from journeyline.ingest.rebuild import rebuild_tenant
from journeyline.store.db import Database
from journeyline.store.models import (
    AttributeChange,
    CrmCompany,
    CrmDeal,
    CrmPerson,
    Identity,
    IdentityConflict,
    Order,
    Product,
    Profile,
    ProfileMerge,
    ProfileStage,
)
from journeyline.tenancy.context import build_context
from tests.conftest import TenantKeys, make_tenant

Snapshot = dict[str, list[tuple[Any, ...]]]


async def snapshot(database: Database, tenant_id: str) -> Snapshot:
    """Everything derived from the log, without wall-clock bookkeeping (updated_at, ...)."""
    tenant = uuid.UUID(tenant_id)
    async with database.read() as session:

        async def rows(model: Any) -> list[Any]:
            return list(
                (await session.scalars(select(model).where(model.tenant_id == tenant))).all()
            )

        profiles = sorted(
            (
                str(p.id),
                p.status,
                str(p.merged_into),
                repr(sorted((p.attributes or {}).items())),
                repr(sorted((p.attribute_times or {}).items())),
                p.first_seen_at.isoformat(),
                p.last_seen_at.isoformat(),
                p.event_count,
            )
            for p in await rows(Profile)
        )
        identities = sorted((i.kind, i.value, str(i.profile_id)) for i in await rows(Identity))
        merges = sorted(
            (
                str(m.from_profile_id),
                str(m.into_profile_id),
                m.reason,
                str(m.event_id),
                m.unmerged_at is not None,
                repr(m.journal),
            )
            for m in await rows(ProfileMerge)
        )
        lineage = sorted(
            (
                str(c.profile_id),
                c.path,
                repr(c.old_value),
                repr(c.new_value),
                str(c.event_id),
                c.source,
            )
            for c in await rows(AttributeChange)
        )
        conflicts = sorted(
            (c.kind, c.value, c.reason, str(c.owner_profile_id))
            for c in await rows(IdentityConflict)
        )
        orders = sorted(
            (repr(sorted((k, v) for k, v in vars(o).items() if not k.startswith("_"))),)
            for o in await rows(Order)
        )
        products = sorted(
            (repr(sorted((k, v) for k, v in vars(p).items() if not k.startswith("_"))),)
            for p in await rows(Product)
        )
        # The CRM, without its wall-clock `updated_at`.
        crm = []
        for model in (CrmPerson, CrmCompany, CrmDeal):
            for row in await rows(model):
                fields = sorted(
                    (k, v) for k, v in vars(row).items() if k[0] != "_" and k != "updated_at"
                )
                crm.append((model.__name__, repr(fields)))
        crm.sort()
        # The graph as its API shows it (a redelivery's re-sync counter is kept by rebuild:
        # duplicates are not in the log), and its stored stage rows.
        view = await graph_service.intelligence(session, tenant, "full", 10_000)
        graph_nodes = sorted(
            (str(n.id), n.type, n.key, n.label, repr(sorted(n.properties.items())))
            for n in view.nodes
        )
        graph_edges = sorted(
            (str(e.id), e.type, str(e.source), str(e.target), repr(sorted(e.properties.items())))
            for e in view.edges
        )
        graph_stages = sorted(
            (repr(sorted((k, v) for k, v in vars(row).items() if k[0] != "_")),)
            for row in await rows(ProfileStage)
        )
    return {
        "graph_nodes": graph_nodes,
        "graph_edges": graph_edges,
        "graph_stages": graph_stages,
        "orders": orders,
        "products": products,
        "crm": crm,
        "profiles": profiles,
        "identities": identities,
        "merges": merges,
        "lineage": lineage,
        "conflicts": conflicts,
    }


def random_stream(seed: int, length: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    stream: list[dict[str, Any]] = []
    for i in range(length):
        event: dict[str, Any] = {"type": rng.choice(["identify", "track", "track"])}
        if rng.random() < 0.7:
            event["anonymousId"] = f"anon-{rng.randrange(6)}"
        if rng.random() < 0.4:
            event["email"] = f"p{rng.randrange(4)}@x.io"
        if rng.random() < 0.15:
            event["phone"] = rng.choice(["+14155550101", "+14155550102"])
        if rng.random() < 0.1:
            event["userId"] = f"crm-{rng.randrange(3)}"
        if event["type"] == "identify":
            event["properties"] = {
                rng.choice(["plan", "city", "score"]): rng.choice(["a", "b", 1, 2, None])
            }
            if rng.random() < 0.1:
                event["properties"] = {"$unset": ["city"]}
        else:
            event["action"] = "clicked"
            event["properties"] = {"n": i}
        if not any(k in event for k in ("anonymousId", "email", "phone", "userId")):
            event["anonymousId"] = "anon-fallback"
        event["timestamp"] = f"2026-11-01T{i // 60:02d}:{i % 60:02d}:00Z"
        stream.append(event)
    return stream


async def send(client: httpx.AsyncClient, tenant: TenantKeys, events: list[dict[str, Any]]) -> None:
    for event in events:
        response = await client.post("/v1/events", json=event, headers=tenant.secret)
        assert response.status_code in (200, 404, 422), response.text


async def test_rebuilding_a_random_history_gives_the_incremental_state(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    for seed in range(3):
        tenant = await make_tenant(client, f"rebuild-{seed}")
        await send(client, tenant, random_stream(seed, 80))
        before = await snapshot(database, tenant.tenant_id)
        assert before["profiles"], "the stream made no profiles"
        context = build_context(uuid.UUID(tenant.tenant_id), "secret", {}, settings)
        summary = await rebuild_tenant(database, context, chunk_size=7)
        assert summary.events > 0
        assert await snapshot(database, tenant.tenant_id) == before, f"seed {seed}"


async def test_rebuild_applies_operator_merges_and_unmerges_at_their_moment(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(client, "rebuild-operator")
    headers = tenant.secret

    async def identify(email: str, **properties: Any) -> str:
        response = await client.post(
            "/v1/events",
            json={"type": "identify", "email": email, "properties": properties},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        customer: str = response.json()["results"][0]["customer_id"]
        return customer

    a = await identify("a@x.io", plan="free")
    b = await identify("b@x.io", plan="pro", city="Lisbon")
    c = await identify("c@x.io", city="Porto")
    merged = await client.post(f"/v1/profiles/{a}/merge", json={"profile_id": b}, headers=headers)
    assert merged.status_code == 200, merged.text
    await identify("b@x.io", score=3)  # lands on a, through the merge
    merged = await client.post(f"/v1/profiles/{a}/merge", json={"profile_id": c}, headers=headers)
    assert merged.status_code == 200, merged.text
    unmerged = await client.post(
        f"/v1/profiles/{a}/unmerge", json={"profile_id": b}, headers=headers
    )
    assert unmerged.status_code == 200, unmerged.text
    await identify("c@x.io", plan="team")  # still merged into a
    before = await snapshot(database, tenant.tenant_id)

    context = build_context(uuid.UUID(tenant.tenant_id), "secret", {}, settings)
    summary = await rebuild_tenant(database, context)
    assert summary.actions == 3
    assert summary.skipped == []
    after = await snapshot(database, tenant.tenant_id)
    for row_before, row_after in zip(before["profiles"], after["profiles"], strict=True):
        assert row_before == row_after, "\n".join(map(str, (row_before, row_after)))
    assert after["profiles"] == before["profiles"]
    assert after["identities"] == before["identities"]
    assert after["merges"] == before["merges"]
    assert sorted(after["lineage"]) == sorted(before["lineage"])
    assert after["graph_nodes"] == before["graph_nodes"]
    assert after["graph_edges"] == before["graph_edges"]
    assert after["graph_stages"] == before["graph_stages"]


async def test_rebuild_touches_only_its_tenant(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    mine = await make_tenant(client, "rebuild-mine")
    theirs = await make_tenant(client, "rebuild-theirs")
    await send(client, mine, random_stream(7, 20))
    await send(client, theirs, random_stream(8, 20))
    before = await snapshot(database, theirs.tenant_id)
    context = build_context(uuid.UUID(mine.tenant_id), "secret", {}, settings)
    await rebuild_tenant(database, context)
    assert await snapshot(database, theirs.tenant_id) == before


async def test_rebuild_reproduces_trackmate_sessions_identifies_and_server_events(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(client, "rebuild-trackmate")
    server = {"X-TrackMate-API-Key": tenant.secret_key}

    async def post(path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        response = await client.post(
            path, json={"company_id": tenant.public_key, **body}, headers=headers or {}
        )
        assert response.status_code == 200, response.text
        return response.json()

    known = await post(
        "/api/webhooks/events", {"identifier": {"email": "k@x.io"}, "eventType": "a"}, server
    )
    for session in ("s-1", "s-2"):
        await post("/api/events", {"sessionId": session, "events": [{"eventType": "page_view"}]})
    await post("/api/profile", {"sessionId": "s-1", "email": "k@x.io", "name": "K"})
    await post("/api/profile", {"sessionId": "s-2", "email": "new@x.io", "plan": "pro"})
    await post(
        "/api/webhooks/events", {"identifier": {"sessionId": "s-3"}, "eventType": "b"}, server
    )
    await post(
        "/api/webhooks/events",
        {"identifier": {"userId": known["profileId"]}, "eventType": "c"},
        server,
    )
    before = await snapshot(database, tenant.tenant_id)
    assert before["merges"], "identify with a known email should have collapsed the session"
    context = build_context(uuid.UUID(tenant.tenant_id), "secret", {}, settings)
    await rebuild_tenant(database, context, chunk_size=3)
    assert await snapshot(database, tenant.tenant_id) == before


async def test_rebuild_reproduces_orders_and_products(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(client, "rebuild-orders")

    async def track(name: str, payload: dict[str, Any], **who: str) -> None:
        body = {"event_type": "track", "event_name": name, "payload": payload, **who}
        response = await client.post("/ingest", json=body, headers=tenant.public)
        assert response.status_code == 200, response.text

    items = [{"product_id": "RB-1", "name": "Cup", "price": 3.5, "quantity": 2}]
    await track("Signed Up", {}, identity="rb@x.io")
    await track("Added to Cart", {"order_id": "RB-O1", "products": items}, anonymous_id="rb-a")
    await track(
        "Product Viewed", {"product_id": "RB-1", "category": "kitchen"}, anonymous_id="rb-a"
    )
    await track(
        "Order Completed",
        {"order_id": "RB-O1", "total": 7.0},
        identity="rb@x.io",
        anonymous_id="rb-a",
    )
    await track("Refund", {"order_id": "RB-O1"}, identity="rb@x.io")
    await track("Added to Cart", {"order_id": "RB-O2", "products": items}, anonymous_id="rb-b")
    before = await snapshot(database, tenant.tenant_id)
    assert len(before["orders"]) == 2
    assert before["merges"], "the cart's shadow should have collapsed into the person"
    context = build_context(uuid.UUID(tenant.tenant_id), "secret", {}, settings)
    await rebuild_tenant(database, context, chunk_size=2)
    assert await snapshot(database, tenant.tenant_id) == before


async def test_rebuild_reproduces_segment_aliases_collapses_and_conflicts(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    tenant = await make_tenant(client, "rebuild-segment")
    messages = [
        {"type": "page", "anonymousId": "seg-anon", "name": "Home"},
        {"type": "identify", "userId": "seg-a", "traits": {"email": "a@seg.io"}},
        {"type": "identify", "userId": "seg-b", "traits": {"email": "b@seg.io"}},
        {"type": "alias", "userId": "seg-a", "previousId": "seg-anon"},
        {"type": "alias", "userId": "seg-a", "previousId": "seg-b"},
        {"type": "group", "userId": "seg-a", "groupId": "g", "traits": {"name": "Contoso"}},
    ]
    response = await client.post(
        "/v1/batch", json={"batch": messages, "writeKey": tenant.secret_key}
    )
    assert response.status_code == 200, response.text
    before = await snapshot(database, tenant.tenant_id)
    assert before["merges"], "the alias should have collapsed the anonymous shadow"
    context = build_context(uuid.UUID(tenant.tenant_id), "secret", {}, settings)
    await rebuild_tenant(database, context, chunk_size=2)
    assert await snapshot(database, tenant.tenant_id) == before
