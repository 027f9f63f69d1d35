"""Alembic, driven from code: upgrade to head, check that models and migrations agree."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from journeyline.config import get_settings
from journeyline.store.db import postgres_connect_args
from journeyline.store.partitions import apply_event_partitions

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option(
        "file_template", "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s"
    )
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def migration_connect_args(database_url: str) -> dict[str, Any]:
    """A migration through a transaction-mode pooler prepares nothing named either: the
    process's `JOURNEYLINE_DATABASE__POOLER` says whether it is behind one."""
    if database_url.startswith("sqlite"):
        return {}
    return postgres_connect_args(get_settings().database.pooler)


def upgrade(
    database_url: str, revision: str = "head", *, event_partitions: int | None = None
) -> None:
    """Migrate to `revision`; at head, then lay the log out as the settings ask (partitioned
    by tenant or not, store/partitions.py). `event_partitions` overrides the setting."""
    command.upgrade(alembic_config(database_url), revision)
    if revision != "head":
        return
    wanted = (
        get_settings().database.event_partitions if event_partitions is None else event_partitions
    )
    asyncio.run(apply_event_partitions(database_url, wanted, migration_connect_args(database_url)))


def check(database_url: str) -> None:
    """Raise when the models hold changes that no migration makes."""
    command.check(alembic_config(database_url))


async def is_at_head(database_url: str) -> bool:
    """True when the database's revision is the newest migration."""
    heads = set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
    engine = create_async_engine(
        database_url, poolclass=NullPool, connect_args=migration_connect_args(database_url)
    )
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(
                lambda sync: set(MigrationContext.configure(sync).get_current_heads())
            )
    finally:
        await engine.dispose()
    return current == heads
