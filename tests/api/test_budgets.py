"""Budgets per key (DESIGN §8): 429 with Retry-After and nothing stored, a separate budget of
batch events, failed authentications limited per address before any database work, and one
budget shared through Redis by two processes.

Budgets are made small through the tenant's settings (or the process's) and the tests count
hits: a window of burst / rate seconds is hundreds of seconds long here, so no hit is ever
given back while a test runs."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from journeyline.app import create_app
from journeyline.config import RateLimitSettings, Settings
from journeyline.store.db import Database, recorded_statements
from tests.conftest import ADMIN_TOKEN, TenantKeys, make_tenant

# 0.01 per second: a window of 100 seconds per hit of the burst.
SLOW = 0.01


def page(anonymous_id: str) -> dict[str, str]:
    return {"event_type": "page", "anonymous_id": anonymous_id}


def random_address() -> str:
    """An address of this test's own: budgets in Redis outlive a test (and other runs share
    the database)."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


async def limit_requests(client: httpx.AsyncClient, tenant: TenantKeys, burst: int) -> None:
    response = await client.patch(
        "/v1/settings",
        json={"rate_limit": {"requests_per_second": SLOW, "burst": burst}},
        headers=tenant.secret,
    )
    assert response.status_code == 200, response.text


def assert_rate_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "rate_limited"
    assert response.json()["error"]["message"]
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 1000


async def stored_profiles(
    client: httpx.AsyncClient, tenant: TenantKeys, anonymous_id: str
) -> list[dict[str, Any]]:
    response = await client.get(
        "/v1/profiles", params={"anonymous_id": anonymous_id}, headers=tenant.secret
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


class Process(httpx.AsyncClient):
    database: Database


@asynccontextmanager
async def process(settings: Settings, address: str) -> AsyncIterator[Process]:
    """An app of its own (its own memory, so its own budgets unless Redis is shared), seen
    from `address`."""
    database = Database.from_settings(settings)
    application = create_app(settings, database=database)
    try:
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application, client=(address, 40000))
            async with Process(transport=transport, base_url="http://budgets") as http:
                http.database = database
                yield http
    finally:
        await database.dispose()


def strict_failures(settings: Settings, burst: int = 3) -> Settings:
    return settings.model_copy(
        update={
            "rate_limits": RateLimitSettings(failed_auth_per_second=SLOW, failed_auth_burst=burst)
        }
    )


async def test_a_key_over_its_budget_is_429_with_retry_after_and_nothing_stored(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await limit_requests(client, tenant, burst=5)
    for number in range(5):
        response = await client.post("/ingest", json=page(f"ok-{number}"), headers=tenant.public)
        assert response.status_code == 200, response.text
    refused = await client.post("/ingest", json=page("refused"), headers=tenant.public)
    assert_rate_limited(refused)
    # The secret key has a budget of its own.
    assert await stored_profiles(client, tenant, "refused") == []
    assert len(await stored_profiles(client, tenant, "ok-4")) == 1


async def test_every_route_of_a_spent_key_is_refused(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await limit_requests(client, tenant, burst=2)
    # A new budget starts full: the PATCH was spent from the old one.
    assert (await client.get("/v1/keys", headers=tenant.secret)).status_code == 200
    assert (await client.get("/v1/settings", headers=tenant.secret)).status_code == 200
    for method, path in (("GET", "/v1/keys"), ("GET", "/v1/profiles"), ("POST", "/v1/keys")):
        assert_rate_limited(await client.request(method, path, headers=tenant.secret))


async def test_one_keys_budget_is_not_another_tenants(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    await limit_requests(client, tenant, burst=1)
    assert (await client.post("/ingest", json=page("a"), headers=tenant.public)).status_code == 200
    assert_rate_limited(await client.post("/ingest", json=page("a"), headers=tenant.public))
    for _ in range(3):
        response = await client.post("/ingest", json=page("b"), headers=other_tenant.public)
        assert response.status_code == 200


async def test_the_other_dialects_spend_from_the_same_budget(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await limit_requests(client, tenant, burst=3)
    segment = await client.post(
        "/v1/page", json={"anonymousId": "seg-1", "writeKey": tenant.public_key}
    )
    assert segment.status_code == 200, segment.text
    trackmate = {
        "company_id": tenant.public_key,
        "sessionId": "tm-1",
        "events": [{"eventType": "page_view", "eventData": {"address": "/"}}],
    }
    assert (await client.post("/api/events", json=trackmate)).status_code == 200
    assert (
        await client.post(
            "/v1/events",
            json={"type": "track", "action": "email_opened", "email": "n1@x.io"},
            headers=tenant.public,
        )
    ).status_code == 200
    assert_rate_limited(
        await client.post("/v1/page", json={"anonymousId": "seg-2", "writeKey": tenant.public_key})
    )
    assert_rate_limited(await client.post("/api/events", json=trackmate))


async def test_the_batch_route_counts_events_against_a_budget_of_its_own(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await client.patch(
        "/v1/settings",
        json={"rate_limit": {"batch_events_per_second": SLOW, "batch_burst": 10}},
        headers=tenant.secret,
    )
    assert response.status_code == 200, response.text

    def batch(count: int, tag: str) -> dict[str, Any]:
        return {"events": [page(f"{tag}-{number}") for number in range(count)]}

    first = await client.post("/tenant/ingest/batch", json=batch(6, "first"), headers=tenant.secret)
    assert first.status_code == 202, first.text
    refused = await client.post(
        "/tenant/ingest/batch", json=batch(5, "refused"), headers=tenant.secret
    )
    assert_rate_limited(refused)
    fits = await client.post("/tenant/ingest/batch", json=batch(4, "fits"), headers=tenant.secret)
    assert fits.status_code == 202, fits.text
    # Requests are still allowed: the batch budget is a separate one.
    assert (await client.get("/v1/keys", headers=tenant.secret)).status_code == 200
    assert_rate_limited(
        await client.post("/tenant/ingest/batch", json=batch(1, "over"), headers=tenant.secret)
    )


async def test_a_batch_larger_than_the_whole_burst_is_refused_with_a_reason(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await client.patch(
        "/v1/settings",
        json={"rate_limit": {"batch_events_per_second": SLOW, "batch_burst": 3}},
        headers=tenant.secret,
    )
    events = {"events": [page(f"big-{number}") for number in range(4)]}
    response = await client.post("/tenant/ingest/batch", json=events, headers=tenant.secret)
    assert_rate_limited(response)
    assert "smaller batches" in response.json()["error"]["message"]


async def test_unknown_keys_are_limited_per_address_before_any_database_work(
    settings: Settings,
) -> None:
    address = random_address()
    strict = strict_failures(settings)
    async with process(strict, address) as attacker, process(strict, random_address()) as other:
        tenant = await make_tenant(other, "victim")
        for number in range(3):
            response = await attacker.post(
                "/ingest", json=page("x"), headers={"X-API-Key": f"pk_guess{number:030d}"}
            )
            assert response.status_code == 401, response.text
        with recorded_statements(attacker.database) as statements:
            refused = await attacker.post(
                "/ingest", json=page("x"), headers={"X-API-Key": "pk_" + "g" * 32}
            )
            assert_rate_limited(refused)
            # Even a valid key is refused from an address that spent its budget on guesses.
            assert_rate_limited(
                await attacker.post("/ingest", json=page("x"), headers=tenant.public)
            )
        assert statements == []
        # Another address is not affected.
        assert (
            await other.post("/ingest", json=page("y"), headers=tenant.public)
        ).status_code == 200
        guess = await other.post("/ingest", json=page("y"), headers={"X-API-Key": "pk_" + "h" * 32})
        assert guess.status_code == 401


async def test_malformed_keys_spend_from_the_same_budget(settings: Settings) -> None:
    async with process(strict_failures(settings, burst=2), random_address()) as attacker:
        for key in ("nonsense", "sk_short"):
            response = await attacker.get("/v1/keys", headers={"Authorization": f"Bearer {key}"})
            assert response.status_code == 401
        assert_rate_limited(
            await attacker.get("/v1/keys", headers={"Authorization": "Bearer more-nonsense"})
        )


async def test_admin_token_guesses_are_limited_per_address(settings: Settings) -> None:
    strict = strict_failures(settings)
    guesser_address = random_address()
    async with (
        process(strict, guesser_address) as guesser,
        process(strict, random_address()) as admin,
    ):
        for number in range(3):
            response = await guesser.post(
                "/admin/tenants",
                json={"name": "x"},
                headers={"Authorization": f"Bearer guess-{number}"},
            )
            assert response.status_code == 401
        assert_rate_limited(
            await guesser.post(
                "/admin/tenants", json={"name": "x"}, headers={"Authorization": "Bearer guess"}
            )
        )
        right = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        assert_rate_limited(await guesser.post("/admin/tenants", json={"name": "x"}, headers=right))
        created = await admin.post("/admin/tenants", json={"name": "x"}, headers=right)
        assert created.status_code == 201


async def test_missing_keys_are_401_and_spend_nothing(settings: Settings) -> None:
    async with process(strict_failures(settings, burst=1), random_address()) as caller:
        for _ in range(3):
            assert (await caller.post("/ingest", json=page("x"))).status_code == 401


@pytest.mark.redis
async def test_two_processes_share_one_key_budget_through_redis(
    settings: Settings, redis_url: str
) -> None:
    shared = settings.model_copy(update={"redis_url": redis_url})
    async with process(shared, random_address()) as one, process(shared, random_address()) as two:
        tenant = await make_tenant(one, "shared budget")
        await limit_requests(one, tenant, burst=4)
        answers = [
            await one.post("/ingest", json=page("r-1"), headers=tenant.public),
            await two.post("/ingest", json=page("r-2"), headers=tenant.public),
            await one.post("/ingest", json=page("r-3"), headers=tenant.public),
            await two.post("/ingest", json=page("r-4"), headers=tenant.public),
        ]
        assert [a.status_code for a in answers] == [200] * 4
        assert_rate_limited(await one.post("/ingest", json=page("r-5"), headers=tenant.public))
        assert_rate_limited(await two.post("/ingest", json=page("r-6"), headers=tenant.public))
        assert await stored_profiles(two, tenant, "r-5") == []
        assert await stored_profiles(one, tenant, "r-6") == []


@pytest.mark.redis
async def test_two_processes_share_one_batch_budget_through_redis(
    settings: Settings, redis_url: str
) -> None:
    shared = settings.model_copy(update={"redis_url": redis_url})
    async with process(shared, random_address()) as one, process(shared, random_address()) as two:
        tenant = await make_tenant(one, "shared batches")
        await one.patch(
            "/v1/settings",
            json={"rate_limit": {"batch_events_per_second": SLOW, "batch_burst": 10}},
            headers=tenant.secret,
        )
        events = {"events": [page(f"b-{number}") for number in range(5)]}
        assert (
            await one.post("/tenant/ingest/batch", json=events, headers=tenant.secret)
        ).status_code == 202
        assert (
            await two.post("/tenant/ingest/batch", json=events, headers=tenant.secret)
        ).status_code == 202
        assert_rate_limited(
            await one.post("/tenant/ingest/batch", json=events, headers=tenant.secret)
        )


@pytest.mark.redis
async def test_two_processes_share_one_failure_budget_per_address_through_redis(
    settings: Settings, redis_url: str
) -> None:
    shared = strict_failures(settings).model_copy(update={"redis_url": redis_url})
    address = random_address()
    async with process(shared, address) as one, process(shared, address) as two:
        for client, number in ((one, 1), (two, 2), (one, 3)):
            response = await client.get(
                "/v1/keys", headers={"Authorization": f"Bearer sk_{number:040d}"}
            )
            assert response.status_code == 401
        # `two` has never refused this address itself: Redis tells it the budget is spent,
        # before it looks the key up.
        with recorded_statements(two.database) as statements:
            assert_rate_limited(
                await two.get("/v1/keys", headers={"Authorization": "Bearer sk_" + "4" * 40})
            )
        assert statements == []
