"""A tenant's own settings: GET and PATCH /v1/settings (phone region, identifier limits, block
list, abandonment, rate limit)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from journeyline.api.bodies import json_object, read_json
from journeyline.api.deps import ReadSession, SecretDep, StateDep
from journeyline.api.openapi_bodies import model_schema
from journeyline.api.openapi_errors import BODY, SECRET
from journeyline.api.responses import OrjsonResponse
from journeyline.ingest.dialects.fields import parse_model
from journeyline.tenancy import service as tenancy
from journeyline.tenancy import settings as tenant_config
from journeyline.tenancy.settings import SettingsPatch

router = APIRouter(tags=["administration"], responses=SECRET)

MAX_BODY_BYTES = 64 * 1024


@router.get("/v1/settings", summary="The tenant's effective settings")
async def get_settings(context: SecretDep, state: StateDep, session: ReadSession) -> OrjsonResponse:
    """Every setting with the value that applies now: the tenant's own, else the default."""
    stored = await tenancy.stored_settings(session, context.tenant_id)
    return OrjsonResponse(tenant_config.effective(stored, state.settings))


@router.patch(
    "/v1/settings",
    summary="Change the tenant's settings",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model_schema(SettingsPatch)}},
        }
    },
    responses=BODY,
)
async def patch_settings(request: Request, context: SecretDep, state: StateDep) -> OrjsonResponse:
    """Any subset of the settings; `null` restores a default. Applies at once in this process
    and within 5 s in every other (their key caches carry the settings)."""
    patch = parse_model(SettingsPatch, json_object(await read_json(request, MAX_BODY_BYTES)))
    stored: dict[str, Any] = await state.database.run(
        lambda session: tenancy.update_settings(session, context.tenant_id, patch)
    )
    state.keys.evict_tenant(context.tenant_id)
    return OrjsonResponse(tenant_config.effective(stored, state.settings))
