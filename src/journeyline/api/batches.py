"""Asynchronous batches: POST /tenant/ingest/batch (202, durable) and the job's status."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel

from journeyline.api.bodies import read_json
from journeyline.api.deps import SecretDep, StateDep, charge_batch_events
from journeyline.api.ingest_bodies import unwrap
from journeyline.api.openapi_bodies import model_schema
from journeyline.api.openapi_errors import BODY, SECRET, errors
from journeyline.api.responses import OrjsonResponse
from journeyline.errors import InvalidPayload, NotFound
from journeyline.ingest import batches
from journeyline.ingest.batches import JobRef
from journeyline.ingest.dialects.keystone import KeystoneEvent
from journeyline.statuses import JobOutcome

router = APIRouter(tags=["batches"], responses=SECRET)


class Enqueued(BaseModel):
    status: Literal["enqueued"] = "enqueued"
    job_id: uuid.UUID


class JobError(BaseModel):
    index: int
    code: str
    message: str


class JobStatus(BaseModel):
    job_id: uuid.UUID
    status: Literal["queued", "processing", "completed", "failed"]
    total: int
    # Events handled so far: stored + duplicates + failed + suppressed.
    processed: int
    stored: int
    duplicates: int
    failed: int
    suppressed: int = 0
    errors: list[JobError]
    # Beside `status` (whose words API.md fixes): `completed_with_errors` when events failed.
    outcome: JobOutcome
    summary: str


BATCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["events"],
    "properties": {"events": {"type": "array", "items": model_schema(KeystoneEvent)}},
}


@router.post(
    "/tenant/ingest/batch",
    status_code=202,
    response_model=Enqueued,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": BATCH_SCHEMA}}}
    },
    summary="Enqueue a batch of Keystone events",
    responses=BODY,
)
async def enqueue_batch(request: Request, context: SecretDep, state: StateDep) -> OrjsonResponse:
    """Up to 10,000 events (16 MB). Answered once the batch is stored: accepted means durable."""
    limits = state.settings.limits
    body = await read_json(request, limits.max_batch_bytes)
    if not isinstance(body, dict) or "events" not in body:
        raise InvalidPayload('the body must be {"events": [event, ...]}', field="events")
    items, _ = unwrap(body, "events", limits.max_batch_events)
    await charge_batch_events(state, context, len(items))
    job_id = await batches.accept(state.database, context, items, dialect="keystone")
    await state.queue.enqueue(JobRef(context.tenant_id, job_id))
    return OrjsonResponse(Enqueued(job_id=job_id).model_dump(mode="json"), status_code=202)


@router.get(
    "/tenant/ingest/jobs/{job_id}",
    response_model=JobStatus,
    responses=errors(404),
    summary="A batch's status",
)
async def job_status(job_id: str, context: SecretDep, state: StateDep) -> OrjsonResponse:
    try:
        parsed = uuid.UUID(job_id)
    except ValueError:
        raise NotFound("no job has this id") from None
    job = await batches.get_job(state.database, context.tenant_id, parsed)
    if job is None:
        raise NotFound("no job has this id")
    status = JobStatus(
        job_id=job.id,
        status=job.status,
        total=job.total,
        processed=job.position,
        stored=job.stored,
        duplicates=job.duplicates,
        failed=job.failed,
        # Dropped for an erased identifier: processed, and neither stored, duplicate nor failed.
        suppressed=max(0, job.position - job.stored - job.duplicates - job.failed),
        errors=[JobError(**error) for error in job.errors or []],
        outcome=batches.job_outcome(job.status, job.failed),
        summary=batches.job_summary(job.status, job.total, job.position, job.failed),
    )
    return OrjsonResponse(status.model_dump(mode="json"))
