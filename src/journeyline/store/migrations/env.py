"""Alembic environment: runs migrations on SQLite and PostgreSQL through the async engine."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import journeyline.store.models  # noqa: F401  (registers every table on Base.metadata)
from journeyline.store.base import Base
from journeyline.store.migrate import migration_connect_args
from journeyline.store.partitions import partitions_of

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from journeyline.config import get_settings

        url = get_settings().database_url
    return url


def _run(connection: Connection, partitions: set[str]) -> None:
    def include_object(
        _object: object, name: str | None, type_: str, reflected: bool, _to: object
    ) -> bool:
        # The log's partitions (store/partitions.py) are its layout, not tables of the model.
        return not (type_ == "table" and reflected and name in partitions)

    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    url = _database_url()
    engine = create_async_engine(
        url, poolclass=NullPool, hide_parameters=True, connect_args=migration_connect_args(url)
    )
    async with engine.connect() as connection:
        partitions = set() if url.startswith("sqlite") else await partitions_of(connection)
        await connection.run_sync(_run, partitions)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_database_url(), target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
