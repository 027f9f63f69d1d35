"""Races on the real PostgreSQL: concurrent writers that meet the same new identifier end with
exactly one profile owning it (advisory locks + unique identities + retry)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.conftest import TenantKeys

pytestmark = pytest.mark.postgres


async def post_event(
    client: httpx.AsyncClient, tenant: TenantKeys, body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post("/v1/events", json=body, headers=tenant.secret)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["results"][0]
    return result


async def count_profiles(client: httpx.AsyncClient, tenant: TenantKeys) -> int:
    listed = (await client.get("/v1/profiles", params={"limit": 500}, headers=tenant.secret)).json()
    return len(listed["data"])


async def test_fifty_requests_with_the_same_new_email_make_one_profile(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    results = await asyncio.gather(
        *(
            post_event(client, tenant, {"type": "track", "action": f"a{i}", "email": "race@x.io"})
            for i in range(50)
        )
    )
    assert len({r["customer_id"] for r in results}) == 1
    assert sum(1 for r in results if r["created_customer"]) == 1
    assert await count_profiles(client, tenant) == 1
    profile = (
        await client.get(f"/v1/profiles/{results[0]['customer_id']}", headers=tenant.secret)
    ).json()
    assert profile["event_count"] == 50


async def test_fifty_requests_with_the_same_new_anonymous_id_make_one_shadow(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    responses = await asyncio.gather(
        *(
            client.post(
                "/ingest",
                json={"event_type": "page", "anonymous_id": "race-anon"},
                headers=tenant.public,
            )
            for _ in range(50)
        )
    )
    assert all(r.status_code == 200 for r in responses)
    assert len({r.json()["profile_id"] for r in responses}) == 1
    assert await count_profiles(client, tenant) == 1


async def test_concurrent_redeliveries_store_one_event(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = {"type": "track", "action": "paid", "email": "dup-race@x.io", "messageId": "race-msg"}
    results = await asyncio.gather(*(post_event(client, tenant, body) for _ in range(20)))
    assert len({r["event_id"] for r in results}) == 1
    assert sum(1 for r in results if not r["duplicate"]) == 1


async def test_identify_racing_a_merge_ends_with_one_owner(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    a = await post_event(client, tenant, {"type": "identify", "email": "ra@x.io"})
    b = await post_event(client, tenant, {"type": "identify", "email": "rb@x.io"})
    merge = client.post(
        f"/v1/profiles/{a['customer_id']}/merge",
        json={"profile_id": b["customer_id"]},
        headers=tenant.secret,
    )
    identifies = [
        post_event(
            client,
            tenant,
            {
                "type": "identify",
                "email": "rb@x.io",
                "phone": "+14155550177",
                "properties": {"n": i},
            },
        )
        for i in range(20)
    ]
    merged = asyncio.ensure_future(merge)
    await asyncio.gather(merged, *identifies)
    assert merged.result().status_code == 200, merged.result().text
    for kind, value in (("email", "rb@x.io"), ("phone", "+14155550177"), ("email", "ra@x.io")):
        found = (
            await client.get("/v1/profiles", params={kind: value}, headers=tenant.secret)
        ).json()["data"]
        assert [p["id"] for p in found] == [a["customer_id"]], (kind, value)
    assert await count_profiles(client, tenant) == 1
