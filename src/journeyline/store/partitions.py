"""The log's layout on PostgreSQL: one `events` table, or `events` hash-partitioned by
`tenant_id` into N partitions (`JOURNEYLINE_DATABASE__EVENT_PARTITIONS`, applied by
`journeyline db upgrade` after the migrations; decision 72).

Hash by tenant, not range by month: PostgreSQL allows a unique index on a partitioned table only
if it holds the partition key, and the permanent idempotency index `(tenant_id, source,
external_event_id)` holds `tenant_id`, so it stays unique across the whole log. Partitioned by
`occurred_at` it would be unique within a month only, and a redelivery a month later would be
stored twice. Every query of the log names its tenant (tests/statement_audit.py), so each one
reads a single partition.

The conversion keeps every row: the plain table is renamed aside, the partitioned one created
from the model (its columns, primary key and indexes under their own names), the rows copied by
name, the old table dropped — one transaction, holding the log's lock throughout (on a large
log, a maintenance window). Changing the number of partitions later, or going back to one
table, is not done here: both would rewrite the log, and neither is needed to grow (more
partitions per node is not what Citus needs; distribution is by the same `tenant_id`).
"""

from __future__ import annotations

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateIndex, CreateTable

from journeyline.store.models import Event

PARTITION_KEY = "tenant_id"
ASIDE = "_unpartitioned"


class LayoutConflict(RuntimeError):
    """The log is partitioned differently from what the settings ask for."""


def partition_name(table: str, remainder: int) -> str:
    return f"{table}_p{remainder}"


def partition_statements(table: Table, partitions: int) -> list[str]:
    """The DDL that turns the plain `table` into `partitions` hash partitions, rows kept."""
    if partitions < 1:
        raise ValueError("a partitioned log has at least one partition")
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    name = table.name
    aside = f"{name}{ASIDE}"
    primary = table.primary_key.name
    if PARTITION_KEY not in table.primary_key.columns:
        raise ValueError(f"{name}'s primary key must hold {PARTITION_KEY} to be partitioned by it")
    statements = [f"ALTER TABLE {name} RENAME TO {aside}"]
    statements.append(f"ALTER TABLE {aside} RENAME CONSTRAINT {primary} TO {primary}{ASIDE}")
    statements += [
        f"ALTER INDEX {index.name} RENAME TO {index.name}{ASIDE}" for index in table.indexes
    ]
    create = str(CreateTable(table).compile(dialect=dialect)).strip()
    statements.append(f"{create} PARTITION BY HASH ({PARTITION_KEY})")
    statements += [
        f"CREATE TABLE {partition_name(name, remainder)} PARTITION OF {name}"
        f" FOR VALUES WITH (MODULUS {partitions}, REMAINDER {remainder})"
        for remainder in range(partitions)
    ]
    statements += [
        str(CreateIndex(index).compile(dialect=dialect))
        for index in sorted(table.indexes, key=lambda index: str(index.name))
    ]
    columns = ", ".join(column.name for column in table.columns)
    statements.append(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {aside}")
    statements.append(f"DROP TABLE {aside}")
    return statements


async def partition_count(connection: AsyncConnection, table: str) -> int:
    """0 for a plain table, else how many partitions it has (in the current schema)."""
    row = (
        await connection.execute(
            text(
                "SELECT c.relkind::text, (SELECT count(*) FROM pg_inherits AS i WHERE i.inhparent = c.oid)"
                " FROM pg_class AS c WHERE c.relname = :table"
                " AND c.relnamespace = current_schema()::regnamespace"
            ),
            {"table": table},
        )
    ).one()
    return int(row[1]) if row[0] == "p" else 0


async def partitions_of(connection: AsyncConnection) -> set[str]:
    """Every partition of a partitioned table in the current schema (Alembic's drift check
    leaves them out: they are the layout, not the model)."""
    rows = await connection.execute(
        text(
            "SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid"
            " WHERE c.relnamespace = current_schema()::regnamespace"
        )
    )
    return {str(row[0]) for row in rows}


async def apply_event_partitions(
    database_url: str, partitions: int, connect_args: dict[str, object]
) -> int:
    """Partition the log as asked (0: leave it as it is); returns its partition count after.
    SQLite has one layout: nothing to do there."""
    if database_url.startswith("sqlite"):
        return 0
    table: Table = Event.__table__  # type: ignore[assignment]
    engine = create_async_engine(database_url, poolclass=NullPool, connect_args=connect_args)
    try:
        async with engine.begin() as connection:
            current = await partition_count(connection, table.name)
            if partitions == 0 or current == partitions:
                return current
            if current:
                raise LayoutConflict(
                    f"the events table already has {current} partitions, not {partitions}:"
                    " changing the count rewrites the log and is not done by `db upgrade`"
                )
            await connection.execute(text(f"LOCK TABLE {table.name} IN ACCESS EXCLUSIVE MODE"))
            for statement in partition_statements(table, partitions):
                await connection.execute(text(statement))
            return partitions
    finally:
        await engine.dispose()
