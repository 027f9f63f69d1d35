"""Shared dependencies: the process state, the database, and who the caller is."""

from __future__ import annotations

import hmac
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from journeyline.api.state import AppState
from journeyline.config import Settings
from journeyline.errors import Forbidden, InvalidPayload, RateLimited, Unauthorized
from journeyline.logs.context import tenant_known
from journeyline.statuses import KeyKind
from journeyline.store.db import Database, Session
from journeyline.store.repositories.tenants import KeyOwner
from journeyline.tenancy import service as tenancy
from journeyline.tenancy import sessions, signins
from journeyline.tenancy.context import TenantContext, build_context
from journeyline.tenancy.keys import PREFIXES

KEY_PREFIXES = tuple(PREFIXES.values())


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


async def read_session(state: StateDep) -> AsyncIterator[Session]:
    """A read-only route's session (`Database.read`: nothing is committed). It connects at its
    first statement, and an outage inside the route is still a StorageUnavailable (503): the
    route's exception passes through `read`. Writes never take it: they run on `Database.run`,
    whose retry owns the transaction (decision 65)."""
    async with state.database.read() as session:
        yield session


# scope="function": the session closes when the route returns, before the response is sent
# (a read transaction is not held open while a slow client reads its answer).
ReadSession = Annotated[Session, Depends(read_session, scope="function")]


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
    if query:
        return query.strip()
    if authorization:
        _refuse_a_key_without_its_scheme(authorization)
    return None


def _refuse_a_key_without_its_scheme(authorization: str) -> None:
    """`Authorization: sk_…` (no `Bearer`) is a newcomer's usual slip (issue 17): say the fix
    rather than that no key was given."""
    value = authorization.strip()
    for prefix in KEY_PREFIXES:
        if value.startswith(prefix):
            raise Unauthorized(
                f"the Authorization header holds a key without its scheme: send "
                f"`Authorization: Bearer {prefix}…` (or `X-API-Key: {prefix}…`)"
            )


def client_address(connection: HTTPConnection) -> str:
    """The address failed authentications are counted against (behind a proxy, run uvicorn
    with --proxy-headers so this is the client's, not the proxy's)."""
    client = connection.client
    return client.host if client is not None else "unknown"


def _address_refused(retry_after: int) -> RateLimited:
    return RateLimited(
        "too many failed authentications from this address; try again later",
        retry_after=retry_after,
    )


async def identify_key(state: AppState, key: str | None, address: str) -> KeyOwner:
    """The owner of `key`, spending nothing from its budget. A key this process knows costs a
    dict lookup; otherwise an address over its failure budget is refused before any database
    work, and a key that is not valid spends from that budget (DESIGN §8)."""
    if not key:
        raise Unauthorized("an API key is required (Authorization: Bearer, X-API-Key or ?key=)")
    owner = tenancy.cached_key_owner(key, state.keys)
    if owner is not None:
        return owner
    retry = await state.budgets.refused_address(address)
    if retry is not None:
        raise _address_refused(retry)
    async with state.database.read() as session:
        owner = await tenancy.authenticate_key(session, key, state.keys)
    if owner is None:
        retry = await state.budgets.charge_failure(address)
        if retry is not None:
            raise _address_refused(retry)
        raise Unauthorized("the API key is not valid")
    return owner


async def authenticate(state: AppState, key: str | None, address: str) -> TenantContext:
    """The caller's context, once the key's request budget allowed this request (429 with
    Retry-After otherwise, before anything is read or stored)."""
    owner = await identify_key(state, key, address)
    tenant_known(owner.tenant_id)
    kind: KeyKind = "secret" if owner.kind == "secret" else "public"
    context = build_context(
        owner.tenant_id, kind, owner.tenant_settings, state.settings, key_id=owner.key_id
    )
    retry = await state.budgets.charge("requests", str(owner.key_id), context.request_budget)
    if retry is not None:
        raise RateLimited("this key is over its request budget", retry_after=retry)
    state.usage.touch(owner.tenant_id, owner.key_id, time.time())
    return context


async def authenticate_url_key(
    request: Request,
    state: AppState,
    key: str | None,
    in_url: bool,
    *,
    missing: str,
    in_url_refused: str,
) -> TenantContext:
    """`authenticate` for a key that may have come in the URL (`?writeKey=`, `?api_key=`): a
    missing key is 401 with `missing`, a secret key in a URL is 403 with `in_url_refused`
    (it ends up in logs, histories and proxies: decision 62)."""
    if key is None:
        raise Unauthorized(missing)
    context = await authenticate(state, key, client_address(request))
    if in_url and context.is_secret:
        raise Forbidden(in_url_refused)
    return context


async def charge_batch_events(state: AppState, context: TenantContext, events: int) -> None:
    """POST /tenant/ingest/batch spends its events from the key's batch budget."""
    if context.key_id is None:
        return
    budget = context.batch_budget
    if events > budget.burst:
        raise RateLimited(
            f"a batch of {events} events is more than this key's batch burst ({budget.burst}); "
            "send smaller batches",
            retry_after=budget.window_seconds,
        )
    retry = await state.budgets.charge("batch-events", str(context.key_id), budget, events)
    if retry is not None:
        raise RateLimited(
            f"this key is over its batch budget ({budget.burst} events per "
            f"{budget.window_seconds} s)",
            retry_after=retry,
        )


def session_claim(state: AppState, token: str | None) -> sessions.SessionClaim | None:
    """The claim of a session cookie with a valid signature that has not expired."""
    if not token:
        return None
    return sessions.verify(
        state.session_secret,
        token,
        datetime.now(UTC),
        state.settings.dashboard.session_max_age_seconds,
    )


async def session_context(state: AppState, token: str | None) -> TenantContext | None:
    """The tenant of a dashboard session cookie: a valid signature, not expired, a sign-in not
    ended by signing out, and a secret key that still exists (revoking the key ends its
    sessions)."""
    claim = session_claim(state, token)
    if claim is None:
        return None
    owner = None
    async with state.database.read() as session:
        key_hash = await signins.key_hash_of(session, claim.sign_in_id)
        if key_hash is not None:
            owner = await tenancy.owner_of_key_hash(session, key_hash, state.keys)
    if owner is None or owner.kind != "secret":
        return None
    tenant_known(owner.tenant_id)
    return build_context(owner.tenant_id, "secret", owner.tenant_settings, state.settings)


async def any_key(request: Request, state: StateDep) -> TenantContext:
    """Any key of the tenant, public or secret (the ingest routes a browser or a server may call)."""
    return await authenticate(state, presented_key(request), client_address(request))


def _secret_only(context: TenantContext) -> TenantContext:
    if not context.is_secret:
        raise Forbidden("this route needs a secret key (sk_…); a public key may only send events")
    return context


async def secret_key(request: Request, state: StateDep) -> TenantContext:
    """A secret key only: server writes, reads, administration of the tenant."""
    return _secret_only(await authenticate(state, presented_key(request), client_address(request)))


async def company(state: AppState, body: dict[str, object], address: str) -> TenantContext:
    """TrackMate's public routes: `company_id` in the body is the tenant's public key."""
    company_id = body.get("company_id")
    if not isinstance(company_id, str) or not company_id.strip():
        raise Unauthorized("company_id is required: the tenant's public key (pk_…)")
    context = await authenticate(state, company_id.strip(), address)
    if context.is_secret:
        raise Unauthorized(
            "company_id must be the tenant's public key (pk_…); never put a secret key in a page"
        )
    return context


async def company_of_secret(
    state: AppState, context: TenantContext, body: dict[str, object], address: str
) -> None:
    """TrackMate's server route: the body's `company_id` must name the key's own tenant (a
    lookup, not a use: the public key's budget is not spent)."""
    company_id = body.get("company_id")
    if not isinstance(company_id, str) or not company_id.strip():
        raise InvalidPayload("company_id is required: the tenant's public key", field="company_id")
    try:
        named: KeyOwner | None = await identify_key(state, company_id.strip(), address)
    except Unauthorized:
        named = None
    if named is None or named.tenant_id != context.tenant_id:
        raise Forbidden("company_id is not the tenant of this API key")


async def trackmate_secret_key(request: Request, state: StateDep) -> TenantContext:
    """A secret key in `X-TrackMate-API-Key` (TrackMate's header) or the usual places."""
    header = request.headers.get("x-trackmate-api-key")
    return _secret_only(
        await authenticate(
            state, header.strip() if header else presented_key(request), client_address(request)
        )
    )


async def admin_token(request: Request, state: StateDep) -> None:
    expected = state.settings.admin_token
    authorization = request.headers.get("authorization", "")
    scheme, _, presented = authorization.partition(" ")
    if not expected:
        raise Forbidden("platform administration is disabled: set JOURNEYLINE_ADMIN_TOKEN")
    address = client_address(request)
    retry = await state.budgets.refused_address(address)
    if retry is not None:
        raise _address_refused(retry)
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        presented.strip().encode(), expected.encode()
    ):
        retry = await state.budgets.charge_failure(address)
        if retry is not None:
            raise _address_refused(retry)
        raise Unauthorized(
            "the admin token is missing or wrong: send `Authorization: Bearer` and the value of "
            "JOURNEYLINE_ADMIN_TOKEN"
        )


AnyKeyDep = Annotated[TenantContext, Depends(any_key)]
SecretDep = Annotated[TenantContext, Depends(secret_key)]
AdminDep = Annotated[None, Depends(admin_token)]
TrackMateSecretDep = Annotated[TenantContext, Depends(trackmate_secret_key)]
