"""The graph's stored part against the real database: campaign and channel counters, re-sync
counters and stage rows, each tenant's own."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from journeyline.graph.stages import STAGE_RANK, Stage
from journeyline.ids import uuid7
from journeyline.store.db import Database, Session
from journeyline.store.repositories.graph import GraphRepository, SharedRecord, StageRecord

T = TypeVar("T")
T0 = datetime(2026, 11, 22, 10, tzinfo=UTC)
SHADOW, SURVIVOR, OTHER = uuid.UUID(int=1), uuid.UUID(int=2), uuid.UUID(int=3)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def on(
    database: Database, tenant_id: uuid.UUID, work: Callable[[GraphRepository], Awaitable[T]]
) -> T:
    async def unit(session: Session) -> T:
        return await work(GraphRepository(session, tenant_id))

    return await database.run(unit)


def shared_row(
    key: str, touchpoints: int, first: int, last: int, name: str | None = None
) -> dict[str, Any]:
    return {
        "type": "Campaign",
        "key": key,
        "name": name,
        "touchpoints": touchpoints,
        "first_seen_at": at(first),
        "last_seen_at": at(last),
    }


def stage_row(
    profile_id: uuid.UUID, stage: Stage, number: int, origin: uuid.UUID | None = None
) -> dict[str, Any]:
    return {
        "origin_profile_id": profile_id if origin is None else origin,
        "stage": stage,
        "profile_id": profile_id,
        "rank": STAGE_RANK[stage],
        "event_id": uuid.UUID(int=100 + number),
        "event_type": "purchase_completed" if stage == "conversion" else "page_viewed",
        "occurred_at": at(number),
        "revenue": 10.0 if stage == "conversion" else None,
        "currency": "USD" if stage == "conversion" else None,
    }


def owners(records: Sequence[StageRecord]) -> set[tuple[uuid.UUID, uuid.UUID, str]]:
    """(profile, origin, stage) of each row."""
    return {(r.profile_id, r.origin_profile_id, r.stage) for r in records}


async def stages(database: Database, tenant_id: uuid.UUID) -> set[tuple[uuid.UUID, uuid.UUID, str]]:
    return owners(await on(database, tenant_id, lambda r: r.stages_of([SHADOW, SURVIVOR, OTHER])))


async def add_stages(
    database: Database, tenant_id: uuid.UUID, rows: Sequence[dict[str, Any]]
) -> None:
    await on(database, tenant_id, lambda r: r.add_stages(rows))


async def count_shared(
    database: Database, tenant_id: uuid.UUID, rows: Sequence[dict[str, Any]]
) -> None:
    await on(database, tenant_id, lambda r: r.count_shared(rows))


# --- campaign and channel counters -----------------------------------------------------------


async def test_count_shared_adds_touchpoints_and_keeps_the_first_and_last_seen(
    database: Database,
) -> None:
    tenant = uuid7()
    await on(database, tenant, lambda r: r.count_shared([shared_row("spring", 2, 10, 20)]))
    await on(database, tenant, lambda r: r.count_shared([shared_row("spring", 3, 5, 15)]))
    await on(database, tenant, lambda r: r.count_shared([shared_row("spring", 1, 12, 30)]))
    assert await on(database, tenant, lambda r: r.shared_nodes()) == [
        SharedRecord("Campaign", "spring", None, 6, at(5), at(30))
    ]


async def test_count_shared_takes_a_given_name_and_keeps_it_when_none_is_given(
    database: Database,
) -> None:
    tenant = uuid7()
    for name in ("Spring", None, "Spring sale", None):
        await count_shared(database, tenant, [shared_row("spring", 1, 0, 0, name)])
    [record] = await on(database, tenant, lambda r: r.shared_nodes())
    assert record.name == "Spring sale"


async def test_count_shared_keeps_one_counter_per_type_and_key(database: Database) -> None:
    tenant = uuid7()
    rows = [
        shared_row("spring", 1, 0, 0),
        {**shared_row("spring", 2, 0, 0), "type": "Channel"},
        shared_row("fall", 3, 0, 0),
    ]
    await on(database, tenant, lambda r: r.count_shared(rows))
    found = await on(database, tenant, lambda r: r.shared_nodes())
    assert [(s.type, s.key, s.touchpoints) for s in found] == [
        ("Campaign", "fall", 3),
        ("Campaign", "spring", 1),
        ("Channel", "spring", 2),
    ]


# --- re-sync counters ------------------------------------------------------------------------


async def test_count_resyncs_adds_redeliveries_and_keeps_the_latest_sync(
    database: Database,
) -> None:
    tenant, event = uuid7(), uuid7()
    first = {"event_id": event, "redeliveries": 2, "last_synced_at": at(30)}
    late = {"event_id": event, "redeliveries": 1, "last_synced_at": at(10)}
    await on(database, tenant, lambda r: r.count_resyncs([first]))
    await on(database, tenant, lambda r: r.count_resyncs([late]))
    assert await on(database, tenant, lambda r: r.resyncs_of([event])) == {event: (3, at(30))}


# --- stage rows ------------------------------------------------------------------------------


async def test_move_stages_gives_the_survivor_the_rows_keeping_their_origin(
    database: Database,
) -> None:
    tenant = uuid7()
    await add_stages(
        database,
        tenant,
        [stage_row(SHADOW, "awareness", 1), stage_row(SURVIVOR, "conversion", 2)],
    )
    await on(database, tenant, lambda r: r.move_stages({SHADOW: SURVIVOR}))
    assert await stages(database, tenant) == {
        (SURVIVOR, SHADOW, "awareness"),
        (SURVIVOR, SURVIVOR, "conversion"),
    }


async def test_return_stages_gives_back_only_the_rows_of_the_restored_family(
    database: Database,
) -> None:
    tenant = uuid7()
    await add_stages(
        database,
        tenant,
        [
            stage_row(SURVIVOR, "awareness", 1, origin=SHADOW),
            stage_row(SURVIVOR, "interest", 2, origin=OTHER),
            stage_row(SURVIVOR, "conversion", 3),
        ],
    )
    await on(database, tenant, lambda r: r.return_stages(SURVIVOR, SHADOW, [SHADOW]))
    assert await stages(database, tenant) == {
        (SHADOW, SHADOW, "awareness"),
        (SURVIVOR, OTHER, "interest"),
        (SURVIVOR, SURVIVOR, "conversion"),
    }


async def test_stage_rows_read_back_as_written(database: Database) -> None:
    tenant = uuid7()
    await add_stages(database, tenant, [stage_row(SURVIVOR, "conversion", 4)])
    assert await on(database, tenant, lambda r: r.stages_at("conversion")) == [
        StageRecord(
            SURVIVOR,
            SURVIVOR,
            "conversion",
            uuid.UUID(int=104),
            "purchase_completed",
            at(4),
            10.0,
            "USD",
        )
    ]


async def test_stage_counts_take_each_customers_furthest_stage(database: Database) -> None:
    tenant = uuid7()
    await add_stages(
        database,
        tenant,
        [
            stage_row(SURVIVOR, "awareness", 1),
            stage_row(SURVIVOR, "conversion", 2),
            stage_row(SURVIVOR, "awareness", 3, origin=SHADOW),
            stage_row(OTHER, "awareness", 4),
        ],
    )
    assert await on(database, tenant, _counts) == ({0: 1, 3: 1}, 3, {"awareness", "conversion"})


async def _counts(repo: GraphRepository) -> tuple[dict[int, int], int, set[str]]:
    return (
        await repo.current_stage_counts(),
        await repo.contribution_count(),
        set(await repo.reached_stages()),
    )


# --- rebuild ---------------------------------------------------------------------------------


async def _reset_and_read(
    repo: GraphRepository, event: uuid.UUID
) -> tuple[list[StageRecord], list[SharedRecord], dict[uuid.UUID, tuple[int, datetime]]]:
    await repo.reset()
    return (
        await repo.stages_of([SURVIVOR]),
        await repo.shared_nodes(),
        await repo.resyncs_of([event]),
    )


async def test_reset_clears_stages_and_counters_but_keeps_the_resyncs(database: Database) -> None:
    tenant, event = uuid7(), uuid7()
    await add_stages(database, tenant, [stage_row(SURVIVOR, "awareness", 1)])
    await on(database, tenant, lambda r: r.count_shared([shared_row("spring", 1, 0, 0)]))
    resync = {"event_id": event, "redeliveries": 1, "last_synced_at": at(5)}
    await on(database, tenant, lambda r: r.count_resyncs([resync]))
    assert await on(database, tenant, lambda r: _reset_and_read(r, event)) == (
        [],
        [],
        {event: (1, at(5))},
    )


# --- tenants ---------------------------------------------------------------------------------


async def test_another_tenants_stage_rows_are_not_seen(database: Database) -> None:
    ours, theirs = uuid7(), uuid7()
    await add_stages(database, theirs, [stage_row(SURVIVOR, "awareness", 1)])
    assert await stages(database, ours) == set()
    assert await on(database, ours, lambda r: r.stages_at("awareness")) == []


async def test_moves_and_returns_leave_another_tenants_rows_untouched(database: Database) -> None:
    ours, theirs = uuid7(), uuid7()
    rows = [stage_row(SHADOW, "awareness", 1), stage_row(SURVIVOR, "interest", 2, origin=OTHER)]
    await add_stages(database, ours, rows)
    await add_stages(database, theirs, rows)
    await on(database, ours, lambda r: r.move_stages({SHADOW: SURVIVOR}))
    await on(database, ours, lambda r: r.return_stages(SURVIVOR, OTHER, [OTHER]))
    assert await stages(database, theirs) == {
        (SHADOW, SHADOW, "awareness"),
        (SURVIVOR, OTHER, "interest"),
    }


async def test_counters_are_per_tenant(database: Database) -> None:
    ours, theirs, event = uuid7(), uuid7(), uuid7()
    resync = {"event_id": event, "redeliveries": 1, "last_synced_at": at(5)}
    for tenant in (ours, theirs):
        await on(database, tenant, lambda r: r.count_shared([shared_row("spring", 2, 0, 0)]))
        await on(database, tenant, lambda r: r.count_resyncs([resync]))
    assert [s.touchpoints for s in await on(database, ours, lambda r: r.shared_nodes())] == [2]
    assert await on(database, ours, lambda r: r.all_resyncs()) == {event: (1, at(5))}


async def test_reset_leaves_another_tenants_rows(database: Database) -> None:
    ours, theirs = uuid7(), uuid7()
    await add_stages(database, theirs, [stage_row(SURVIVOR, "awareness", 1)])
    await on(database, theirs, lambda r: r.count_shared([shared_row("spring", 1, 0, 0)]))
    await on(database, ours, lambda r: r.reset())
    assert await stages(database, theirs) == {(SURVIVOR, SURVIVOR, "awareness")}
    assert len(await on(database, theirs, lambda r: r.shared_nodes())) == 1
