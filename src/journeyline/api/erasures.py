"""Erasure and the rights around it (secret key): erase a person by profile id or by any
identifier, list and lift tombstones, and export everything held about a person."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from journeyline.api.bodies import read_json
from journeyline.api.deps import ReadSession, SecretDep, StateDep, presented_key
from journeyline.api.openapi_errors import BODY, SECRET, errors
from journeyline.cursors import decode_cursor, encode_cursor
from journeyline.errors import InvalidPayload, NotFound
from journeyline.ingest import erasure, export
from journeyline.ingest.dialects.fields import parse_model
from journeyline.store.db import Session
from journeyline.store.repositories import tenants as tenant_repo
from journeyline.store.repositories.erasures import ErasureRepository
from journeyline.tenancy.keys import hash_key

router = APIRouter(tags=["erasure"], responses=SECRET)


class ErasureRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = None
    phone: str | None = None
    external_id: str | None = None
    anonymous_id: str | None = None


class ProfileErased(BaseModel):
    erased: bool
    erased_profile_ids: list[uuid.UUID]


class TombstoneOut(BaseModel):
    id: uuid.UUID
    kind: str
    value_hash: str
    created_at: datetime


class TombstonePage(BaseModel):
    data: list[TombstoneOut]
    next_cursor: str | None


async def _key_id(session: Session, request: Request) -> uuid.UUID | None:
    key = presented_key(request)
    return await tenant_repo.key_id_of(session, hash_key(key)) if key else None


@router.delete("/v1/profiles/{profile_id}", response_model=ProfileErased, responses=errors(404))
async def erase_profile(
    profile_id: uuid.UUID, request: Request, context: SecretDep, state: StateDep
) -> ProfileErased:
    """Erase the person and every profile merged into it; afterwards the id answers 404."""

    async def work(session: Session) -> list[uuid.UUID]:
        return await erasure.erase_profile(
            session,
            context.tenant_id,
            profile_id,
            key_id=await _key_id(session, request),
            now=datetime.now(UTC),
        )

    erased = await state.database.run(work)
    return ProfileErased(erased=True, erased_profile_ids=erased)


@router.post(
    "/v1/erasures",
    response_model=ProfileErased,
    responses=BODY,
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": ErasureRequest.model_json_schema()}}
        }
    },
)
async def erase_identifier(request: Request, context: SecretDep, state: StateDep) -> ProfileErased:
    """Erase whoever holds the identifier (one of email, phone, external_id, anonymous_id); the
    tombstone is written even when nobody holds it."""
    body = parse_model(ErasureRequest, await read_json(request, 16 * 1024))
    given = [
        (kind, getattr(body, kind))
        for kind in erasure.ERASABLE_KINDS
        if getattr(body, kind) is not None
    ]
    if len(given) != 1:
        raise InvalidPayload(
            "give exactly one of email, phone, external_id, anonymous_id",
            field=given[1][0] if given else "email",
        )
    kind, raw = given[0]
    value = erasure.normalized(context, kind, raw)

    async def work(session: Session) -> list[uuid.UUID]:
        return await erasure.erase_identifier(
            session,
            context,
            kind,
            value,
            key_id=await _key_id(session, request),
            now=datetime.now(UTC),
        )

    erased = await state.database.run(work)
    return ProfileErased(erased=bool(erased), erased_profile_ids=erased)


@router.get("/v1/erasures", response_model=TombstonePage)
async def list_tombstones(
    context: SecretDep,
    session: ReadSession,
    limit: int = Query(100, ge=1, le=500),
    cursor: str | None = None,
) -> TombstonePage:
    """The tenant's tombstones, newest first: the hashed identifier, its kind and time."""
    rows = await ErasureRepository(session, context.tenant_id).tombstones_page(
        limit=limit + 1, before=decode_cursor(cursor)
    )
    page = rows[:limit]
    after = encode_cursor(page[-1].created_at, page[-1].id) if len(rows) > limit else None
    return TombstonePage(
        data=[TombstoneOut.model_validate(row, from_attributes=True) for row in page],
        next_cursor=after,
    )


@router.delete("/v1/erasures/{tombstone_id}", status_code=204, responses=errors(404))
async def lift_tombstone(tombstone_id: uuid.UUID, context: SecretDep, state: StateDep) -> Response:
    """Lift a tombstone: later events carrying the identifier are accepted again."""

    async def work(session: Session) -> bool:
        return await ErasureRepository(session, context.tenant_id).delete_tombstone(tombstone_id)

    if not await state.database.run(work):
        raise NotFound(f"no tombstone {tombstone_id}")
    return Response(status_code=204)


@router.get("/v1/profiles/{profile_id}/export", responses=errors(404))
async def export_profile(
    profile_id: uuid.UUID, context: SecretDep, session: ReadSession
) -> Response:
    """Everything held about the person (the right of access) as one JSON document."""
    document = await export.export_person(session, context.tenant_id, profile_id, datetime.now(UTC))
    # default=str: the driver's own UUID type (asyncpg's, from rows read around the ORM) is not
    # one orjson knows; its text is the id's.
    body = orjson.dumps(document, default=str, option=orjson.OPT_NON_STR_KEYS)
    return Response(content=body, media_type="application/json")
