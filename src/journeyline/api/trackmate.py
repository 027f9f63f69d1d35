"""TrackMate dialect (seeds/003): session events, identify, server events, the timeline."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from journeyline.api.bodies import json_object, read_json
from journeyline.api.deps import (
    ReadSession,
    SecretDep,
    StateDep,
    TrackMateSecretDep,
    client_address,
    company,
    company_of_secret,
)
from journeyline.api.openapi_bodies import model_schema
from journeyline.api.openapi_errors import BODY, KEYED, SECRET, errors
from journeyline.cursors import decode_cursor, encode_cursor
from journeyline.identity import reads
from journeyline.ingest import trackmate
from journeyline.ingest.dialects.trackmate import (
    TrackMateEvent,
    TrackMateProfile,
    TrackMateServerEvent,
    TrackMateSession,
)

router = APIRouter(tags=["trackmate"])

# The browser calls these two with the public key as `company_id`: they answer CORS.
PUBLIC_PATHS = ("/api/events", "/api/profile")


class SessionEventsOut(BaseModel):
    stored: int
    duplicates: int
    profileId: uuid.UUID | None  # noqa: N815 (wire name)
    # Events dropped for an erased identifier (decision 51).
    suppressed: int = 0


class IdentifiedOut(BaseModel):
    # Null only when the identify was suppressed (an erased identifier, decision 51).
    profileId: uuid.UUID | None  # noqa: N815
    linkedEvents: int  # noqa: N815
    suppressed: bool = False


class ServerEventOut(BaseModel):
    profileId: uuid.UUID | None  # noqa: N815
    eventId: uuid.UUID | None  # noqa: N815
    duplicate: bool
    suppressed: bool = False


class TimelineProfile(BaseModel):
    id: uuid.UUID
    status: str
    email: str | None
    phone: str | None
    name: str | None
    attributes: dict[str, Any]
    identities: list[dict[str, str]]
    merged_from: list[uuid.UUID]
    first_seen_at: datetime
    last_seen_at: datetime
    event_count: int


class TimelineEvent(BaseModel):
    eventId: uuid.UUID  # noqa: N815
    eventType: str  # noqa: N815
    eventName: str  # noqa: N815
    occurredAt: datetime  # noqa: N815
    receivedAt: datetime  # noqa: N815
    source: str
    sourceType: str  # noqa: N815
    sessionId: str | None  # noqa: N815
    anonymousId: str | None  # noqa: N815
    profileId: uuid.UUID | None  # noqa: N815
    data: dict[str, Any]


class Timeline(BaseModel):
    profile: TimelineProfile
    events: list[TimelineEvent]
    next_cursor: str | None


def _body_doc(
    model: type[BaseModel], extra: dict[str, Any], *, replace: bool = False
) -> dict[str, Any]:
    """The request body's schema for OpenAPI: the model's, plus (or overriding) `extra`."""
    schema = model_schema(model)
    properties = schema.get("properties", {})
    schema["properties"] = {**properties, **extra} if replace else {**extra, **properties}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


COMPANY = {"company_id": {"type": "string", "description": "the tenant's public key (pk_…)"}}


@router.post(
    PUBLIC_PATHS[0],
    response_model=SessionEventsOut,
    # `suppressed` only when it happened: TrackMate's answers keep their shape otherwise.
    response_model_exclude_defaults=True,
    responses={**KEYED, **BODY},
    openapi_extra=_body_doc(
        TrackMateSession,
        {**COMPANY, "events": {"type": "array", "items": model_schema(TrackMateEvent)}},
        replace=True,
    ),
    summary="A browser session's events",
)
async def post_session_events(request: Request, state: StateDep) -> SessionEventsOut:
    """`{company_id, sessionId, events: [...]}`; an invalid event rejects the request (422
    naming its index). `profileId` is set once the session is identified."""
    body = json_object(await read_json(request, state.settings.limits.max_request_bytes))
    context = await company(state, body, client_address(request))
    result = await trackmate.record_session_events(
        state.committer,
        context,
        body,
        received_at=datetime.now(UTC),
        limits=state.settings.limits,
    )
    return SessionEventsOut(
        stored=result.stored,
        duplicates=result.duplicates,
        profileId=result.profile_id,
        suppressed=result.suppressed,
    )


@router.post(
    PUBLIC_PATHS[1],
    response_model=IdentifiedOut,
    # `suppressed` only when it happened: TrackMate's answers keep their shape otherwise.
    response_model_exclude_defaults=True,
    responses={**KEYED, **BODY},
    openapi_extra=_body_doc(TrackMateProfile, COMPANY),
    summary="Identify a session's visitor",
)
async def post_profile(request: Request, state: StateDep) -> IdentifiedOut:
    """Links every earlier event of the session to the person and records an `identified`
    event; other keys are traits merged into the profile."""
    body = json_object(await read_json(request, state.settings.limits.max_request_bytes))
    context = await company(state, body, client_address(request))
    result = await trackmate.identify_session(
        state.committer,
        context,
        body,
        received_at=datetime.now(UTC),
        limits=state.settings.limits,
    )
    return IdentifiedOut(
        profileId=result.profile_id,
        linkedEvents=result.linked_events,
        suppressed=result.suppressed,
    )


@router.post(
    "/api/webhooks/events",
    response_model=ServerEventOut,
    # `suppressed` only when it happened: TrackMate's answers keep their shape otherwise.
    response_model_exclude_defaults=True,
    responses={**SECRET, **BODY, **errors(404)},
    openapi_extra=_body_doc(TrackMateServerEvent, COMPANY),
    summary="An event from the tenant's server",
)
async def post_server_event(
    request: Request, context: TrackMateSecretDep, state: StateDep
) -> ServerEventOut:
    """Secret key in `X-TrackMate-API-Key` or `X-API-Key`; `identifier` holds exactly one of
    email, sessionId and userId (a profile id)."""
    body = json_object(await read_json(request, state.settings.limits.max_request_bytes))
    await company_of_secret(state, context, body, client_address(request))
    result = await trackmate.record_server_event(
        state.committer,
        context,
        body,
        received_at=datetime.now(UTC),
        limits=state.settings.limits,
    )
    return ServerEventOut(
        profileId=result.profile_id,
        eventId=result.event_id,
        duplicate=result.duplicate,
        suppressed=result.suppressed,
    )


@router.get(
    "/api/profiles/{profile_id}/timeline",
    response_model=Timeline,
    responses={**SECRET, **errors(404)},
    summary="A profile's complete timeline, oldest first",
)
async def get_timeline(
    profile_id: uuid.UUID,
    context: SecretDep,
    session: ReadSession,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    cursor: str | None = None,
) -> Timeline:
    """Client and server events together, including those of profiles merged into it."""
    after = decode_cursor(cursor) if cursor else None
    view, events, following = await reads.profile_timeline(
        session, context.tenant_id, profile_id, limit=limit, after=after
    )
    emails = [value for kind, value in view.identities if kind == "email"]
    phones = [value for kind, value in view.identities if kind == "phone"]
    name = view.attributes.get("name")
    return Timeline(
        profile=TimelineProfile(
            id=view.id,
            status=view.status,
            email=emails[0] if emails else None,
            phone=phones[0] if phones else None,
            name=name if isinstance(name, str) else None,
            attributes=view.attributes,
            identities=[{"kind": kind, "value": value} for kind, value in view.identities],
            merged_from=view.merged_from,
            first_seen_at=view.first_seen_at,
            last_seen_at=view.last_seen_at,
            event_count=view.event_count,
        ),
        events=[
            TimelineEvent(
                eventId=event.id,
                eventType=event.event_type,
                eventName=event.event_name,
                occurredAt=event.occurred_at,
                receivedAt=event.received_at,
                source=event.source,
                sourceType=event.source_type,
                sessionId=event.session_id,
                anonymousId=event.anonymous_id,
                profileId=event.profile_id,
                data=event.payload,
            )
            for event in events
        ],
        next_cursor=encode_cursor(*following) if following else None,
    )
