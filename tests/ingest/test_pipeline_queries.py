"""Bulk-first: a chunk costs the same handful of statements whether it holds 1 event or 200."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from journeyline.config import Settings
from journeyline.ids import uuid7
from journeyline.ingest import pipeline
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.store.db import (
    Database,
    Session,
    driver_statements,
    is_retryable,
    recorded_statements,
)
from journeyline.store.models import Event
from journeyline.store.repositories.events import EventRepository
from journeyline.store.repositories.graph import GraphRepository
from journeyline.store.repositories.scoped import COPY_FROM
from journeyline.tenancy import service as tenancy
from journeyline.tenancy.context import TenantContext, build_context

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def chunk(size: int, tag: str) -> list[CanonicalEvent]:
    return [
        CanonicalEvent(
            event_type="identified",
            event_name="identify",
            source_type="internal",
            source="api",
            received_at=NOW,
            email=f"{tag}{i}@x.io",
            anonymous_id=f"{tag}-anon-{i}",
            traits={"n": i},
        )
        for i in range(size)
    ]


async def context_for(database: Database, settings: Settings) -> TenantContext:
    created = await database.run(lambda session: tenancy.create_tenant(session, "queries"))
    return build_context(created.tenant_id, "secret", {}, settings)


async def count_statements(
    database: Database, settings: Settings, size: int, tag: str
) -> list[str]:
    context = await context_for(database, settings)
    events = chunk(size, tag)
    with recorded_statements(database) as statements:
        await database.run(lambda session: pipeline.process(session, context, events, now=NOW))
    return statements


def identity_lookups(statements: list[str]) -> int:
    return sum(
        1 for s in statements if s.lstrip().upper().startswith("SELECT") and "FROM identities" in s
    )


async def test_identifiers_of_a_chunk_are_read_in_a_fixed_number_of_queries(
    database: Database, settings: Settings
) -> None:
    """One lookup resolves the chunk's identifiers; one more reads the emails and phones of the
    chunk's persons for the CRM. Neither grows with the chunk."""
    one = await count_statements(database, settings, 1, "one")
    many = await count_statements(database, settings, 200, "many")
    assert identity_lookups(one) == identity_lookups(many) == 2


async def test_statement_count_does_not_grow_with_the_chunk(
    database: Database, settings: Settings
) -> None:
    one = await count_statements(database, settings, 1, "s1")
    many = await count_statements(database, settings, 200, "s200")
    assert len(many) <= len(one) + 2


def identify(tag: str, **identifiers: str) -> CanonicalEvent:
    return CanonicalEvent(
        event_type="identified",
        event_name=tag,
        source_type="internal",
        source="api",
        received_at=NOW,
        traits={"tag": tag},
        **identifiers,  # type: ignore[arg-type]  # only identifier fields are passed
    )


async def merge_statements(database: Database, settings: Settings, merges: int) -> list[str]:
    """Statements of one chunk in which `merges` shadows each meet their anchor."""
    context = await context_for(database, settings)
    setup = [identify("shadow", anonymous_id=f"m{merges}-a{i}") for i in range(merges)]
    setup += [identify("anchor", email=f"m{merges}-{i}@x.io") for i in range(merges)]
    await database.run(lambda session: pipeline.process(session, context, setup, now=NOW))
    meeting = [
        identify("meet", anonymous_id=f"m{merges}-a{i}", email=f"m{merges}-{i}@x.io")
        for i in range(merges)
    ]
    with recorded_statements(database) as statements:
        outcomes = await database.run(
            lambda session: pipeline.process(session, context, meeting, now=NOW)
        )
    assert all(len(outcome.merged_profile_ids) == 1 for outcome in outcomes)
    return statements


async def test_merges_cost_the_same_statements_whether_one_or_fifty(
    database: Database, settings: Settings
) -> None:
    one = await merge_statements(database, settings, 1)
    fifty = await merge_statements(database, settings, 50)
    # At most equal: on PostgreSQL fifty events are appended by COPY, which is no statement.
    assert len(fifty) <= len(one)


async def test_a_large_chunk_is_stored_exactly_as_a_small_one(
    database: Database, settings: Settings
) -> None:
    """A chunk past COPY_FROM goes by COPY on PostgreSQL: the rows must not differ from INSERT's."""
    context = await context_for(database, settings)

    def rich(index: int, tag: str) -> CanonicalEvent:
        return CanonicalEvent(
            event_type="order_completed",
            event_name="Order Completed",
            source_type="internal",
            source="api",
            received_at=NOW,
            occurred_at=datetime(2026, 11, 1, 12, 30, tzinfo=UTC),
            payload={"order_id": f"o-{index}", "total": 10.5, "items": [{"sku": "A", "qty": 2}]},
            raw_payload=None,
            traits={"plan": "pro", "nested": {"a": None}} if index % 2 else None,
            email=f"{tag}-{index}@x.io" if index % 3 else None,
            anonymous_id=f"{tag}-anon-{index}",
            external_event_id=f"{tag}-{index}",
        )

    small = [rich(0, "small"), rich(1, "small")]
    large = [rich(i, "large") for i in range(COPY_FROM + 10)]
    await database.run(lambda session: pipeline.process(session, context, small, now=NOW))
    await database.run(lambda session: pipeline.process(session, context, large, now=NOW))
    async with database.read() as session:
        stored = {
            row.external_event_id: row
            for row in await EventRepository(session, context.tenant_id).log_page(None, 500)
        }

    def comparable(row: Event) -> tuple[object, ...]:
        return (
            row.event_type,
            row.event_name,
            row.payload,
            row.raw_payload,
            row.traits,
            {k: v for k, v in (row.identifiers or {}).items() if k != "email"},
            row.occurred_at,
            row.received_at,
            row.source_type,
        )

    for index in (0, 1):
        assert comparable(stored[f"small-{index}"]) == comparable(stored[f"large-{index}"])
    assert stored["large-1"].identifiers == {"email": "large-1@x.io"}
    assert stored["large-0"].identifiers is None


async def test_a_copy_that_breaks_a_unique_key_is_a_retryable_integrity_error(
    database: Database, settings: Settings
) -> None:
    """COPY bypasses SQLAlchemy's error wrapping; append_rows restores it, so the unit of work
    retries a unique-key race raised by COPY as it does one raised by INSERT."""
    context = await context_for(database, settings)
    rows = [
        {
            "origin_profile_id": uuid7(),
            "stage": "awareness",
            "profile_id": uuid7(),
            "rank": 0,
            "event_id": uuid7(),
            "event_type": "page_viewed",
            "occurred_at": datetime(2026, 11, 22, tzinfo=UTC),
            "revenue": None,
            "currency": None,
        }
        for _index in range(COPY_FROM)
    ]

    async def twice(session: Session) -> None:
        repo = GraphRepository(session, context.tenant_id)
        await repo.add_stages(rows)
        await repo.add_stages(rows)

    with pytest.raises(IntegrityError) as raised:
        await database.run(twice, attempts=1)
    assert is_retryable(raised.value)


@contextlib.contextmanager
def rows_touched(database: Database) -> Iterator[list[tuple[str, int]]]:
    """(statement, rows it wrote) of every INSERT, UPDATE and DELETE inside the block."""
    touched: list[tuple[str, int]] = []

    def note(statement: str, rows: int) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in {"INSERT", "UPDATE", "DELETE", "COPY"}:
            touched.append((statement, rows))

    def record(_conn: object, cursor: Any, statement: str, *_args: object) -> None:
        note(statement, max(int(cursor.rowcount), 0))

    event.listen(database.engine.sync_engine, "after_cursor_execute", record)
    try:
        with driver_statements(database, note):
            yield touched
    finally:
        event.remove(database.engine.sync_engine, "after_cursor_execute", record)


def page_view(anonymous_id: str, index: int) -> CanonicalEvent:
    return CanonicalEvent(
        event_type="page_viewed",
        event_name="page",
        source_type="direct",
        source="web",
        received_at=NOW,
        occurred_at=NOW + timedelta(seconds=index),
        anonymous_id=anonymous_id,
        payload={"url": f"https://shop.example/p/{index}", "utm_campaign": f"c{index % 7}"},
    )


async def merge_cost(
    database: Database, settings: Settings, history: int
) -> tuple[list[str], list[tuple[str, int]]]:
    """The statements and the rows written by the identify that collapses a shadow holding
    `history` page views (written as the batch path does, 1,000 per chunk) into its anchor."""
    context = await context_for(database, settings)
    anonymous_id = f"flat-{history}"
    views = [page_view(anonymous_id, index) for index in range(history)]
    for start in range(0, history, 1000):

        async def write(
            session: Session, part: list[CanonicalEvent] = views[start : start + 1000]
        ) -> None:
            await pipeline.process(session, context, part, now=NOW)

        await database.run(write)
    anchor = [identify("anchor", email=f"flat-{history}@x.io")]
    await database.run(lambda session: pipeline.process(session, context, anchor, now=NOW))
    meeting = [identify("meet", anonymous_id=anonymous_id, email=f"flat-{history}@x.io")]
    with recorded_statements(database) as statements, rows_touched(database) as touched:
        outcomes = await database.run(
            lambda session: pipeline.process(session, context, meeting, now=NOW)
        )
    assert len(outcomes[0].merged_profile_ids) == 1
    return statements, touched


async def test_a_merge_costs_the_same_for_a_shadow_of_ten_events_as_of_ten_thousand(
    database: Database, settings: Settings
) -> None:
    """DESIGN §3 and §5: events are never rewritten and no projection keeps a row per event
    that a merge would move, so the merge's statements and the rows they write do not depend on
    the length of the shadow's history."""
    short_statements, short_rows = await merge_cost(database, settings, 10)
    long_statements, long_rows = await merge_cost(database, settings, 10_000)
    assert len(long_statements) == len(short_statements)
    assert [count for _statement, count in long_rows] == [count for _s, count in short_rows]
    assert sum(count for _statement, count in long_rows) < 20
