"""Batch jobs below the API: checkpointed chunks resume exactly once after a crash, a worker
that lost its lease commits nothing, the sweeper finds what was left behind."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from journeyline.config import Settings, WorkerSettings
from journeyline.ingest import batches, pipeline
from journeyline.ingest.batches import JobRef
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.outcome import EventOutcome
from journeyline.statuses import JobStatus
from journeyline.store.db import Database, Session
from journeyline.store.models import Event
from journeyline.store.repositories.jobs import JobRepository
from journeyline.tenancy import service as tenancy
from journeyline.tenancy.context import TenantContext, build_context


class WorkerKilled(BaseException):
    """Stands for SIGKILL inside one process: nothing after it runs, nothing is committed."""


def worker_settings(settings: Settings, **overrides: Any) -> Settings:
    options = WorkerSettings(**{"batch_chunk_size": 100, **overrides})
    return settings.model_copy(update={"worker": options})


async def new_job(
    database: Database, settings: Settings, count: int, name: str
) -> tuple[TenantContext, JobRef]:
    created = await database.run(lambda session: tenancy.create_tenant(session, name))
    context = build_context(created.tenant_id, "secret", {}, settings)
    # No message ids and no timestamps: nothing but the checkpoint keeps a retry exactly-once.
    items = [
        {"event_type": "track", "event_name": "Tick", "anonymous_id": f"a{i % 9}"}
        for i in range(count)
    ]
    job_id = await batches.accept(database, context, items, dialect="keystone")
    return context, JobRef(context.tenant_id, job_id)


async def stored_events(database: Database, context: TenantContext) -> int:
    async with database.read() as session:
        total = await session.scalar(
            select(func.count()).select_from(Event).where(Event.tenant_id == context.tenant_id)
        )
    return int(total or 0)


async def test_a_killed_run_resumes_at_its_checkpoint_and_stores_each_event_once(
    database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = worker_settings(settings, lease_seconds=0)
    context, ref = await new_job(database, settings, 350, "killed")
    real_process = pipeline.process
    calls = 0

    async def dies_in_the_third_chunk(
        session: Session, ctx: TenantContext, events: Sequence[CanonicalEvent], **kw: Any
    ) -> list[EventOutcome]:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise WorkerKilled
        return await real_process(session, ctx, events, **kw)

    monkeypatch.setattr(pipeline, "process", dies_in_the_third_chunk)
    with pytest.raises(WorkerKilled):
        await batches.run_job(database, ref, options)
    job = await batches.get_job(database, ref.tenant_id, ref.job_id)
    assert job is not None
    assert (job.status, job.position, job.stored) == ("processing", 200, 200)
    assert await stored_events(database, context) == 200

    monkeypatch.setattr(pipeline, "process", real_process)
    assert await batches.run_job(database, ref, options) == "completed"
    job = await batches.get_job(database, ref.tenant_id, ref.job_id)
    assert job is not None
    assert (job.status, job.position, job.stored, job.attempts) == ("completed", 350, 350, 2)
    assert job.body is None
    assert await stored_events(database, context) == 350


async def test_a_held_lease_keeps_other_workers_off(database: Database, settings: Settings) -> None:
    context, ref = await new_job(database, settings, 5, "held")
    now = datetime.now(UTC)

    async def claim(session: Session) -> bool:
        return await JobRepository(session, ref.tenant_id).claim(
            ref.job_id, "someone-else", now + timedelta(minutes=5), now
        )

    assert await database.run(claim)
    assert await batches.run_job(database, ref, worker_settings(settings)) == "not_claimed"
    assert await stored_events(database, context) == 0


# PostgreSQL only: on SQLite the one writer cannot let a second claim in during a chunk.
@pytest.mark.postgres
async def test_a_worker_that_lost_its_lease_commits_nothing(
    database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = worker_settings(settings, lease_seconds=0)
    context, ref = await new_job(database, settings, 250, "lost")
    real_process = pipeline.process
    calls = 0

    async def taken_over_during_the_second_chunk(
        session: Session, ctx: TenantContext, events: Sequence[CanonicalEvent], **kw: Any
    ) -> list[EventOutcome]:
        nonlocal calls
        calls += 1
        outcomes = await real_process(session, ctx, events, **kw)
        if calls == 2:
            # Another worker claims the job (our lease has run out) while we still work.
            async def steal(other: Session) -> bool:
                later = datetime.now(UTC) + timedelta(seconds=1)
                return await JobRepository(other, ref.tenant_id).claim(
                    ref.job_id, "thief", later + timedelta(minutes=5), later
                )

            assert await database.run(steal)
        return outcomes

    monkeypatch.setattr(pipeline, "process", taken_over_during_the_second_chunk)
    assert await batches.run_job(database, ref, options) == "lease_lost"
    assert await stored_events(database, context) == 100


async def test_the_sweeper_finds_jobs_left_queued_or_under_an_expired_lease(
    database: Database, settings: Settings
) -> None:
    options = worker_settings(settings, stale_queued_seconds=30)
    _, waiting = await new_job(database, settings, 3, "sweep-waiting")
    _, fresh = await new_job(database, settings, 3, "sweep-fresh")
    _, orphaned = await new_job(database, settings, 3, "sweep-orphaned")
    _, done = await new_job(database, settings, 3, "sweep-done")
    now = datetime.now(UTC)
    assert await batches.run_job(database, done, options) == "completed"

    async def age(session: Session) -> None:
        jobs = JobRepository(session, waiting.tenant_id)
        job = await jobs.get(waiting.job_id)
        assert job is not None
        job.updated_at = now - timedelta(minutes=5)
        assert await JobRepository(session, orphaned.tenant_id).claim(
            orphaned.job_id, "dead-worker", now - timedelta(seconds=1), now - timedelta(minutes=2)
        )

    await database.run(age)
    stale = set(await batches.find_stale(database, options, now=now))
    assert waiting in stale
    assert orphaned in stale
    assert fresh not in stale
    assert done not in stale


async def test_a_job_that_keeps_killing_its_workers_is_failed(
    database: Database, settings: Settings
) -> None:
    options = worker_settings(settings, lease_seconds=0, max_attempts=2)
    context, ref = await new_job(database, settings, 3, "poison")
    now = datetime.now(UTC)
    for attempt in range(2):

        async def claim(session: Session, attempt: int = attempt) -> bool:
            return await JobRepository(session, ref.tenant_id).claim(
                ref.job_id, f"w{attempt}", now - timedelta(seconds=1), now
            )

        assert await database.run(claim)
    assert await batches.run_job(database, ref, options) == "failed"
    job = await batches.get_job(database, ref.tenant_id, ref.job_id)
    assert job is not None
    assert job.status == "failed"
    assert job.body is not None  # kept: a failed job's events are not in the log
    assert await stored_events(database, context) == 0


async def test_an_event_the_database_refuses_fails_alone_and_the_job_completes(
    database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever no adapter catches and the database refuses (PostgreSQL refused NUL so, on every
    retry, failing the whole job): its chunk is halved until the event is alone, then it is
    listed by its index and the rest is stored."""
    created = await database.run(lambda session: tenancy.create_tenant(session, "refused"))
    context = build_context(created.tenant_id, "secret", {}, settings)
    items = [
        {"event_type": "track", "event_name": "Poison" if i == 137 else "Tick", "anonymous_id": "a"}
        for i in range(250)
    ]
    job_id = await batches.accept(database, context, items, dialect="keystone")
    real_process = pipeline.process

    async def refuses_the_poison(
        session: Session, ctx: TenantContext, events: Sequence[CanonicalEvent], **kw: Any
    ) -> list[EventOutcome]:
        if any(event.event_name == "Poison" for event in events):
            raise RuntimeError("the database refused a value")
        return await real_process(session, ctx, events, **kw)

    monkeypatch.setattr(pipeline, "process", refuses_the_poison)
    ref = JobRef(context.tenant_id, job_id)
    assert await batches.run_job(database, ref, worker_settings(settings)) == "completed"
    job = await batches.get_job(database, ref.tenant_id, ref.job_id)
    assert job is not None
    assert (job.status, job.position, job.stored, job.failed) == ("completed", 250, 249, 1)
    assert [(e["index"], e["code"]) for e in job.errors] == [(137, "unstorable")]
    assert await stored_events(database, context) == 249


@pytest.mark.parametrize(
    ("status", "failed", "outcome"),
    [
        ("queued", 0, "pending"),
        ("processing", 3, "pending"),
        ("completed", 0, "succeeded"),
        ("completed", 1, "completed_with_errors"),
        ("failed", 0, "failed"),
    ],
)
def test_a_jobs_outcome_says_whether_every_event_was_taken(
    status: JobStatus, failed: int, outcome: str
) -> None:
    assert batches.job_outcome(status, failed) == outcome


@pytest.mark.parametrize(
    ("status", "total", "processed", "failed", "summary"),
    [
        ("processing", 10_000, 2_500, 0, "processing: 2,500 of 10,000 events handled so far"),
        ("completed", 3, 3, 0, "completed: all 3 events taken"),
        ("completed", 3, 3, 2, "completed with errors: 2 of 3 events could not be taken"),
        ("failed", 3, 1, 0, "the job failed after 1 of 3 events; send the batch again"),
    ],
)
def test_a_jobs_summary_reads_as_a_sentence(
    status: JobStatus, total: int, processed: int, failed: int, summary: str
) -> None:
    assert batches.job_summary(status, total, processed, failed).startswith(summary)
