"""Group commit: concurrent requests share transactions, each gets exactly its own outcomes, a
failing request does not fail its neighbours, and shutdown answers everything submitted."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import event

from journeyline.config import Settings
from journeyline.errors import StorageUnavailable
from journeyline.ingest import pipeline
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.group_commit import GroupCommitter
from journeyline.ingest.outcome import EventOutcome
from journeyline.store.db import Database, Session
from journeyline.store.repositories.profiles import ProfileRepository
from journeyline.tenancy import service as tenancy
from journeyline.tenancy.context import TenantContext, build_context

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def identify(email: str, name: str = "identify", message_id: str | None = None) -> CanonicalEvent:
    return CanonicalEvent(
        event_type="identified",
        event_name=name,
        source_type="internal",
        source="api",
        received_at=NOW,
        email=email,
        traits={"email": email},
        external_event_id=message_id,
    )


async def new_context(database: Database, settings: Settings, name: str) -> TenantContext:
    created = await database.run(lambda session: tenancy.create_tenant(session, name))
    return build_context(created.tenant_id, "secret", {}, settings)


@contextmanager
def counted_commits(database: Database) -> Iterator[list[int]]:
    commits: list[int] = []

    def on_commit(_connection: object) -> None:
        commits.append(1)

    event.listen(database.engine.sync_engine, "commit", on_commit)
    try:
        yield commits
    finally:
        event.remove(database.engine.sync_engine, "commit", on_commit)


async def test_concurrent_requests_share_transactions_and_get_their_own_outcomes(
    database: Database, settings: Settings
) -> None:
    context = await new_context(database, settings, "group")
    committer = GroupCommitter.for_database(database)
    with counted_commits(database) as commits:
        try:
            results = await asyncio.gather(
                *(committer.submit(context, [identify(f"g{i}@x.io")]) for i in range(40))
            )
        finally:
            await committer.close()
    assert committer.stats.requests == 40
    assert committer.stats.groups < 40
    assert len(commits) == committer.stats.groups
    # Each request got one outcome, for its own email's profile.
    repo_owners = await owners(database, context, [f"g{i}@x.io" for i in range(40)])
    for i, outcomes in enumerate(results):
        assert len(outcomes) == 1
        assert outcomes[0].error is None
        assert outcomes[0].profile_id == repo_owners[f"g{i}@x.io"]
    assert len({o[0].event_id for o in results}) == 40


async def owners(
    database: Database, context: TenantContext, emails: list[str]
) -> dict[str, object]:
    async with database.read() as session:
        found = await ProfileRepository(session, context.tenant_id).owners_of(
            ("email", e) for e in emails
        )
    return {value: owner for (_kind, value), owner in found.items()}


async def test_a_group_equals_its_requests_run_in_order(
    database: Database, settings: Settings
) -> None:
    """Redeliveries and shared identities across requests of one group resolve as if sequential."""
    context = await new_context(database, settings, "ordered")
    committer = GroupCommitter.for_database(database)
    try:
        first, again, other = await asyncio.gather(
            committer.submit(context, [identify("same@x.io", message_id="m-1")]),
            committer.submit(context, [identify("same@x.io", message_id="m-1")]),
            committer.submit(context, [identify("same@x.io", name="later")]),
        )
    finally:
        await committer.close()
    assert not first[0].duplicate
    assert first[0].created_profile
    assert again[0].duplicate
    assert again[0].event_id == first[0].event_id
    assert not other[0].created_profile
    assert other[0].profile_id == first[0].profile_id


async def test_requests_of_two_tenants_in_one_group_stay_apart(
    database: Database, settings: Settings
) -> None:
    a = await new_context(database, settings, "group-a")
    b = await new_context(database, settings, "group-b")
    committer = GroupCommitter.for_database(database)
    try:
        in_a, in_b = await asyncio.gather(
            committer.submit(a, [identify("shared@x.io")]),
            committer.submit(b, [identify("shared@x.io")]),
        )
    finally:
        await committer.close()
    assert in_a[0].created_profile
    assert in_b[0].created_profile
    assert in_a[0].profile_id != in_b[0].profile_id
    assert (await owners(database, a, ["shared@x.io"]))["shared@x.io"] == in_a[0].profile_id
    assert (await owners(database, b, ["shared@x.io"]))["shared@x.io"] == in_b[0].profile_id


async def test_a_failing_request_does_not_fail_its_neighbours(
    database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = await new_context(database, settings, "isolation")
    real_process = pipeline.process

    async def process(
        session: Session, ctx: TenantContext, events: Sequence[CanonicalEvent]
    ) -> list[EventOutcome]:
        if any(e.event_name == "boom" for e in events):
            raise RuntimeError("a bug in one request")
        return await real_process(session, ctx, events)

    monkeypatch.setattr(pipeline, "process", process)
    committer = GroupCommitter.for_database(database)
    try:
        results = await asyncio.gather(
            committer.submit(context, [identify("ok1@x.io")]),
            committer.submit(context, [identify("bad@x.io", name="boom")]),
            committer.submit(context, [identify("ok2@x.io")]),
            return_exceptions=True,
        )
    finally:
        await committer.close()
    ok1, bad, ok2 = results
    assert isinstance(bad, RuntimeError)
    assert isinstance(ok1, list)
    assert isinstance(ok2, list)
    assert ok1[0].error is None
    assert ok2[0].error is None
    stored = await owners(database, context, ["ok1@x.io", "ok2@x.io", "bad@x.io"])
    assert set(stored) == {"ok1@x.io", "ok2@x.io"}


async def test_storage_down_fails_the_whole_group_with_503(
    database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = await new_context(database, settings, "down")

    async def unavailable(*_args: object, **_kwargs: object) -> list[EventOutcome]:
        raise StorageUnavailable("the database is unavailable")

    monkeypatch.setattr(pipeline, "process", unavailable)
    committer = GroupCommitter.for_database(database)
    try:
        results = await asyncio.gather(
            *(committer.submit(context, [identify(f"d{i}@x.io")]) for i in range(3)),
            return_exceptions=True,
        )
    finally:
        await committer.close()
    assert all(isinstance(r, StorageUnavailable) for r in results)
    assert committer.stats.solo_retries == 0


async def test_close_answers_what_was_submitted_then_refuses(
    database: Database, settings: Settings
) -> None:
    context = await new_context(database, settings, "closing")
    committer = GroupCommitter.for_database(database)
    # gather starts the submissions before close: close must drain them, not drop them.
    submissions = [committer.submit(context, [identify(f"c{i}@x.io")]) for i in range(5)]
    answers = await asyncio.gather(*submissions, committer.close())
    assert [a[0].error for a in answers[:5] if a is not None] == [None] * 5
    with pytest.raises(StorageUnavailable):
        await committer.submit(context, [identify("late@x.io")])


async def test_a_group_stops_growing_at_its_event_limit(
    database: Database, settings: Settings
) -> None:
    context = await new_context(database, settings, "limit")
    committer = GroupCommitter(database, max_inflight=1, max_group_events=4)
    try:
        await asyncio.gather(
            *(
                committer.submit(context, [identify(f"l{i}-{j}@x.io") for j in range(2)])
                for i in range(6)
            )
        )
    finally:
        await committer.close()
    assert committer.stats.events == 12
    assert committer.stats.groups >= 3
