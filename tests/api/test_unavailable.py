"""A database that cannot be reached answers 503 with `Retry-After` and the JSON error shape on
every route, never 500 (decision 45): each route of the OpenAPI document, against a database
whose every connection fails the way PostgreSQL fails while it restarts."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from journeyline.api.state import AppState
from journeyline.app import create_app
from journeyline.config import Settings
from journeyline.store.db import Database
from tests.conftest import ADMIN_TOKEN, TenantKeys
from tests.store.test_outages import UNREACHABLE, failing_engine

OUTAGES = [
    asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    ConnectionRefusedError(111, "Connect call failed"),
]
SECRET = "sk_" + "s" * 40
PUBLIC = "pk_" + "p" * 32
EVENT = {"event_type": "track", "event_name": "Seen", "anonymous_id": "a-1", "message_id": "m-1"}
# Routes that must reach the database, with a request they would otherwise accept.
MUST_BE_503: list[tuple[str, str, dict[str, Any], dict[str, str]]] = [
    ("POST", "/ingest", EVENT, {"X-API-Key": PUBLIC}),
    ("POST", "/api/ingest", {"batch": [EVENT]}, {"X-API-Key": PUBLIC}),
    ("POST", "/v1/events", EVENT, {"Authorization": f"Bearer {SECRET}"}),
    ("POST", "/tenant/ingest/batch", {"events": [EVENT]}, {"Authorization": f"Bearer {SECRET}"}),
    ("GET", "/v1/profiles", {}, {"Authorization": f"Bearer {SECRET}"}),
    ("POST", f"/webhooks/stripe/{uuid.uuid4()}", {"id": "evt_1"}, {"Stripe-Signature": "t=1"}),
    ("POST", "/admin/tenants", {"name": "Acme"}, {"Authorization": f"Bearer {ADMIN_TOKEN}"}),
    (
        "POST",
        "/api/events",
        {"company_id": PUBLIC, "sessionId": "s-1", "events": [{"eventType": "page_view"}]},
        {},
    ),
]


def settings() -> Settings:
    return Settings(database_url=UNREACHABLE, admin_token=ADMIN_TOKEN, retry_after_seconds=3)


def unavailable_app(driver_error: BaseException) -> tuple[FastAPI, Database]:
    database = Database(failing_engine(driver_error))
    return create_app(settings(), database=database), database


@pytest.fixture(params=OUTAGES, ids=lambda e: type(e).__name__)
async def http(request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    app, database = unavailable_app(request.param)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client
    await database.dispose()


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "3"
    assert response.json()["error"]["code"] == "storage_unavailable"


@pytest.mark.parametrize(
    ("method", "path", "body", "headers"), MUST_BE_503, ids=[f"{m} {p}" for m, p, *_ in MUST_BE_503]
)
async def test_a_route_that_needs_the_database_answers_503_with_retry_after(
    http: httpx.AsyncClient, method: str, path: str, body: dict[str, Any], headers: dict[str, str]
) -> None:
    response = await http.request(method, path, json=body or None, headers=headers)
    assert_unavailable(response)


async def test_no_route_answers_500(http: httpx.AsyncClient) -> None:
    document = (await http.get("/openapi.json")).json()
    answered: dict[str, int] = {}
    for template, operations in document["paths"].items():
        path = template
        for name in [part[1:-1] for part in template.split("/") if part.startswith("{")]:
            path = path.replace(f"{{{name}}}", str(uuid.uuid4()))
        for method in operations:
            headers = {"Authorization": f"Bearer {SECRET}"}
            response = await http.request(method.upper(), path, json={}, headers=headers)
            answered[f"{method.upper()} {template}"] = response.status_code
            assert response.status_code < 500 or response.status_code == 503, (
                f"{method.upper()} {template}: {response.status_code} {response.text}"
            )
            if response.status_code == 503:
                assert response.headers["retry-after"] == "3"
                if template != "/readyz":  # a status document, tested below
                    assert set(response.json()["error"]) >= {"code", "message"}
    # Most routes authenticate first, and authenticating reads the database.
    assert sum(status == 503 for status in answered.values()) > len(answered) // 2, answered


async def test_readyz_is_503_with_retry_after_and_names_the_database(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/readyz")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "3"
    assert response.json() == {"status": "unavailable", "database": "unavailable", "queue": "ok"}


def test_the_stream_closes_with_try_again_later() -> None:
    app, _database = unavailable_app(OUTAGES[0])
    with (
        TestClient(app) as client,
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect(f"/v1/stream?key={SECRET}") as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 1013


@pytest.mark.postgres
async def test_an_exhausted_pool_answers_503(database_url: str) -> None:
    engine = create_async_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    database = Database(engine)
    app = create_app(settings().model_copy(update={"database_url": database_url}), database)
    try:
        async with app.router.lifespan_context(app), engine.connect():
            # The pool's only connection is held here: the request waits its pool_timeout.
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.get("/v1/profiles", headers={"X-API-Key": SECRET})
        assert_unavailable(response)
    finally:
        await database.dispose()


# The read-only routes, each on the read-session dependency (api/deps.py `ReadSession`).
READ_ROUTES = [
    "/v1/profiles",
    "/v1/profiles?email=jane@example.com",
    f"/v1/profiles/{uuid.uuid4()}",
    f"/v1/profiles/{uuid.uuid4()}/events",
    f"/v1/profiles/{uuid.uuid4()}/lineage",
    f"/v1/profiles/{uuid.uuid4()}/merges",
    f"/v1/profiles/{uuid.uuid4()}/export",
    f"/api/profiles/{uuid.uuid4()}/timeline",
    "/v1/identity-conflicts",
    "/v1/erasures",
    "/v1/settings",
    "/v1/keys",
    "/v1/orders",
    "/v1/orders/A-1",
    "/v1/products",
    "/v1/products/P-1",
    "/v1/crm/persons",
    "/v1/crm/companies",
    "/v1/crm/deals",
    "/v1/pipeline",
    "/v1/intelligence",
    "/v1/intelligence/attribution?model=linear",
    "/v1/connections",
    "/v1/webhook-deliveries",
]


async def test_a_read_whose_session_fails_inside_the_route_answers_503(
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    app_state: AppState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The key is known (authenticating reads nothing), so the outage reaches the route's own
    read session: the dependency still answers 503 with Retry-After, never 500."""
    assert (await client.get("/v1/settings", headers=tenant.secret)).status_code == 200
    failing = Database(failing_engine(OUTAGES[0]))
    monkeypatch.setattr(app_state.database, "sessions", failing.sessions)
    try:
        for path in READ_ROUTES:
            response = await client.get(path, headers=tenant.secret)
            assert response.status_code == 503, f"{path}: {response.status_code} {response.text}"
            assert "retry-after" in response.headers, path
            assert response.json()["error"]["code"] == "storage_unavailable", path
    finally:
        monkeypatch.undo()
        await failing.dispose()
