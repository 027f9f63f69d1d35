"""Upkeep after commits (store/upkeep.py): statistics for tables that outgrew them on
PostgreSQL, WAL checkpoints off the commit path on SQLite."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from journeyline.store import migrate
from journeyline.store.db import Database, Session
from journeyline.store.repositories.crm import PERSONS, CrmRepository
from journeyline.store.upkeep import (
    CHECKPOINT_SAFETY_PAGES,
    FLOOR,
    Upkeep,
    analyze_grown_tables,
    checkpoint_wal,
)
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
    fresh.upkeep = watch = Upkeep(fresh.engine, every_seconds=3600)
    await fill_persons(fresh, tenant_id, FLOOR + 1)  # the commit starts the first check
    first = watch._task
    assert first is not None
    await first
    assert await reltuples(fresh, "crm_persons") == FLOOR + 1
    await fill_persons(fresh, tenant_id, 10, first=FLOOR + 1)
    assert watch._task is first  # within the interval: no second check


async def test_every_database_keeps_up(database: Database, is_postgres: bool) -> None:
    probe = Database(database.engine)
    probe.keep_up()
    assert probe.upkeep is not None
    if not is_postgres:
        assert await analyze_grown_tables(database.engine) == []
    else:
        assert await checkpoint_wal(database.engine) is None


PAGE_ROWS = 800  # rows of one 4 KiB blob each: about a page apiece, 800 WAL frames a commit


@pytest.fixture
async def sqlite_file(tmp_path: Path) -> AsyncIterator[Database]:
    """A SQLite database of its own with one table of page-sized rows (whatever the lane)."""
    database = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'upkeep.db'}")
    async with database.engine.begin() as connection:
        await connection.exec_driver_sql("CREATE TABLE pages (id INTEGER PRIMARY KEY, body BLOB)")
    try:
        yield database
    finally:
        await database.dispose()


async def write_pages(database: Database, count: int) -> None:
    async def write(session: Session) -> None:
        await session.execute(
            text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)"
                " INSERT INTO pages (body) SELECT randomblob(4000) FROM n"
            ),
            {"count": count},
        )

    await database.run(write)


async def test_a_sqlite_commit_leaves_the_checkpoint_to_upkeep(sqlite_file: Database) -> None:
    async with sqlite_file.engine.connect() as connection:
        threshold = (await connection.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar()
    assert threshold == CHECKPOINT_SAFETY_PAGES
    # Past SQLite's default of 1,000 pages, two commits and a third that would restart a
    # checkpointed log: every frame is still in the log, none was copied back by a commit.
    await write_pages(sqlite_file, PAGE_ROWS)
    await write_pages(sqlite_file, PAGE_ROWS)
    await write_pages(sqlite_file, 1)
    checkpoint = await checkpoint_wal(sqlite_file.engine)
    assert checkpoint is not None
    assert checkpoint.log_frames > 2 * PAGE_ROWS
    # The passive checkpoint copied everything back (no reader held an older snapshot) ...
    assert not checkpoint.busy
    assert checkpoint.checkpointed_frames == checkpoint.log_frames
    # ... so the next commit starts the log again from its beginning.
    await write_pages(sqlite_file, 1)
    again = await checkpoint_wal(sqlite_file.engine)
    assert again is not None
    assert again.log_frames < 10


async def test_a_kept_up_sqlite_database_checkpoints_after_a_commit(
    sqlite_file: Database,
) -> None:
    sqlite_file.upkeep = upkeep = Upkeep(sqlite_file.engine, every_seconds=3600)
    await write_pages(sqlite_file, PAGE_ROWS)  # the commit starts the checkpoint
    first = upkeep._task
    assert first is not None
    await first
    assert upkeep.last_checkpoint is not None
    assert upkeep.last_checkpoint.log_frames >= PAGE_ROWS
    assert upkeep.last_checkpoint.checkpointed_frames == upkeep.last_checkpoint.log_frames
    await write_pages(sqlite_file, 1)
    assert upkeep._task is first  # within the interval: no second checkpoint
