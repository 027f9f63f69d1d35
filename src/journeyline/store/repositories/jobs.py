"""Ingest jobs: accept, lease, checkpoint, finish, and find the ones left behind."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from journeyline.statuses import JobStatus
from journeyline.store.models import IngestJob
from journeyline.store.repositories.scoped import TenantRepository

UNFINISHED = ("queued", "processing")


@dataclass(frozen=True, slots=True)
class Progress:
    """What one committed chunk adds to its job."""

    position: int
    stored: int
    duplicates: int
    failed: int
    errors: list[dict[str, Any]]


class JobRepository(TenantRepository):
    async def add(
        self,
        job_id: uuid.UUID,
        *,
        dialect: str,
        key_kind: str,
        body: bytes,
        total: int,
        now: datetime,
    ) -> IngestJob:
        job = IngestJob(
            tenant_id=self.tenant_id,
            id=job_id,
            dialect=dialect,
            key_kind=key_kind,
            status="queued",
            body=body,
            total=total,
            position=0,
            stored=0,
            duplicates=0,
            failed=0,
            errors=[],
            attempts=0,
            received_at=now,
            created_at=now,
            updated_at=now,
        )
        self.session.add(job)
        await self.session.flush()
        return job

    async def get(self, job_id: uuid.UUID) -> IngestJob | None:
        statement = select(IngestJob).where(
            IngestJob.tenant_id == self.tenant_id, IngestJob.id == job_id
        )
        return (await self.session.scalars(statement)).first()

    async def claim(
        self, job_id: uuid.UUID, token: str, lease_until: datetime, now: datetime
    ) -> bool:
        """Take the job if it is queued or its holder's lease ran out."""
        statement = (
            update(IngestJob)
            .where(
                IngestJob.tenant_id == self.tenant_id,
                IngestJob.id == job_id,
                or_(
                    IngestJob.status == "queued",
                    and_(IngestJob.status == "processing", IngestJob.lease_until < now),
                ),
            )
            .values(
                status="processing",
                lease_token=token,
                lease_until=lease_until,
                attempts=IngestJob.attempts + 1,
                updated_at=now,
            )
        )
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0) == 1)

    async def checkpoint(
        self,
        job_id: uuid.UUID,
        token: str,
        progress: Progress,
        lease_until: datetime,
        now: datetime,
    ) -> bool:
        """Record a chunk as done, in the chunk's own transaction; False if the lease was lost
        (the caller must then roll the chunk back)."""
        statement = (
            update(IngestJob)
            .where(
                IngestJob.tenant_id == self.tenant_id,
                IngestJob.id == job_id,
                IngestJob.status == "processing",
                IngestJob.lease_token == token,
            )
            .values(
                position=progress.position,
                stored=progress.stored,
                duplicates=progress.duplicates,
                failed=progress.failed,
                errors=progress.errors,
                lease_until=lease_until,
                updated_at=now,
            )
        )
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0) == 1)

    async def finish(self, job_id: uuid.UUID, token: str, status: JobStatus, now: datetime) -> bool:
        """Close the job; a completed job's body is dropped (its events are in the log)."""
        values: dict[str, Any] = {
            "status": status,
            "lease_token": None,
            "lease_until": None,
            "updated_at": now,
            "finished_at": now,
        }
        if status == "completed":
            values["body"] = None
        statement = (
            update(IngestJob)
            .where(
                IngestJob.tenant_id == self.tenant_id,
                IngestJob.id == job_id,
                IngestJob.lease_token == token,
            )
            .values(**values)
        )
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0) == 1)


async def stale_jobs(
    session: AsyncSession, *, queued_before: datetime, now: datetime, limit: int = 500
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(tenant_id, job_id) of jobs nobody is working on: queued too long, or processing under
    an expired lease. The sweeper's one cross-tenant read; it returns ids only."""
    statement = (
        select(IngestJob.tenant_id, IngestJob.id)
        .where(
            or_(
                and_(IngestJob.status == "queued", IngestJob.updated_at < queued_before),
                and_(IngestJob.status == "processing", IngestJob.lease_until < now),
            )
        )
        .order_by(IngestJob.updated_at)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in await session.execute(statement)]
