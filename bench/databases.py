"""Fresh, migrated databases for one measurement each: a SQLite file or a PostgreSQL database
that is dropped afterwards, whatever happens."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from journeyline.store import migrate

Kind = Literal["sqlite", "postgres"]

PG_SERVER = os.environ.get("PG_TEST_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
# Every database the harness creates carries this prefix, so a stray one is easy to spot.
PREFIX = "journeyline_bench_"


async def _execute(statement: str) -> None:
    engine = create_async_engine(
        make_url(PG_SERVER), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def create_pg_database() -> str:
    name = f"{PREFIX}{uuid.uuid4().hex[:12]}"
    asyncio.run(_execute(f'CREATE DATABASE "{name}"'))
    return make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    if not name or not name.startswith(PREFIX):
        raise ValueError(f"refusing to drop {name!r}: the harness did not create it")
    # FORCE ends the sessions a killed server or worker may have left behind.
    asyncio.run(_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def fresh_database(kind: Kind, directory: Path, name: str = "bench") -> Iterator[str]:
    """A new database at the newest migration; yields its SQLAlchemy URL. Call it outside an
    event loop (migrations and the PostgreSQL admin statements run their own)."""
    if kind == "sqlite":
        path = directory / f"{name}-{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite+aiosqlite:///{path}"
        migrate.upgrade(url)
        yield url
        return
    url = create_pg_database()
    try:
        migrate.upgrade(url)
        yield url
    finally:
        drop_pg_database(url)


def asyncpg_dsn(url: str) -> str:
    """The plain libpq DSN asyncpg wants, from a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
