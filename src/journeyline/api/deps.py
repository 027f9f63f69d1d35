"""Shared dependencies: the process state, the database, and who the caller is."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from journeyline.api.state import AppState
from journeyline.config import Settings
from journeyline.errors import Forbidden, Unauthorized
from journeyline.store.db import Database
from journeyline.tenancy import service as tenancy
from journeyline.tenancy.context import TenantContext, build_context
from journeyline.tenancy.keys import KeyKind


# Dependencies are `async def` on purpose: FastAPI runs a plain `def` dependency in a thread
# pool, a thread hop per request for what is an attribute read.
async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.journeyline
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_database(state: StateDep) -> Database:
    return state.database


async def get_settings_dep(state: StateDep) -> Settings:
    return state.settings


DatabaseDep = Annotated[Database, Depends(get_database)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def presented_key(request: Request) -> str | None:
    """The key from `Authorization: Bearer`, `X-API-Key`, or `?key=` (sendBeacon can't set headers)."""
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    header = request.headers.get("x-api-key")
    if header:
        return header.strip()
    query = request.query_params.get("key")
    return query.strip() if query else None


async def authenticate(state: AppState, key: str | None) -> TenantContext:
    if not key:
        raise Unauthorized("an API key is required (Authorization: Bearer, X-API-Key or ?key=)")
    owner = tenancy.cached_key_owner(key, state.keys)
    if owner is None:
        async with state.database.read() as session:
            owner = await tenancy.authenticate_key(session, key, state.keys)
    if owner is None:
        raise Unauthorized("the API key is not valid")
    kind: KeyKind = "secret" if owner.kind == "secret" else "public"
    return build_context(owner.tenant_id, kind, owner.tenant_settings, state.settings)


async def any_key(request: Request, state: StateDep) -> TenantContext:
    """A public or a secret key: client-side writes."""
    return await authenticate(state, presented_key(request))


async def secret_key(request: Request, state: StateDep) -> TenantContext:
    """A secret key only: server writes, reads, administration of the tenant."""
    context = await authenticate(state, presented_key(request))
    if not context.is_secret:
        raise Forbidden("this route needs a secret key (sk_…); a public key may only send events")
    return context


async def admin_token(request: Request, state: StateDep) -> None:
    expected = state.settings.admin_token
    authorization = request.headers.get("authorization", "")
    scheme, _, presented = authorization.partition(" ")
    if not expected:
        raise Forbidden("platform administration is disabled: set JOURNEYLINE_ADMIN_TOKEN")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        presented.strip().encode(), expected.encode()
    ):
        raise Unauthorized("the admin token is missing or wrong")


WriterDep = Annotated[TenantContext, Depends(any_key)]
SecretDep = Annotated[TenantContext, Depends(secret_key)]
AdminDep = Annotated[None, Depends(admin_token)]
