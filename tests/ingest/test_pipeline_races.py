"""Races between transactions on the real PostgreSQL, below group commit: many concurrent
units of work (as from many processes) that meet the same new identifier end with exactly one
profile owning it (advisory locks + unique identities + retry)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest

from journeyline.config import Settings
from journeyline.ingest import pipeline
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.outcome import EventOutcome
from journeyline.store.db import Database, Session
from journeyline.store.repositories.profiles import ProfileRepository
from journeyline.tenancy import service as tenancy
from journeyline.tenancy.context import build_context

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 11, 23, tzinfo=UTC)


async def test_fifty_transactions_with_the_same_new_email_make_one_profile(
    database: Database, settings: Settings
) -> None:
    created = await database.run(lambda session: tenancy.create_tenant(session, "races"))
    context = build_context(created.tenant_id, "secret", {}, settings)

    def event(i: int) -> CanonicalEvent:
        return CanonicalEvent(
            event_type="identified",
            event_name="identify",
            source_type="internal",
            source="api",
            received_at=NOW,
            email="tx-race@x.io",
            anonymous_id=f"tx-anon-{i}",
            traits={"n": i},
        )

    def unit_of_work(i: int) -> Callable[[Session], Awaitable[list[EventOutcome]]]:
        return lambda session: pipeline.process(session, context, [event(i)], now=NOW)

    results = await asyncio.gather(*(database.run(unit_of_work(i)) for i in range(50)))
    profile_ids = {outcomes[0].profile_id for outcomes in results}
    assert len(profile_ids) == 1
    assert sum(1 for outcomes in results if outcomes[0].created_profile) == 1
    async with database.read() as session:
        repo = ProfileRepository(session, created.tenant_id)
        owners = await repo.owners_of(
            [("email", "tx-race@x.io")] + [("anonymous_id", f"tx-anon-{i}") for i in range(50)]
        )
    assert set(owners.values()) == profile_ids
    assert len(owners) == 51
