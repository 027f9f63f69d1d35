"""The repositories' bulk statements (store/repositories/scoped.py) on both databases: lookups
by index probe, array inserts and updates, COPY — the same rows as the ORM would read, scoped to
the tenant, and inside the unit of work's transaction even when they are its first statement."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from journeyline.store.db import Database, Session, recorded_statements
from journeyline.store.repositories.profiles import PROFILES, ProfileColumns, ProfileRepository
from journeyline.store.repositories.scoped import COPY_FROM
from journeyline.tenancy import service as tenancy

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


async def new_tenant(database: Database, name: str) -> uuid.UUID:
    created = await database.run(lambda session: tenancy.create_tenant(session, name))
    return created.tenant_id


def pid(index: int) -> uuid.UUID:
    return uuid.UUID(int=index + 1)


def profile_row(index: int) -> dict[str, Any]:
    return {
        "id": pid(index),
        "status": "shadow",
        "merged_into": None,
        "attributes": {"n": index, "nested": {"tags": ["a", "ü"]}, "none": None},
        "attribute_times": {"n": NOW.isoformat()},
        "first_seen_at": NOW,
        "last_seen_at": NOW + timedelta(seconds=index),
        "event_count": index,
        "created_at": NOW,
        "updated_at": NOW,
    }


async def states(
    database: Database, tenant_id: uuid.UUID, ids: list[uuid.UUID]
) -> dict[uuid.UUID, ProfileColumns]:
    async def read(session: Session) -> list[ProfileColumns]:
        return await ProfileRepository(session, tenant_id).states_of(ids)

    return {state.id: state for state in await database.run(read)}


@pytest.mark.parametrize("count", [1, COPY_FROM - 1, COPY_FROM, 3 * COPY_FROM])
async def test_rows_written_in_bulk_read_back_as_written(database: Database, count: int) -> None:
    """Below COPY_FROM rows an array INSERT, from it a COPY (PostgreSQL); read back by index
    probe, every value (JSON, times, NULLs) is the one written."""
    tenant_id = await new_tenant(database, f"bulk-{count}")
    rows = [profile_row(i) for i in range(count)]

    async def write(session: Session) -> None:
        await ProfileRepository(session, tenant_id).insert_profiles(rows)

    await database.run(write)

    found = await states(database, tenant_id, [pid(i) for i in range(count)])
    assert len(found) == count
    for row in rows:
        state = found[row["id"]]
        assert state.attributes == row["attributes"]
        assert state.attribute_times == row["attribute_times"]
        assert state.merged_into is None
        assert state.last_seen_at == row["last_seen_at"]
        assert state.event_count == row["event_count"]


async def test_array_updates_set_each_row_and_touch_no_other_tenant(database: Database) -> None:
    ours, theirs = await new_tenant(database, "upd-a"), await new_tenant(database, "upd-b")
    rows = [profile_row(i) for i in range(5)]

    async def write(session: Session) -> None:
        for tenant_id in (ours, theirs):
            await ProfileRepository(session, tenant_id).insert_profiles(rows)

    await database.run(write)
    changed = [
        {"id": row["id"], "status": "anchor", "attributes": {"plan": f"p{i}"}, "event_count": 99}
        for i, row in enumerate(rows[:3])
    ]

    async def update(session: Session) -> None:
        await ProfileRepository(session, ours).update_profiles(changed)

    await database.run(update)

    ids = [pid(i) for i in range(5)]
    mine, other = await states(database, ours, ids), await states(database, theirs, ids)
    for i, row in enumerate(rows):
        state = mine[row["id"]]
        if i < 3:
            assert (state.status, state.attributes, state.event_count) == (
                "anchor",
                {"plan": f"p{i}"},
                99,
            )
        else:
            assert state.attributes == row["attributes"]
        untouched = other[row["id"]]
        assert untouched.status == "shadow"
        assert untouched.attributes == row["attributes"]


async def test_lookups_answer_only_the_tenants_rows(database: Database) -> None:
    ours, theirs = await new_tenant(database, "look-a"), await new_tenant(database, "look-b")

    async def write(session: Session) -> None:
        await ProfileRepository(session, theirs).insert_profiles([profile_row(0)])
        await ProfileRepository(session, ours).insert_profiles([profile_row(1)])

    await database.run(write)

    async def read(session: Session) -> list[tuple[Any, ...]]:
        found = await ProfileRepository(session, ours).lookup(
            PROFILES, ("id",), [pid(0), pid(1)], ("id", "event_count")
        )
        return [tuple(row) for row in found]

    assert await database.run(read) == [(pid(1), 1)]


async def test_a_failed_unit_of_work_takes_its_bulk_statements_with_it(
    database: Database,
) -> None:
    """Even when a statement sent to the driver is the transaction's first (PostgreSQL's
    adapter opens the transaction at its own first statement), a rollback undoes it."""
    tenant_id = await new_tenant(database, "rolled-back")
    many = [profile_row(i) for i in range(COPY_FROM)]

    class Boom(Exception):
        pass

    async def write_then_fail(session: Session) -> None:
        repo = ProfileRepository(session, tenant_id)
        await repo.insert_profiles(many[:1])  # an array INSERT first
        await repo.insert_profiles([*many[1:], profile_row(COPY_FROM)])  # then a COPY
        await repo.update_profiles([{"id": many[0]["id"], "event_count": 7}])
        raise Boom

    with recorded_statements(database) as statements, pytest.raises(Boom):
        await database.run(write_then_fail, attempts=1)
    assert len(statements) == 3

    assert await states(database, tenant_id, [pid(i) for i in range(COPY_FROM + 1)]) == {}
