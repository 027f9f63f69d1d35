"""A tenant's API keys: GET, POST /v1/keys and DELETE /v1/keys/{id} (revoke, or rotate the
public key)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from journeyline.api.bodies import json_object, parse_json, read_body, refuse_content_coding
from journeyline.api.deps import ReadSession, SecretDep, StateDep
from journeyline.api.openapi_bodies import model_schema
from journeyline.api.openapi_errors import BODY, SECRET, errors
from journeyline.api.responses import OrjsonResponse
from journeyline.ingest.dialects.fields import parse_model
from journeyline.tenancy import service as tenancy

router = APIRouter(tags=["administration"], responses=SECRET)

MAX_BODY_BYTES = 16 * 1024


class NewKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)


class NewKeyOut(BaseModel):
    id: uuid.UUID
    name: str | None
    prefix: str
    # Shown once: only its hash is stored.
    secret_key: str


class KeyOut(BaseModel):
    id: uuid.UUID
    name: str | None
    kind: Literal["public", "secret"]
    # The key's first characters, to tell keys apart; never the key or its hash.
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class KeyList(BaseModel):
    data: list[KeyOut]


class RotatedOut(BaseModel):
    # The tenant's new public key (shown once), issued in place of the revoked one.
    public_key: str
    id: uuid.UUID
    prefix: str


@router.get("/v1/keys", response_model=KeyList, summary="The tenant's keys")
async def list_keys(context: SecretDep, state: StateDep, session: ReadSession) -> KeyList:
    """Every key the tenant has had, revoked ones included, oldest first. `last_used_at` is
    written at most once a minute per key and process, so it may be a minute behind."""
    keys = await tenancy.list_keys_used(session, state.database, state.usage, context.tenant_id)
    return KeyList(
        data=[
            KeyOut(
                id=key.id,
                name=key.name,
                kind="secret" if key.kind == "secret" else "public",
                prefix=key.prefix,
                created_at=key.created_at,
                last_used_at=key.last_used_at,
                revoked_at=key.revoked_at,
            )
            for key in keys
        ]
    )


@router.post(
    "/v1/keys",
    status_code=201,
    response_model=NewKeyOut,
    responses=BODY,
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": model_schema(NewKeyIn)}},
        }
    },
    summary="Another secret key",
)
async def create_secret_key(request: Request, context: SecretDep, state: StateDep) -> NewKeyOut:
    """Another secret key for the caller's tenant (shown once). The body is optional."""
    refuse_content_coding(request)
    raw = await read_body(request, MAX_BODY_BYTES)
    body = parse_model(NewKeyIn, json_object(parse_json(raw))) if raw.strip() else NewKeyIn()
    name = (body.name.strip() or None) if body.name is not None else None
    created = await state.database.run(
        lambda session: tenancy.issue_key(session, context.tenant_id, "secret", name)
    )
    return NewKeyOut(
        id=created.id, name=created.name, prefix=created.prefix, secret_key=created.key
    )


@router.delete(
    "/v1/keys/{key_id}",
    status_code=204,
    responses={
        200: {"model": RotatedOut, "description": "the public key was revoked and replaced"},
        **errors(404, 409),
    },
    summary="Revoke a key",
)
async def revoke_key(key_id: uuid.UUID, context: SecretDep, state: StateDep) -> Response:
    """The key answers 401 at once in this process and within 5 s in every other (their key
    caches live at most that long). Revoking the public key issues a new one (200)."""
    revoked = await tenancy.revoke_key_now(
        state.database, state.keys, state.usage, context.tenant_id, key_id
    )
    if revoked.replacement is None:
        return Response(status_code=204)
    out: dict[str, Any] = RotatedOut(
        public_key=revoked.replacement.key,
        id=revoked.replacement.id,
        prefix=revoked.replacement.prefix,
    ).model_dump(mode="json")
    return OrjsonResponse(out)
