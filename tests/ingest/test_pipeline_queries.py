"""Bulk-first: a chunk costs the same handful of statements whether it holds 1 event or 200."""

from __future__ import annotations

from datetime import UTC, datetime

from journeyline.config import Settings
from journeyline.ingest import pipeline
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.store.db import Database, recorded_statements
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


async def test_identifiers_of_a_chunk_are_looked_up_in_one_query(
    database: Database, settings: Settings
) -> None:
    one = await count_statements(database, settings, 1, "one")
    many = await count_statements(database, settings, 200, "many")
    assert identity_lookups(one) == identity_lookups(many) == 1


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
    assert len(fifty) == len(one)
