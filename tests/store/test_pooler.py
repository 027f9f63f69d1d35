"""The PgBouncer lane is really behind a transaction-mode pooler, and journeyline's pooler
setting is what makes it work there (decision 71)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bench.pooler import pgbouncer
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from journeyline.config import DatabaseSettings
from journeyline.store.db import Database, postgres_connect_args

pytestmark = pytest.mark.postgres


def test_the_pooler_setting_turns_both_statement_caches_off() -> None:
    assert postgres_connect_args("none") == {}
    assert postgres_connect_args("transaction") == {
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
    }


async def _backend_pids(database: Database, clients: int) -> set[int]:
    """The server process each of `clients` concurrent transactions ran on."""

    async def one() -> int:
        async with database.read() as session:
            return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())

    return set(await asyncio.gather(*(one() for _ in range(clients))))


async def _sums(database: Database, clients: int) -> int:
    async def one(value: int) -> int:
        async with database.read() as session:
            statement = text("SELECT CAST(:v AS integer) + 1")
            return int((await session.execute(statement, {"v": value})).scalar_one())

    return sum(await asyncio.gather(*(one(value) for value in range(clients))))


def test_transaction_pooling_shares_server_connections_and_needs_the_setting(
    database_url: str, tmp_path: Path
) -> None:
    """A few server connections (2, and a reserve of 5) serve many more client connections,
    one transaction at a time; statements run through it with the setting, and without it a
    client finds its prepared statement missing (or another's) on the server connection its
    next transaction got."""
    with pgbouncer(database_url, tmp_path, pool_size=2) as pooler:
        url = pooler.url(database_url)

        async def run() -> tuple[set[int], int, int, Exception | None]:
            pooled = Database.from_url(url, DatabaseSettings(pooler="transaction"))
            try:
                pids = await _backend_pids(pooled, 40)
                clients = pooled.engine.sync_engine.pool.checkedin()  # type: ignore[attr-defined]
                total = await _sums(pooled, 40)
            finally:
                await pooled.dispose()
            unaware = Database.from_url(url, DatabaseSettings(pooler="none"))
            failure: Exception | None = None
            try:
                for _ in range(5):
                    await _sums(unaware, 40)
            except DBAPIError as exc:
                failure = exc
            finally:
                await unaware.dispose()
            return pids, clients, total, failure

        pids, clients, total, failure = asyncio.run(run())
    assert total == sum(value + 1 for value in range(40))
    # The engine kept 10 client connections open (its pool_size); they ran on at most 7.
    assert clients == 10
    assert 1 <= len(pids) <= 7
    assert failure is not None
    assert "prepared statement" in str(failure)
