"""Platform administration: POST /admin/tenants."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from journeyline.api.bodies import read_json
from journeyline.api.deps import AdminDep, StateDep
from journeyline.api.openapi_bodies import json_body, model_schema
from journeyline.api.openapi_errors import BODY, errors
from journeyline.ingest.dialects.fields import parse_model
from journeyline.tenancy import service as tenancy

router = APIRouter(tags=["administration"], responses=errors(401, 403, 429, 503))


class TenantIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class TenantOut(BaseModel):
    tenant_id: uuid.UUID
    name: str
    public_key: str
    secret_key: str


@router.post(
    "/admin/tenants",
    status_code=201,
    response_model=TenantOut,
    responses=BODY,
    openapi_extra=json_body(model_schema(TenantIn)),
)
async def create_tenant(request: Request, _admin: AdminDep, state: StateDep) -> TenantOut:
    """Create a tenant; its keys are shown here once and stored hashed."""
    body = parse_model(TenantIn, await read_json(request, 16 * 1024))
    created = await state.database.run(
        lambda session: tenancy.create_tenant(session, body.name.strip())
    )
    return TenantOut(
        tenant_id=created.tenant_id,
        name=created.name,
        public_key=created.public_key,
        secret_key=created.secret_key,
    )
