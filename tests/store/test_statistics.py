"""Statistics for tables that outgrew them (store/statistics.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from journeyline.store import migrate
from journeyline.store.db import Database, Session
from journeyline.store.repositories.crm import PERSONS, CrmRepository
from journeyline.store.statistics import FLOOR, StatisticsWatch, analyze_grown_tables
from journeyline.tenancy import service as tenancy
from tests.conftest import _create_pg_database, _drop_pg_database, _requested_url

NOW = datetime(2026, 12, 2, tzinfo=UTC)


@pytest.fixture
async def fresh() -> AsyncIterator[Database]:
    """A database of its own, migrated and never analyzed."""
    requested = _requested_url()
    assert requested is not None
    assert requested.startswith("postgresql")
    url = await _create_pg_database(requested)
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        database = Database.from_url(url)
        try:
            yield database
        finally:
            await database.dispose()
    finally:
        await _drop_pg_database(requested, url)


async def new_tenant(database: Database) -> uuid.UUID:
    created = await database.run(lambda session: tenancy.create_tenant(session, "stats"))
    return created.tenant_id


async def fill_persons(
    database: Database, tenant_id: uuid.UUID, count: int, first: int = 0
) -> None:
    async def write(session: Session) -> None:
        await CrmRepository(session, tenant_id).append_rows(
            PERSONS,
            [
                {
                    "profile_id": uuid.UUID(int=first + i + 1),
                    "name": None,
                    "email": f"p{i}@x.io",
                    "phone": None,
                    "title": None,
                    "company_id": None,
                    "lifecycle_stage": "lead",
                    "updated_at": NOW,
                }
                for i in range(count)
            ],
        )

        # The counters the check reads are flushed at most once a second; now, for the test.
        await session.execute(text("SELECT pg_stat_force_next_flush()"))

    await database.run(write)


async def reltuples(database: Database, table: str) -> float:
    async with database.read() as session:
        value = await session.scalar(
            text("SELECT reltuples FROM pg_class WHERE relname = :name"), {"name": table}
        )
    return float(value)


@pytest.mark.postgres
async def test_a_table_is_analyzed_each_time_it_outgrows_its_statistics(
    fresh: Database,
) -> None:
    tenant_id = await new_tenant(fresh)
    await fill_persons(fresh, tenant_id, 2000)
    assert await reltuples(fresh, "crm_persons") < 0  # rows, never analyzed
    analyzed = await analyze_grown_tables(fresh.engine)
    assert "crm_persons" in analyzed
    assert "tenants" not in analyzed  # one row: below the floor
    assert await reltuples(fresh, "crm_persons") == 2000
    assert await analyze_grown_tables(fresh.engine) == []  # nothing changed since
    await fill_persons(fresh, tenant_id, 2000 + FLOOR - 1, first=2000)
    assert await analyze_grown_tables(fresh.engine) == []  # not yet twice its size
    await fill_persons(fresh, tenant_id, 2, first=4000 + FLOOR)
    assert await analyze_grown_tables(fresh.engine) == ["crm_persons"]

    # The person lookup now probes the primary key, not an index of tenant_id alone.
    async with fresh.read() as session:
        plan = "\n".join(
            row[0]
            for row in await session.execute(
                text(
                    "EXPLAIN SELECT profile_id FROM crm_persons "
                    "WHERE tenant_id = :tenant AND profile_id = :profile"
                ),
                {"tenant": tenant_id, "profile": uuid.UUID(int=7)},
            )
        )
    assert "pk_crm_persons" in plan, plan


@pytest.mark.postgres
async def test_a_watched_database_analyzes_after_a_commit_at_most_once_an_interval(
    fresh: Database,
) -> None:
    tenant_id = await new_tenant(fresh)
    fresh.statistics = watch = StatisticsWatch(fresh.engine, every_seconds=3600)
    await fill_persons(fresh, tenant_id, FLOOR + 1)  # the commit starts the first check
    first = watch._task
    assert first is not None
    await first
    assert await reltuples(fresh, "crm_persons") == FLOOR + 1
    await fill_persons(fresh, tenant_id, 10, first=FLOOR + 1)
    assert watch._task is first  # within the interval: no second check


async def test_only_postgresql_is_watched(database: Database, is_postgres: bool) -> None:
    probe = Database(database.engine)
    probe.watch_statistics()
    assert (probe.statistics is not None) == is_postgres
    if not is_postgres:
        assert await analyze_grown_tables(database.engine) == []
