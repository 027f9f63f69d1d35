"""Read API for profiles (secret key): lookup, timeline, lineage, merges, merge and unmerge."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from journeyline.api.bodies import read_json
from journeyline.api.deps import ReadSession, SecretDep, StateDep
from journeyline.api.openapi_bodies import json_body, model_schema
from journeyline.api.openapi_errors import BODY, SECRET, errors
from journeyline.cursors import decode_cursor, encode_cursor
from journeyline.errors import InvalidPayload
from journeyline.graph import service as graph_service
from journeyline.identity import reads
from journeyline.identity.identity_merges import Unmerge
from journeyline.identity.normalize import Identifier, normalize_identifier
from journeyline.identity.reads import ProfileView
from journeyline.ingest import operator_merges
from journeyline.ingest.dialects.fields import parse_model
from journeyline.store.db import Session
from journeyline.store.models import Event

router = APIRouter(tags=["profiles"], responses=SECRET)

Limit = Annotated[int, Query(ge=1, le=500)]


class IdentityOut(BaseModel):
    kind: str
    value: str


class ProfileOut(BaseModel):
    id: uuid.UUID
    status: str
    attributes: dict[str, Any]
    identities: list[IdentityOut]
    merged_from: list[uuid.UUID]
    stage: str | None = None
    first_seen_at: datetime
    last_seen_at: datetime
    event_count: int


class ProfilePage(BaseModel):
    data: list[ProfileOut]
    next_cursor: str | None


class EventOut(BaseModel):
    id: uuid.UUID
    event_type: str
    event_name: str
    source_type: str
    source: str
    payload: dict[str, Any]
    occurred_at: datetime
    received_at: datetime
    anonymous_id: str | None
    session_id: str | None
    campaign_id: str | None
    channel: str | None
    external_event_id: str | None
    profile_id: uuid.UUID | None


class EventPage(BaseModel):
    data: list[EventOut]
    next_cursor: str | None


class LineageOut(BaseModel):
    path: str
    old_value: Any
    new_value: Any
    event_id: uuid.UUID | None
    source: str
    changed_at: datetime


class LineageList(BaseModel):
    data: list[LineageOut]


class MergeOut(BaseModel):
    from_profile_id: uuid.UUID
    into_profile_id: uuid.UUID
    reason: str
    event_id: uuid.UUID | None
    merged_at: datetime
    unmerged_at: datetime | None


class MergeList(BaseModel):
    data: list[MergeOut]


class ConflictOut(BaseModel):
    kind: str
    value: str
    reason: str
    owner_profile_id: uuid.UUID | None
    attempted_profile_id: uuid.UUID | None
    event_id: uuid.UUID | None
    created_at: datetime


class ConflictPage(BaseModel):
    data: list[ConflictOut]
    next_cursor: str | None


class ProfileRef(BaseModel):
    profile_id: uuid.UUID


class Unmerged(BaseModel):
    restored_profile_id: uuid.UUID


def profile_out(view: ProfileView, stage: str | None) -> ProfileOut:
    return ProfileOut(
        id=view.id,
        status=view.status,
        attributes=view.attributes,
        identities=[IdentityOut(kind=kind, value=value) for kind, value in view.identities],
        merged_from=view.merged_from,
        stage=stage,
        first_seen_at=view.first_seen_at,
        last_seen_at=view.last_seen_at,
        event_count=view.event_count,
    )


async def profiles_out(
    session: Session, tenant_id: uuid.UUID, views: Sequence[ProfileView]
) -> list[ProfileOut]:
    """The views with each one's funnel stage (one read for all of them)."""
    stages = await graph_service.stages_of(session, tenant_id, [view.id for view in views])
    return [profile_out(view, stages.get(view.id)) for view in views]


def event_out(event: Event) -> EventOut:
    return EventOut.model_validate(event, from_attributes=True)


LOOKUPS = ("email", "phone", "external_id", "anonymous_id", "session_id")


@router.get("/v1/profiles", response_model=ProfilePage)
async def list_profiles(
    context: SecretDep,
    session: ReadSession,
    email: str | None = None,
    phone: str | None = None,
    external_id: str | None = None,
    anonymous_id: str | None = None,
    session_id: str | None = None,
    limit: Limit = 50,
    cursor: str | None = None,
) -> ProfilePage:
    """Look a profile up by any identifier, or page through the most recently seen profiles."""
    given = {
        kind: value
        for kind, value in zip(
            LOOKUPS, (email, phone, external_id, anonymous_id, session_id), strict=True
        )
        if value is not None
    }
    if len(given) > 1:
        raise InvalidPayload("look up by one identifier at a time", field=next(iter(given)))
    if given:
        kind, raw = next(iter(given.items()))
        identifier = normalize_identifier(
            kind,  # type: ignore[arg-type]  # LOOKUPS holds only identifier kinds
            raw,
            region=context.phone_region,
            blocklist=frozenset(),
        )
        if not isinstance(identifier, Identifier):
            raise InvalidPayload(f"{raw!r} is not a valid {kind}", field=kind)
        views = await reads.find_profiles(session, context.tenant_id, kind, identifier.value)
        data = await profiles_out(session, context.tenant_id, views)
        return ProfilePage(data=data, next_cursor=None)
    views, after = await reads.list_profiles(
        session, context.tenant_id, limit=limit, before=decode_cursor(cursor)
    )
    data = await profiles_out(session, context.tenant_id, views)
    return ProfilePage(data=data, next_cursor=encode_cursor(*after) if after else None)


@router.get("/v1/profiles/{profile_id}", response_model=ProfileOut, responses=errors(404))
async def get_profile(
    profile_id: uuid.UUID, context: SecretDep, session: ReadSession
) -> ProfileOut:
    """A profile; a merged id answers with the surviving profile."""
    view = await reads.get_profile(session, context.tenant_id, profile_id)
    return (await profiles_out(session, context.tenant_id, [view]))[0]


@router.get("/v1/profiles/{profile_id}/events", response_model=EventPage, responses=errors(404))
async def profile_events(
    profile_id: uuid.UUID,
    context: SecretDep,
    session: ReadSession,
    limit: Limit = 50,
    cursor: str | None = None,
) -> EventPage:
    """The profile's events and those of every profile merged into it, newest first."""
    events, after = await reads.profile_events(
        session, context.tenant_id, profile_id, limit=limit, before=decode_cursor(cursor)
    )
    return EventPage(
        data=[event_out(event) for event in events],
        next_cursor=encode_cursor(*after) if after else None,
    )


@router.get("/v1/profiles/{profile_id}/lineage", response_model=LineageList, responses=errors(404))
async def profile_lineage(
    profile_id: uuid.UUID, context: SecretDep, session: ReadSession, limit: Limit = 500
) -> LineageList:
    """Every attribute change of the profile, newest first."""
    rows = await reads.profile_lineage(session, context.tenant_id, profile_id, limit=limit)
    return LineageList(data=[LineageOut.model_validate(row, from_attributes=True) for row in rows])


@router.get("/v1/profiles/{profile_id}/merges", response_model=MergeList, responses=errors(404))
async def profile_merges(
    profile_id: uuid.UUID, context: SecretDep, session: ReadSession
) -> MergeList:
    """The merge journal of the profile: what was merged into it, and when."""
    rows = await reads.profile_merges(session, context.tenant_id, profile_id)
    return MergeList(data=[MergeOut.model_validate(row, from_attributes=True) for row in rows])


@router.post(
    "/v1/profiles/{profile_id}/merge",
    response_model=ProfileOut,
    responses={**BODY, **errors(404, 409)},
    openapi_extra=json_body(model_schema(ProfileRef)),
)
async def merge_profile(
    profile_id: uuid.UUID, request: Request, context: SecretDep, state: StateDep
) -> ProfileOut:
    """Merge `profile_id` (body) into this profile."""
    body = parse_model(ProfileRef, await read_json(request, 16 * 1024))

    async def merge(session: Session) -> ProfileOut:
        view = await operator_merges.merge_profiles(
            session, context.tenant_id, profile_id, body.profile_id, datetime.now(UTC)
        )
        return (await profiles_out(session, context.tenant_id, [view]))[0]

    return await state.database.run(merge)


@router.post(
    "/v1/profiles/{profile_id}/unmerge",
    response_model=Unmerged,
    responses={**BODY, **errors(404, 409)},
    openapi_extra=json_body(model_schema(ProfileRef)),
)
async def unmerge_profile(
    profile_id: uuid.UUID, request: Request, context: SecretDep, state: StateDep
) -> Unmerged:
    """Reverse the merge of `profile_id` (body) into this profile."""
    body = parse_model(ProfileRef, await read_json(request, 16 * 1024))
    restored = await state.database.run(
        lambda session: operator_merges.unmerge_profile(
            session, Unmerge(context.tenant_id, profile_id, body.profile_id, datetime.now(UTC))
        )
    )
    return Unmerged(restored_profile_id=restored)


@router.get("/v1/identity-conflicts", response_model=ConflictPage)
async def identity_conflicts(
    context: SecretDep, session: ReadSession, limit: Limit = 100, cursor: str | None = None
) -> ConflictPage:
    """Every refused identifier: blocked values, identifiers of another anchor, limits."""
    rows, after = await reads.identity_conflicts(
        session, context.tenant_id, limit=limit, before=decode_cursor(cursor)
    )
    return ConflictPage(
        data=[ConflictOut.model_validate(row, from_attributes=True) for row in rows],
        next_cursor=encode_cursor(*after) if after else None,
    )
