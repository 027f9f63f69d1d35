"""Abandoned carts: idle incomplete orders emit `purchase_abandoned` through the pipeline,
exactly once per order, with each tenant's own `abandon_after`."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, update

from journeyline.config import Settings
from journeyline.orders.abandonment import sweep_abandoned
from journeyline.store.db import Database
from journeyline.store.models import Identity, Profile, Tenant
from tests.conftest import TenantKeys, make_tenant

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


async def cart(
    client: httpx.AsyncClient, tenant: TenantKeys, order_id: str, at: datetime, **who: str
) -> dict[str, Any]:
    response = await client.post(
        "/ingest",
        json={
            "event_type": "track",
            "event_name": "Added to Cart",
            "payload": {
                "order_id": order_id,
                "products": [{"product_id": "AB-1", "price": 20.0, "quantity": 2}],
            },
            "timestamp": at.isoformat(),
            **who,
        },
        headers=tenant.public,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def abandoned_events(
    client: httpx.AsyncClient, tenant: TenantKeys, profile_id: str
) -> list[dict[str, Any]]:
    events = (await client.get(f"/v1/profiles/{profile_id}/events", headers=tenant.secret)).json()[
        "data"
    ]
    return [e for e in events if e["event_type"] == "purchase_abandoned"]


async def test_an_idle_cart_is_abandoned_once_whoever_sweeps(
    client: httpx.AsyncClient, database: Database, settings: Settings, tenant: TenantKeys
) -> None:
    placed = await cart(client, tenant, "AB-O1", NOW - timedelta(hours=2), anonymous_id="ab-1")
    await cart(client, tenant, "AB-O2", NOW - timedelta(minutes=10), anonymous_id="ab-1")
    tenant_id = uuid.UUID(tenant.tenant_id)
    sweeps = await asyncio.gather(
        *(sweep_abandoned(database, settings, now=NOW, tenant_id=tenant_id) for _ in range(3))
    )
    again = await sweep_abandoned(
        database, settings, now=NOW + timedelta(minutes=1), tenant_id=tenant_id
    )
    assert sum(s.abandoned for s in sweeps) >= 1
    assert again.abandoned == 0
    [event] = await abandoned_events(client, tenant, placed["profile_id"])
    assert event["payload"] == {
        "order_id": "AB-O1",
        "product_ids": ["AB-1"],
        "cart_value": 40.0,
        "stage_abandoned": "cart",
    }
    assert (event["source"], event["source_type"]) == ("journeyline", "internal")
    order = (await client.get("/v1/orders/AB-O1", headers=tenant.secret)).json()
    assert order["status"] == "incomplete"
    assert order["abandoned_at"] is not None
    fresh = (await client.get("/v1/orders/AB-O2", headers=tenant.secret)).json()
    assert fresh["abandoned_at"] is None


async def test_a_purchase_after_abandonment_still_completes_the_order(
    client: httpx.AsyncClient, database: Database, settings: Settings, tenant: TenantKeys
) -> None:
    placed = await cart(client, tenant, "AB-R1", NOW - timedelta(hours=3), anonymous_id="ab-r")
    await sweep_abandoned(database, settings, now=NOW, tenant_id=uuid.UUID(tenant.tenant_id))
    bought = await client.post(
        "/ingest",
        json={
            "event_type": "track",
            "event_name": "Order Completed",
            "payload": {"order_id": "AB-R1"},
            "anonymous_id": "ab-r",
        },
        headers=tenant.public,
    )
    assert bought.json()["profile_id"] == placed["profile_id"]
    order = (await client.get("/v1/orders/AB-R1", headers=tenant.secret)).json()
    assert order["status"] == "completed"


async def test_each_tenant_has_its_own_abandon_after(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    patient = await make_tenant(client, "patient shop")
    async with database.transaction() as session:
        await session.execute(
            update(Tenant)
            .where(Tenant.id == uuid.UUID(patient.tenant_id))
            .values(settings={"abandon_after_seconds": 6 * 3600})
        )
    hasty = await make_tenant(client, "hasty shop")
    for shop in (patient, hasty):
        await cart(client, shop, "AB-T1", NOW - timedelta(hours=2), anonymous_id="ab-t")
    summary = await sweep_abandoned(database, settings, now=NOW)
    assert summary.abandoned >= 1
    for shop, expected in ((patient, False), (hasty, True)):
        order = (await client.get("/v1/orders/AB-T1", headers=shop.secret)).json()
        assert (order["abandoned_at"] is not None) is expected


async def test_a_cart_whose_profile_is_gone_is_abandoned_without_one(
    client: httpx.AsyncClient, database: Database, settings: Settings, tenant: TenantKeys
) -> None:
    placed = await cart(client, tenant, "AB-P1", NOW - timedelta(hours=2), anonymous_id="ab-p")
    tenant_id = uuid.UUID(tenant.tenant_id)
    gone = uuid.UUID(placed["profile_id"])
    async with database.transaction() as session:  # as an erasure would leave it
        await session.execute(
            delete(Identity).where(Identity.tenant_id == tenant_id, Identity.profile_id == gone)
        )
        await session.execute(
            delete(Profile).where(Profile.tenant_id == tenant_id, Profile.id == gone)
        )
    first = await sweep_abandoned(database, settings, now=NOW, tenant_id=tenant_id)
    again = await sweep_abandoned(database, settings, now=NOW, tenant_id=tenant_id)
    assert (first.abandoned, again.abandoned) == (1, 0)
    order = (await client.get("/v1/orders/AB-P1", headers=tenant.secret)).json()
    assert order["abandoned_at"] is not None
