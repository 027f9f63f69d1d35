"""Messages leave with the commit: a committed unit of work publishes what the pipeline left
for it, a rolled-back or retried one publishes nothing of what it undid, and a publisher's
failure never fails a unit that committed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from journeyline.config import Settings
from journeyline.ingest import pipeline
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.realtime.messages import message
from journeyline.store.db import Database, Session, leave_for_commit
from journeyline.tenancy import service as tenancy
from journeyline.tenancy.context import TenantContext, build_context

NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)


class Recorder:
    def __init__(self, *, fail: bool = False) -> None:
        self.published: list[list[dict[str, Any]]] = []
        self.fail = fail

    async def publish(self, messages: Sequence[dict[str, Any]]) -> None:
        if self.fail:
            raise ConnectionError("the broker is down")
        self.published.append(list(messages))

    @property
    def types(self) -> list[str]:
        return [item["type"] for batch in self.published for item in batch]


@pytest.fixture
def recorder(database: Database) -> Iterator[Recorder]:
    """Stands in for the app's broker on the shared database for one test."""
    before = database.publisher
    database.publisher = recorder = Recorder()
    yield recorder
    database.publisher = before


async def context_for(database: Database, settings: Settings, name: str) -> TenantContext:
    created = await database.run(lambda session: tenancy.create_tenant(session, name))
    return build_context(created.tenant_id, "secret", {}, settings)


async def test_a_committed_unit_publishes_once_after_its_commit(
    database: Database, settings: Settings, recorder: Recorder
) -> None:
    context = await context_for(database, settings, "outbox-commit")

    async def work(session: Session) -> None:
        leave_for_commit(session, [message(context.tenant_id, "crm.deal", {"n": 1})])
        leave_for_commit(session, [message(context.tenant_id, "crm.deal", {"n": 2})])
        assert recorder.published == [], "nothing leaves before the commit"

    await database.run(work)
    assert [[m["data"] for m in batch] for batch in recorder.published] == [[{"n": 1}, {"n": 2}]]


async def test_a_rolled_back_unit_publishes_nothing(
    database: Database, settings: Settings, recorder: Recorder
) -> None:
    context = await context_for(database, settings, "outbox-rollback")

    async def work(session: Session) -> None:
        leave_for_commit(session, [message(context.tenant_id, "crm.deal", {})])
        raise ValueError("the unit fails")

    with pytest.raises(ValueError, match="the unit fails"):
        await database.run(work)
    assert recorder.published == []


async def test_a_retried_unit_publishes_only_what_its_committed_attempt_left(
    database: Database, settings: Settings, recorder: Recorder
) -> None:
    context = await context_for(database, settings, "outbox-retry")
    attempts: list[int] = []

    async def work(session: Session) -> None:
        attempts.append(len(attempts) + 1)
        leave_for_commit(session, [message(context.tenant_id, "crm.deal", {"try": len(attempts)})])
        if len(attempts) == 1:
            raise IntegrityError("INSERT", None, Exception("a unique-key race"))

    await database.run(work)
    assert attempts == [1, 2]
    assert [m["data"] for batch in recorder.published for m in batch] == [{"try": 2}]


async def test_a_failing_publisher_does_not_fail_a_committed_unit(
    database: Database, settings: Settings, recorder: Recorder
) -> None:
    context = await context_for(database, settings, "outbox-broken")
    recorder.fail = True
    events = [
        CanonicalEvent(
            event_type="identified",
            event_name="identify",
            source_type="internal",
            source="api",
            received_at=NOW,
            email="broken-broker@x.io",
        )
    ]
    outcomes = await database.run(lambda s: pipeline.process(s, context, events, now=NOW))
    assert outcomes[0].error is None
    assert outcomes[0].event_id is not None
