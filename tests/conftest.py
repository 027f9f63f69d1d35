"""Test lanes: SQLite by default, the real PostgreSQL when JOURNEYLINE_TEST_DATABASE_URL says so.

Each session migrates a brand-new database with Alembic. Tests isolate themselves by tenant: every
test makes its own tenants, so no test can see another's rows (and isolation is exercised all the
time), and nothing needs rolling back.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from journeyline.api.state import AppState
from journeyline.app import create_app
from journeyline.config import (
    DatabaseSettings,
    OrderSettings,
    RateLimitSettings,
    Settings,
    WorkerSettings,
)
from journeyline.store import migrate
from journeyline.store.db import Database
from tests.pooled import Pooler, lane_pooler

ADMIN_TOKEN = "test-admin-token"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Every statement journeyline sends is checked for tenant scope at the end of the run.
pytest_plugins = ["tests.statement_audit"]


def _requested_url() -> str | None:
    return os.environ.get("JOURNEYLINE_TEST_DATABASE_URL") or None


async def _create_pg_database(server_url: str) -> str:
    url = make_url(server_url)
    name = f"journeyline_test_{uuid.uuid4().hex[:12]}"
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


async def _drop_pg_database(server_url: str, database_url: str) -> None:
    name = make_url(database_url).database
    engine = create_async_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    requested = _requested_url()
    if requested is None or requested.startswith("sqlite"):
        with tempfile.TemporaryDirectory() as directory:
            url = requested or f"sqlite+aiosqlite:///{Path(directory) / 'test.db'}"
            migrate.upgrade(url)
            yield url
        return
    try:
        url = asyncio.run(_create_pg_database(requested))
    except (OSError, ConnectionError, Exception) as exc:
        message = f"PostgreSQL lane: cannot reach {requested}: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip("SKIPPING THE WHOLE POSTGRESQL LANE: " + message)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        asyncio.run(_drop_pg_database(requested, url))


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


@pytest.fixture(scope="session")
def pooler(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pooler | None]:
    """The lane's PgBouncer (transaction mode) when JOURNEYLINE_TEST_POOLER=pgbouncer: the app,
    the session's database and the soak's processes then reach PostgreSQL through it, with
    `JOURNEYLINE_DATABASE__POOLER=transaction`. Tests that open a connection of their own from
    `database_url` (checks of what was stored) still reach the server directly."""
    with lane_pooler(database_url, tmp_path_factory.mktemp("pooler")) as running:
        yield running


@pytest.fixture(scope="session")
def settings(database_url: str, pooler: Pooler | None) -> Settings:
    return Settings(
        database_url=database_url if pooler is None else pooler.url(database_url),
        database=DatabaseSettings(pooler="none" if pooler is None else "transaction"),
        admin_token=ADMIN_TOKEN,
        key_cache_seconds=0.0,
        # The session app's embedded worker sweeps once at start, then not again: tests that
        # stage orphaned or half-run jobs must not have them taken from under them.
        worker=WorkerSettings(sweep_interval_seconds=24 * 3600),
        # Tests sweep abandoned carts themselves, at the moment they choose.
        orders=OrderSettings(abandon_sweep_interval_seconds=24 * 3600),
        # The whole session calls from one address, and many tests present bad keys on
        # purpose: the failure budget is the budgets' tests' to exhaust (tests/api/test_budgets.py).
        rate_limits=RateLimitSettings(failed_auth_burst=10_000_000, failed_auth_per_second=1e6),
    )


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Database]:
    db = Database.from_settings(settings)
    yield db
    await db.dispose()


@pytest.fixture(scope="session")
async def app(settings: Settings, database: Database) -> AsyncIterator[FastAPI]:
    """The app, started (lifespan) once per session: the embedded worker runs batches."""
    application = create_app(settings, database=database)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
def app_state(app: FastAPI) -> AppState:
    state: AppState = app.state.journeyline
    return state


@pytest.fixture(scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def _requested_redis_url() -> str | None:
    return os.environ.get("JOURNEYLINE_TEST_REDIS_URL") or None


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The real Redis of the PostgreSQL lane (a database number of its own, flushed freely)."""
    url = _requested_redis_url()
    if url is None:
        pytest.fail("redis tests run only with JOURNEYLINE_TEST_REDIS_URL (they are deselected)")
    try:
        from redis import Redis

        Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:
        message = f"Redis lane: cannot reach {url}: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip("SKIPPING REDIS TESTS: " + message)
    return url


@dataclass(frozen=True)
class TenantKeys:
    tenant_id: str
    public_key: str
    secret_key: str

    @property
    def secret(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret_key}"}

    @property
    def public(self) -> dict[str, str]:
        return {"X-API-Key": self.public_key}


async def make_tenant(client: httpx.AsyncClient, name: str = "Acme") -> TenantKeys:
    response = await client.post(
        "/admin/tenants", json={"name": name}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return TenantKeys(body["tenant_id"], body["public_key"], body["secret_key"])


@pytest.fixture
async def tenant(client: httpx.AsyncClient) -> TenantKeys:
    return await make_tenant(client, "Tenant A")


@pytest.fixture
async def other_tenant(client: httpx.AsyncClient) -> TenantKeys:
    return await make_tenant(client, "Tenant B")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Outside the PostgreSQL lane, PostgreSQL-only tests are deselected (not skipped); so are
    Redis tests when the lane names no Redis, and browser and `sqlite` tests in the PostgreSQL
    lane."""
    requested = _requested_url()
    on_postgres = requested is not None and requested.startswith("postgresql")
    with_redis = _requested_redis_url() is not None

    def runs_here(item: pytest.Item) -> bool:
        if item.get_closest_marker("postgres") and not on_postgres:
            return False
        # The browser tests start their own server on its own SQLite file: once is enough.
        if item.get_closest_marker("browser") and on_postgres:
            return False
        if item.get_closest_marker("sqlite") and on_postgres:
            return False
        return not (item.get_closest_marker("redis") and not with_redis)

    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        (kept if runs_here(item) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
