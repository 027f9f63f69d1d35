"""Durable asynchronous ingest jobs (DESIGN §9): the accepted body, progress, per-event errors."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from journeyline.statuses import JobStatus, KeyKind
from journeyline.store.base import Base, JsonType, UtcDateTime


class IngestJob(Base):
    __tablename__ = "ingest_jobs"
    __table_args__ = (
        # The sweeper's scan: unfinished jobs by how long they have waited.
        Index("ix_ingest_jobs_status_updated_at", "status", "updated_at"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # Which adapter reads the items: "keystone" (batch route) or "marketing" (native import).
    dialect: Mapped[str] = mapped_column(String(32))
    # The key kind that submitted the job; its context is rebuilt from it when the job runs.
    key_kind: Mapped[KeyKind] = mapped_column(String(8))
    status: Mapped[JobStatus] = mapped_column(String(16))
    # The items as accepted: a JSON array, stored verbatim. Cleared once the job completes:
    # every accepted event is then in the log (with its raw payload).
    body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    total: Mapped[int] = mapped_column(Integer)
    # Items before this index are done and committed, together with the counts below.
    position: Mapped[int] = mapped_column(Integer, default=0)
    stored: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_token: Mapped[str | None] = mapped_column(String(36), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
