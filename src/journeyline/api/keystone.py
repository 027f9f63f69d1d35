"""Keystone dialect: POST /ingest and its alias /api/ingest (one event or {"batch": [...]})."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from journeyline.api.bodies import read_json
from journeyline.api.deps import AnyKeyDep, StateDep
from journeyline.api.ingest_bodies import adapt_items, unwrap
from journeyline.api.openapi_bodies import model_schema
from journeyline.api.openapi_errors import BODY, KEYED
from journeyline.api.responses import OrjsonResponse
from journeyline.ingest import service as ingest_service
from journeyline.ingest import wire
from journeyline.ingest.dialects.keystone import KeystoneEvent
from journeyline.ingest.outcome import EventOutcome

router = APIRouter(tags=["keystone"], responses={**KEYED, **BODY})

# Browser-facing (a public key may call them): they answer CORS (api/cors.py).
PUBLIC_PATHS = ("/ingest", "/api/ingest")


class IngestResult(BaseModel):
    status: str = "ok"
    event_id: uuid.UUID | None
    profile_id: uuid.UUID | None
    duplicate: bool
    conflicting_duplicate: bool
    merged_profile_ids: list[uuid.UUID]
    warnings: list[dict[str, Any]]
    # Dropped for an erased identifier (decision 51): not stored, and not an error.
    suppressed: bool = False


class IngestBatchResult(BaseModel):
    status: str = "ok"
    results: list[dict[str, Any]]


def _result(outcome: EventOutcome) -> dict[str, Any]:
    if outcome.error is not None:
        return wire.error_body(outcome.error)
    return IngestResult(
        event_id=outcome.event_id,
        profile_id=outcome.profile_id,
        duplicate=outcome.duplicate,
        conflicting_duplicate=outcome.conflicting_duplicate,
        merged_profile_ids=outcome.merged_profile_ids,
        warnings=wire.warnings(outcome.warnings),
        suppressed=outcome.suppressed,
    ).model_dump(mode="json")


DOC = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": model_schema(KeystoneEvent)}},
    }
}


async def ingest(request: Request, context: AnyKeyDep, state: StateDep) -> OrjsonResponse:
    """One Keystone event, or `{"batch": [event, ...]}` (at most 100)."""
    limits = state.settings.limits
    body = await read_json(request, limits.max_request_bytes)
    items, is_list = unwrap(body, "batch", limits.max_sync_batch_events)
    parse = ingest_service.parser_for("keystone", context, datetime.now(UTC))
    adapted = adapt_items(items, parse, limits, is_list=is_list)
    outcomes = await ingest_service.ingest(state.committer, context, adapted)
    if is_list:
        return OrjsonResponse({"status": "ok", "results": [_result(o) for o in outcomes]})
    if outcomes[0].error is not None:
        raise outcomes[0].error
    return OrjsonResponse(_result(outcomes[0]))


for path in PUBLIC_PATHS:
    router.add_api_route(
        path,
        ingest,
        methods=["POST"],
        response_model=None,
        responses={200: {"model": IngestResult | IngestBatchResult}},
        openapi_extra=DOC,
        summary="Ingest Keystone events",
        operation_id=f"keystone_ingest{path.replace('/', '_')}",
    )
