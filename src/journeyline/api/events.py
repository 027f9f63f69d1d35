"""Native API: POST /v1/events, one Waypath MarketingEvent or {"events": [...]}."""

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
from journeyline.api.openapi_errors import BODY, KEYED, errors
from journeyline.api.responses import OrjsonResponse
from journeyline.graph.plan import touchpoint_node_id
from journeyline.ingest import service as ingest_service
from journeyline.ingest import wire
from journeyline.ingest.dialects.marketing import MarketingEvent
from journeyline.ingest.outcome import EventOutcome

router = APIRouter(tags=["native"], responses={**KEYED, **BODY})

# A public key may send MarketingEvents from a page, so the route answers CORS (api/cors.py).
PUBLIC_PATHS = ("/v1/events",)


class EventResult(BaseModel):
    event_id: uuid.UUID | None
    customer_id: uuid.UUID | None
    touchpoint_id: uuid.UUID | None
    matched_by: str | None
    confidence: float | None
    created_customer: bool
    duplicate: bool
    conflicting_duplicate: bool
    merged_profile_ids: list[uuid.UUID]
    warnings: list[dict[str, Any]]
    # Dropped for an erased identifier (decision 51): not stored, and not an error.
    suppressed: bool = False


class EventResults(BaseModel):
    results: list[EventResult]


def _result(tenant_id: uuid.UUID, outcome: EventOutcome) -> dict[str, Any]:
    if outcome.error is not None:
        return wire.error_body(outcome.error)
    # The event of a customer is a touchpoint, whose node id is derived from the event's id.
    touchpoint = (
        touchpoint_node_id(tenant_id, outcome.event_id)
        if outcome.event_id is not None and outcome.profile_id is not None
        else None
    )
    return EventResult(
        event_id=outcome.event_id,
        customer_id=outcome.profile_id,
        touchpoint_id=touchpoint,
        matched_by=outcome.matched_by,
        confidence=outcome.confidence,
        created_customer=outcome.created_profile,
        duplicate=outcome.duplicate,
        conflicting_duplicate=outcome.conflicting_duplicate,
        merged_profile_ids=outcome.merged_profile_ids,
        warnings=wire.warnings(outcome.warnings),
        suppressed=outcome.suppressed,
    ).model_dump(mode="json")


@router.post(
    PUBLIC_PATHS[0],
    response_model=None,
    responses={200: {"model": EventResults}, **errors(404)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model_schema(MarketingEvent)}},
        }
    },
    summary="Ingest MarketingEvents",
)
async def post_events(request: Request, context: AnyKeyDep, state: StateDep) -> OrjsonResponse:
    """One MarketingEvent, or `{"events": [...]}` (at most 500); failures stay in their slot."""
    limits = state.settings.limits
    body = await read_json(request, limits.max_request_bytes)
    items, is_list = unwrap(body, "events", limits.max_native_batch_events)
    parse = ingest_service.parser_for("marketing", context, datetime.now(UTC))
    adapted = adapt_items(items, parse, limits, is_list=is_list)
    outcomes = await ingest_service.ingest(state.committer, context, adapted)
    if not is_list and outcomes[0].error is not None:
        raise outcomes[0].error
    return OrjsonResponse(
        {"results": [_result(context.tenant_id, outcome) for outcome in outcomes]}
    )
