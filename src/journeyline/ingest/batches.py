"""Asynchronous batches (DESIGN §9): accepted durably, run in checkpointed chunks, swept.

Exactly-once without help from the sender: each chunk's events and the job's new position are
committed in one transaction, under a lease. A worker that dies mid-job leaves the position at
the last committed chunk; whoever takes the job next (after the lease runs out) resumes there.
A worker that lost its lease finds out at its next checkpoint and rolls that chunk back.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Protocol

import orjson

from journeyline.config import Settings
from journeyline.errors import JourneylineError, MalformedBody, StorageUnavailable, Unstorable
from journeyline.ids import uuid7
from journeyline.ingest import pipeline, wire
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.documents import ENCODABLE_DEPTH, cut_to_depth, decode_json
from journeyline.ingest.outcome import EventOutcome
from journeyline.ingest.service import Dialect, adapt_each, parser_for, record_metrics
from journeyline.statuses import JobOutcome, JobStatus, KeyKind
from journeyline.store.db import Database, Session
from journeyline.store.models import IngestJob
from journeyline.store.repositories.jobs import JobRepository, Progress, stale_jobs
from journeyline.tenancy import service as tenancy
from journeyline.tenancy.context import TenantContext

log = logging.getLogger("journeyline.ingest")


class LeaseLost(Exception):
    """Another worker took the job over; this one must stop without committing."""


@dataclass(frozen=True, slots=True)
class JobRef:
    tenant_id: uuid.UUID
    job_id: uuid.UUID


class JobQueue(Protocol):
    """Where accepted jobs are announced: Redis (Arq) in production, an in-process worker in
    the embedded shape. Losing an announcement is allowed (the sweeper makes it again), and
    neither call may take longer than its bound: a Redis that is down or frozen delays the
    batch, never the answer that it is stored."""

    async def enqueue(self, ref: JobRef) -> None: ...

    async def ping(self) -> bool:
        """Whether announcements reach the workers now (for /readyz)."""
        ...

    async def close(self) -> None: ...


async def accept(
    database: Database,
    context: TenantContext,
    items: Sequence[object],
    *,
    dialect: Dialect,
    now: datetime | None = None,
) -> uuid.UUID:
    """Store the items durably as a queued job; the caller enqueues it after this returns."""
    job_id = uuid7()
    body = _encoded(items)
    at = now or datetime.now(UTC)

    async def add(session: Session) -> None:
        await JobRepository(session, context.tenant_id).add(
            job_id, dialect=dialect, key_kind=context.key_kind, body=body, total=len(items), now=at
        )

    await database.run(add)
    return job_id


def _encoded(items: Sequence[object]) -> bytes:
    """The items as the job stores them. An item nested past what orjson encodes is kept cut
    to ENCODABLE_DEPTH levels: still deeper than any allowed `max_json_depth`, so the worker
    refuses it at its index (`too_deep`) like any other, and its neighbours are stored."""
    try:
        return orjson.dumps(list(items))
    except orjson.JSONEncodeError:
        return orjson.dumps([cut_to_depth(item, ENCODABLE_DEPTH) for item in items])


def job_outcome(status: JobStatus, failed: int) -> JobOutcome:
    """Whether the job took every event: `status` says only that it ran to its end, so a
    batch with failed events also says `completed_with_errors` (issue 17)."""
    if status in ("queued", "processing"):
        return "pending"
    if status == "failed":
        return "failed"
    return "completed_with_errors" if failed else "succeeded"


def job_summary(status: JobStatus, total: int, processed: int, failed: int) -> str:
    """One sentence for a person reading the status."""
    if status in ("queued", "processing"):
        return f"{status}: {processed:,} of {total:,} events handled so far"
    if status == "failed":
        return f"the job failed after {processed:,} of {total:,} events; send the batch again"
    if failed:
        return (
            f"completed with errors: {failed:,} of {total:,} events could not be taken "
            "(see errors, by index); the others are stored"
        )
    return f"completed: all {total:,} events taken"


async def get_job(database: Database, tenant_id: uuid.UUID, job_id: uuid.UUID) -> IngestJob | None:
    async with database.read() as session:
        return await JobRepository(session, tenant_id).get(job_id)


@dataclass
class _Running:
    job: IngestJob
    context: TenantContext
    items: list[Any]
    token: str
    stored: int
    duplicates: int
    failed: int
    errors: list[dict[str, Any]] = field(default_factory=list)


async def run_job(
    database: Database, ref: JobRef, settings: Settings, *, now: datetime | None = None
) -> str:
    """Run the job to its end if it can be claimed. Returns what happened: "completed",
    "failed", "not_claimed" (someone else holds it, or it is done) or "lease_lost"."""
    options = settings.worker
    token = str(uuid.uuid4())
    running = await _claim(database, ref, settings, token, now)
    if running is None:
        return "not_claimed"
    if isinstance(running, str):
        await _finish(database, ref, token, "failed")
        return "failed"
    parse = parser_for(_dialect(running.job.dialect), running.context, running.job.received_at)
    position = running.job.position
    size = options.batch_chunk_size
    while position < len(running.items):
        end = min(position + size, len(running.items))
        chunk = partial(_run_chunk, running=running, parse=parse, start=position, stop=end)
        try:
            outcomes, invalid = await database.run(partial(chunk, settings=settings))
        except LeaseLost:
            return "lease_lost"
        except StorageUnavailable:
            raise
        except Exception:
            # The database refused the chunk for something no adapter checks. One event must not
            # fail its neighbours on every retry: halve the chunk until that event is alone,
            # then list it in the job's errors and go on with full chunks.
            if end - position > 1:
                size = (end - position + 1) // 2
                continue
            log.exception("ingest job %s: the database refused item %d", ref.job_id, position)
            try:
                await database.run(
                    partial(_refuse, running=running, index=position, settings=settings)
                )
            except LeaseLost:
                return "lease_lost"
            position, size = end, options.batch_chunk_size
            continue
        record_metrics(outcomes, invalid)
        position = end
    await _finish(database, ref, token, "completed")
    return "completed"


def _dialect(name: str) -> Dialect:
    if name in ("marketing", "posthog"):
        return "marketing" if name == "marketing" else "posthog"
    return "keystone"


async def _claim(
    database: Database, ref: JobRef, settings: Settings, token: str, now: datetime | None
) -> _Running | str | None:
    """Lease the job and load what running it needs; a string says why it cannot run."""
    at = now or datetime.now(UTC)
    lease_until = at + timedelta(seconds=settings.worker.lease_seconds)

    async def claim(session: Session) -> _Running | str | None:
        jobs = JobRepository(session, ref.tenant_id)
        if not await jobs.claim(ref.job_id, token, lease_until, at):
            return None
        job = await jobs.get(ref.job_id)
        if job is None:
            return None
        if job.attempts > settings.worker.max_attempts:
            return "too_many_attempts"
        key_kind: KeyKind = "secret" if job.key_kind == "secret" else "public"
        context = await tenancy.context_for_tenant(session, ref.tenant_id, key_kind, settings)
        if context is None or job.body is None:
            return "unreadable"
        try:
            items = decode_json(job.body)
        except MalformedBody:
            return "unreadable"
        return _Running(
            job=job,
            context=context,
            items=items if isinstance(items, list) else [],
            token=token,
            stored=job.stored,
            duplicates=job.duplicates,
            failed=job.failed,
            errors=list(job.errors or []),
        )

    return await database.run(claim)


async def _run_chunk(
    session: Session,
    *,
    running: _Running,
    parse: Callable[[object], CanonicalEvent],
    start: int,
    stop: int,
    settings: Settings,
) -> tuple[list[EventOutcome], int]:
    """Process items[start:stop] and move the job's position, in the caller's transaction."""
    adapted = adapt_each(
        running.items[start:stop],
        parse,
        settings.limits.max_event_bytes,
        max_depth=settings.limits.max_json_depth,
        is_list=True,
        offset=start,
    )
    events = [item for item in adapted if isinstance(item, CanonicalEvent)]
    processed = await pipeline.process(session, running.context, events) if events else []
    outcomes = iter(processed)
    stored, duplicates = 0, 0
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(adapted, start=start):
        if isinstance(item, JourneylineError):
            errors.append(wire.job_error(index, item))
            continue
        outcome = next(outcomes)
        if outcome.error is not None:
            errors.append(wire.job_error(index, outcome.error))
        elif outcome.duplicate:
            duplicates += 1
        elif not outcome.suppressed:  # a suppressed event is processed, neither stored nor failed
            stored += 1
    await _checkpoint(session, running, stop, stored, duplicates, errors, settings)
    return processed, len(adapted) - len(events)


async def _refuse(session: Session, *, running: _Running, index: int, settings: Settings) -> None:
    """Move past one item the database refused, listed in the job's errors."""
    error = wire.job_error(index, Unstorable("the database refused this event"))
    await _checkpoint(session, running, index + 1, 0, 0, [error], settings)


async def _checkpoint(
    session: Session,
    running: _Running,
    stop: int,
    stored: int,
    duplicates: int,
    errors: list[dict[str, Any]],
    settings: Settings,
) -> None:
    """Move the job's position to `stop` with what the chunk added, in its transaction."""
    now = datetime.now(UTC)
    progress = Progress(
        position=stop,
        stored=running.stored + stored,
        duplicates=running.duplicates + duplicates,
        failed=running.failed + len(errors),
        errors=running.errors + errors,
    )
    lease_until = now + timedelta(seconds=settings.worker.lease_seconds)
    jobs = JobRepository(session, running.context.tenant_id)
    if not await jobs.checkpoint(running.job.id, running.token, progress, lease_until, now):
        raise LeaseLost(str(running.job.id))
    # Only once the checkpoint is in the same transaction do the counts move in memory.
    running.stored, running.duplicates = progress.stored, progress.duplicates
    running.failed, running.errors = progress.failed, progress.errors


async def _finish(database: Database, ref: JobRef, token: str, status: JobStatus) -> None:
    async def finish(session: Session) -> None:
        await JobRepository(session, ref.tenant_id).finish(
            ref.job_id, token, status, datetime.now(UTC)
        )

    await database.run(finish)


async def find_stale(
    database: Database, settings: Settings, *, now: datetime | None = None
) -> list[JobRef]:
    """Jobs to enqueue again: queued for longer than the grace period (their queue message
    may be lost) or processing under an expired lease (their worker died)."""
    at = now or datetime.now(UTC)
    queued_before = at - timedelta(seconds=settings.worker.stale_queued_seconds)
    async with database.read() as session:
        rows = await stale_jobs(session, queued_before=queued_before, now=at)
    return [JobRef(tenant_id, job_id) for tenant_id, job_id in rows]
