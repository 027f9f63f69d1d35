"""Health, readiness, metrics and the OpenAPI description."""

from __future__ import annotations

import os

import httpx

from journeyline.app import create_app
from journeyline.config import Settings
from journeyline.store.db import Database
from tests.conftest import TenantKeys


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_when_storage_answers(client: httpx.AsyncClient) -> None:
    assert (await client.get("/readyz")).status_code == 200


async def test_readyz_is_503_and_writes_are_503_when_storage_is_down() -> None:
    database = Database.from_url("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    app = create_app(
        Settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none"), database=database
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            ready = await http.get("/readyz")
            assert ready.status_code == 503
            write = await http.post(
                "/ingest",
                json={"event_type": "page", "anonymous_id": "a"},
                headers={"X-API-Key": "pk_" + "x" * 32},
            )
            assert write.status_code == 503
            assert write.json()["error"]["code"] == "storage_unavailable"
    await database.dispose()


async def test_metrics_count_stored_and_duplicate_events(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    def value(text: str, outcome: str) -> float:
        for line in text.splitlines():
            if line.startswith(f'journeyline_events_total{{outcome="{outcome}"}}'):
                return float(line.split()[-1])
        return 0.0

    before = (await client.get("/metrics")).text
    event = {"event_type": "page", "anonymous_id": "m", "message_id": "metrics-1"}
    await client.post("/ingest", json=event, headers=tenant.public)
    await client.post("/ingest", json={**event, "payload": {"x": 1}}, headers=tenant.public)
    after = (await client.get("/metrics")).text
    assert value(after, "stored") - value(before, "stored") == 1
    assert value(after, "conflicting_duplicate") - value(before, "conflicting_duplicate") == 1


async def test_metrics_name_the_process_that_answered(client: httpx.AsyncClient) -> None:
    # Under `serve --workers N` a scrape reaches one of N processes: it says which.
    text = (await client.get("/metrics")).text
    assert f'journeyline_process_info{{pid="{os.getpid()}"}} 1.0' in text.splitlines()


async def test_openapi_describes_every_core_route(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    expected = {
        "/ingest",
        "/api/ingest",
        "/v1/events",
        "/admin/tenants",
        "/v1/keys",
        "/healthz",
        "/readyz",
        "/v1/profiles",
        "/v1/profiles/{profile_id}",
        "/v1/profiles/{profile_id}/events",
        "/v1/profiles/{profile_id}/lineage",
        "/v1/profiles/{profile_id}/merges",
        "/v1/profiles/{profile_id}/merge",
        "/v1/profiles/{profile_id}/unmerge",
        "/v1/identity-conflicts",
    }
    assert expected <= set(paths)
    assert "requestBody" in paths["/ingest"]["post"]
    assert (await client.get("/docs")).status_code == 200
