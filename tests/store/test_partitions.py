"""The log hash-partitioned by tenant (store/partitions.py, decision 72): the DDL, and on the
real PostgreSQL a log with rows converted in place, its permanent idempotency still whole, each
tenant's reads on one partition, no drift from the models, and a second upgrade a no-op."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Table, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from journeyline.store import migrate
from journeyline.store.models import Event
from journeyline.store.partitions import LayoutConflict, partition_statements
from tests.conftest import _create_pg_database, _drop_pg_database

EVENTS: Table = Event.__table__  # type: ignore[assignment]


@pytest.mark.parametrize("partitions", [1, 4, 16])
def test_the_ddl_moves_the_plain_log_aside_and_recreates_it_in_partitions(partitions: int) -> None:
    statements = partition_statements(EVENTS, partitions)
    assert statements[0] == "ALTER TABLE events RENAME TO events_unpartitioned"
    assert statements[-1] == "DROP TABLE events_unpartitioned"
    created = [s for s in statements if s.startswith("CREATE TABLE events ")]
    assert len(created) == 1
    assert created[0].endswith("PARTITION BY HASH (tenant_id)")
    assert "CONSTRAINT pk_events PRIMARY KEY (tenant_id, id)" in created[0]
    parts = [s for s in statements if "PARTITION OF events" in s]
    assert parts == [
        f"CREATE TABLE events_p{r} PARTITION OF events FOR VALUES WITH"
        f" (MODULUS {partitions}, REMAINDER {r})"
        for r in range(partitions)
    ]
    # Every index of the model again, under its own name, after its old one moved aside.
    for index in EVENTS.indexes:
        assert f"ALTER INDEX {index.name} RENAME TO {index.name}_unpartitioned" in statements
        assert any(s.startswith("CREATE ") and f" {index.name} ON events " in s for s in statements)
    unique = next(s for s in statements if "uq_events_tenant_source_external_event_id ON" in s)
    assert unique.startswith("CREATE UNIQUE INDEX")
    assert "(tenant_id, source, external_event_id)" in unique
    # Rows are copied by column name: a migrated table's column order may differ from the model's.
    copy = next(s for s in statements if s.startswith("INSERT INTO events"))
    assert "(tenant_id, id, " in copy
    assert copy.endswith("FROM events_unpartitioned")


@pytest.mark.parametrize("partitions", [0, -1])
def test_no_partitions_is_not_a_partitioned_log(partitions: int) -> None:
    with pytest.raises(ValueError, match="at least one partition"):
        partition_statements(EVENTS, partitions)


INSERT = text(
    "INSERT INTO events (tenant_id, id, source_type, source, event_type, event_name, payload,"
    " payload_hash, occurred_at, received_at, external_event_id)"
    " VALUES (:tenant, :id, 'server', 'api', 'track', 'Order Completed', '{}', 'h', now(), now(),"
    " :external)"
)


@pytest.fixture
async def fresh_url(database_url: str) -> AsyncIterator[str]:
    """A database of this test's own on the lane's server, migrated to one plain log."""
    url = await _create_pg_database(database_url)
    try:
        await asyncio.to_thread(migrate.upgrade, url, event_partitions=0)
        yield url
    finally:
        await _drop_pg_database(database_url, url)


async def _scalar(engine: AsyncEngine, sql: str, **params: object) -> object:
    async with engine.connect() as connection:
        return (await connection.execute(text(sql), params)).scalar_one()


@pytest.mark.postgres
async def test_a_log_with_rows_is_partitioned_in_place_and_stays_idempotent(
    fresh_url: str,
) -> None:
    tenants = [uuid.uuid4() for _ in range(6)]
    engine = create_async_engine(fresh_url)
    try:
        async with engine.begin() as connection:
            for number, tenant in enumerate(tenants):
                for event in range(5):
                    await connection.execute(
                        INSERT,
                        {"tenant": tenant, "id": uuid.uuid4(), "external": f"m-{number}-{event}"},
                    )

        await asyncio.to_thread(migrate.upgrade, fresh_url, event_partitions=4)

        assert await _scalar(engine, "SELECT count(*) FROM events") == 30
        assert (
            await _scalar(engine, "SELECT relkind::text FROM pg_class WHERE relname = 'events'")
            == "p"
        )
        assert (
            await _scalar(
                engine,
                "SELECT count(*) FROM pg_inherits JOIN pg_class ON pg_class.oid = inhparent"
                " WHERE relname = 'events'",
            )
            == 4
        )
        # The permanent idempotency index holds across every partition: the same sender id
        # again in a tenant is refused, and another tenant may use it.
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(
                    INSERT, {"tenant": tenants[0], "id": uuid.uuid4(), "external": "m-0-0"}
                )
        async with engine.begin() as connection:
            await connection.execute(
                INSERT, {"tenant": uuid.uuid4(), "id": uuid.uuid4(), "external": "m-0-0"}
            )
            # ON CONFLICT infers the partial unique index on the partitioned table too.
            inserted = await connection.execute(
                text(
                    str(INSERT) + " ON CONFLICT (tenant_id, source, external_event_id)"
                    " WHERE external_event_id IS NOT NULL DO NOTHING"
                ),
                {"tenant": tenants[1], "id": uuid.uuid4(), "external": "m-1-0"},
            )
            assert inserted.rowcount == 0
        # A tenant's read touches one partition.
        async with engine.connect() as connection:
            plan = "\n".join(
                str(row[0])
                for row in await connection.execute(
                    text("EXPLAIN SELECT * FROM events WHERE tenant_id = :t"), {"t": tenants[2]}
                )
            )
        assert sum(f"events_p{r}" in plan for r in range(4)) == 1, plan

        # The models and the migrated, partitioned schema agree; a second upgrade changes
        # nothing; another partition count is refused, not applied.
        await asyncio.to_thread(migrate.check, fresh_url)
        await asyncio.to_thread(migrate.upgrade, fresh_url, event_partitions=4)
        assert await _scalar(engine, "SELECT count(*) FROM events") == 31
        with pytest.raises(LayoutConflict, match="already has 4 partitions, not 8"):
            await asyncio.to_thread(migrate.upgrade, fresh_url, event_partitions=8)
    finally:
        await engine.dispose()
