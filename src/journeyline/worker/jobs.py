"""The job functions, thin: parse ids, call one service, report."""

from __future__ import annotations

import logging
import uuid

from journeyline.config import Settings
from journeyline.ingest import batches
from journeyline.ingest.batches import JobQueue, JobRef
from journeyline.logs import context as log_context
from journeyline.orders import abandonment
from journeyline.store.db import Database

log = logging.getLogger("journeyline.worker")


async def run_ingest_job(database: Database, settings: Settings, ref: JobRef) -> str:
    with log_context.job(ref.job_id, ref.tenant_id):
        outcome = await batches.run_job(database, ref, settings)
        log.info("ingest job %s (tenant %s): %s", ref.job_id, ref.tenant_id, outcome)
    return outcome


def parse_ref(tenant_id: str, job_id: str) -> JobRef | None:
    try:
        return JobRef(uuid.UUID(tenant_id), uuid.UUID(job_id))
    except ValueError:
        log.warning("ingest job with malformed ids: tenant %r job %r", tenant_id, job_id)
        return None


async def sweep(database: Database, settings: Settings, queue: JobQueue) -> int:
    """Enqueue again every job left behind; returns how many."""
    stale = await batches.find_stale(database, settings)
    for ref in stale:
        await queue.enqueue(ref)
    if stale:
        log.info("sweeper re-enqueued %d ingest job(s)", len(stale))
    return len(stale)


async def abandon_idle_orders(database: Database, settings: Settings) -> int:
    """Emit `purchase_abandoned` for every idle cart (exactly once per order)."""
    summary = await abandonment.sweep_abandoned(database, settings)
    return summary.abandoned
