"""Backfill import on the lane's database: counts, line numbers, re-runs, dialect detection."""

from __future__ import annotations

from journeyline.config import Settings
from journeyline.ingest.importer import dialect_of, import_lines
from journeyline.store.db import Database
from journeyline.store.repositories.profiles import ProfileRepository
from journeyline.tenancy import service as tenancy
from journeyline.tenancy.context import TenantContext, build_context

LINES = [
    b'{"event_type": "identify", "identity": "imp@x.io", "payload": {"plan": "pro"}}',
    b'{"type": "track", "action": "paid", "email": "imp@x.io", "properties": {"amount": 5}}',
    b"not json at all",
    b'{"type": "track"}',
    b"   ",
    b'{"event_type": "page", "anonymous_id": "imp-visitor"}',
    b'{"event_type": "page", "anonymous_id": "imp-visitor"}',
]


async def context_for(database: Database, settings: Settings, name: str) -> TenantContext:
    created = await database.run(lambda session: tenancy.create_tenant(session, name))
    return build_context(created.tenant_id, "secret", {}, settings)


async def run(database: Database, context: TenantContext, chunk_size: int = 2) -> tuple[int, ...]:
    progress: list[int] = []
    summary = await import_lines(
        database,
        context,
        enumerate(LINES, start=1),
        dialect=None,
        chunk_size=chunk_size,
        max_event_bytes=32 * 1024,
        max_depth=64,
        on_chunk=lambda lines, _size: progress.append(lines),
    )
    assert sum(progress) == 6  # every non-blank line reported, chunk by chunk
    return (summary.lines, summary.stored, summary.duplicates, *(f.line for f in summary.failed))


async def test_an_import_counts_every_line_and_names_the_failed_ones(
    database: Database, settings: Settings
) -> None:
    context = await context_for(database, settings, "import")
    # Two byte-identical page lines are one event: the second is a duplicate of the first.
    assert await run(database, context) == (7, 3, 1, 3, 4)
    async with database.read() as session:
        owner = await ProfileRepository(session, context.tenant_id).owners_of(
            [("email", "imp@x.io"), ("anonymous_id", "imp-visitor")]
        )
    assert len(owner) == 2


async def test_running_an_import_again_adds_nothing(database: Database, settings: Settings) -> None:
    context = await context_for(database, settings, "import-twice")
    await run(database, context, chunk_size=3)
    assert await run(database, context, chunk_size=5) == (7, 0, 4, 3, 4)


async def test_an_import_writes_only_into_its_tenant(
    database: Database, settings: Settings
) -> None:
    mine = await context_for(database, settings, "import-mine")
    other = await context_for(database, settings, "import-other")
    await run(database, mine)
    async with database.read() as session:
        found = await ProfileRepository(session, other.tenant_id).owners_of([("email", "imp@x.io")])
    assert found == {}
    # The same file in the other tenant is stored anew there, not taken for a duplicate.
    assert (await run(database, other))[1] == 3


def test_the_dialect_is_read_per_line_unless_asked() -> None:
    assert dialect_of({"event_type": "track"}, None) == "keystone"
    assert dialect_of({"type": "track"}, None) == "marketing"
    assert dialect_of({"type": "track"}, "keystone") == "keystone"
