"""The dashboard's Settings page (/app/settings): the tenant's API keys — listed by kind, name
and prefix (never a key or its hash), created (a new key is shown once, on the page the form
answers), revoked after a confirmation — and a link to the webhook connections. Keys are made
and revoked through the tenancy service as the API's /v1/keys routes are, eviction from this
process's key cache included. Revoking the key this session signed in with ends the session
(decision 73)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import get_args

from fastapi import APIRouter, Request
from fastapi.responses import Response

from journeyline.api.deps import ReadSession, session_claim
from journeyline.errors import KeyNotFound, LastSecretKey
from journeyline.statuses import KeyKind
from journeyline.store.db import Session
from journeyline.tenancy import service as tenancy
from journeyline.tenancy import sessions, signins
from journeyline.tenancy.context import TenantContext
from journeyline.tenancy.service import NewKey
from journeyline.web.routes import _csrf_ok as csrf_ok
from journeyline.web.routes import _form as read_form
from journeyline.web.routes import _rejected as rejected
from journeyline.web.routes import _render as render_page
from journeyline.web.routes import _signed_out as signed_out
from journeyline.web.routes import _state as app_state
from journeyline.web.signed_in import SIGN_IN, SignedIn
from journeyline.webhooks import service as webhooks_service

router = APIRouter(prefix="/app", include_in_schema=False)

# Secret first: the kind a user comes here for (another server, a key to rotate to).
KINDS: tuple[KeyKind, ...] = tuple(sorted(get_args(KeyKind), reverse=True))
MAX_NAME = 200
# Where the sign-in page says why the session ended (routes.ENDED).
ENDED_BY_REVOCATION = SIGN_IN + "?ended=key-revoked"


class BadKeyForm(ValueError):
    """The create form cannot be used: its message says what to change."""


@dataclass(frozen=True, slots=True)
class KeyRequest:
    kind: KeyKind
    name: str | None


def key_request(kind: str | None, name: str | None) -> KeyRequest:
    """The key a create form asks for (pure). The name is optional, trimmed, 1 to 200 printable
    characters, as the API's `POST /v1/keys` takes it."""
    wanted = (kind or "").strip()
    if wanted not in KINDS:
        raise BadKeyForm("Choose the key's kind: secret or public.")
    cleaned = (name or "").strip() or None
    if cleaned is not None and len(cleaned) > MAX_NAME:
        raise BadKeyForm(f"A key's name holds at most {MAX_NAME} characters.")
    if cleaned is not None and not cleaned.isprintable():
        raise BadKeyForm("A key's name holds printable characters only.")
    return KeyRequest("secret" if wanted == "secret" else "public", cleaned)


async def _session_key_hash(request: Request, session: Session) -> str | None:
    """The hash of the key this request's dashboard session signed in with."""
    claim = session_claim(app_state(request), request.cookies.get(sessions.COOKIE))
    return await signins.key_hash_of(session, claim.sign_in_id) if claim is not None else None


async def _settings_page(
    request: Request,
    session: Session,
    context: TenantContext,
    *,
    status_code: int = 200,
    created: NewKey | None = None,
    notice: str | None = None,
    error: str | None = None,
) -> Response:
    state = app_state(request)
    keys = await tenancy.list_keys_used(session, state.database, state.usage, context.tenant_id)
    connections = await webhooks_service.list_connections(session, context.tenant_id)
    return render_page(
        request,
        "settings.html",
        status_code,
        page="settings",
        keys=keys,
        kinds=KINDS,
        max_name=MAX_NAME,
        own_key_hash=await _session_key_hash(request, session),
        connections=len(connections),
        created=created,
        notice=notice,
        error=error,
    )


def _no_such_key(request: Request) -> Response:
    # Another tenant's key is no key of this one: the same 404 as an unknown id.
    return render_page(request, "not_found.html", 404, page="settings", message="No such key.")


@router.get("/settings")
async def settings_page(request: Request, context: SignedIn, session: ReadSession) -> Response:
    return await _settings_page(request, session, context)


@router.post("/settings/keys")
async def create_key(request: Request, context: SignedIn, session: ReadSession) -> Response:
    """A new key, shown once on the page this answers (only its hash is stored): no redirect,
    since the key could not be shown after one."""
    form = await read_form(request)
    if not csrf_ok(request, form):
        return rejected("The form expired; reload the page.")
    try:
        wanted = key_request(form.get("kind"), form.get("name"))
    except BadKeyForm as exc:
        return await _settings_page(request, session, context, status_code=400, error=str(exc))
    created = await app_state(request).database.run(
        lambda write: tenancy.issue_key(write, context.tenant_id, wanted.kind, wanted.name)
    )
    return await _settings_page(request, session, context, status_code=201, created=created)


@router.post("/settings/keys/{key_id}/revoke")
async def revoke_key(
    request: Request, key_id: str, context: SignedIn, session: ReadSession
) -> Response:
    """Revoke one of the tenant's keys. Another tenant's key, or no key, is a 404; the last
    live secret key is refused with the API's 409. Revoking the session's own key signs it
    out (the key no longer opens the dashboard either)."""
    form = await read_form(request)
    if not csrf_ok(request, form):
        return rejected("The form expired; reload the page.")
    state = app_state(request)
    try:
        wanted = uuid.UUID(key_id)
    except ValueError:
        return _no_such_key(request)
    try:
        revoked = await tenancy.revoke_key_now(
            state.database, state.keys, state.usage, context.tenant_id, wanted
        )
    except KeyNotFound:
        return _no_such_key(request)
    except LastSecretKey as exc:
        return await _settings_page(
            request, session, context, status_code=exc.status_code, error=exc.message
        )
    if revoked.key_hash == await _session_key_hash(request, session):
        # Every request would find the session's key gone: end it as signing out does.
        return await signed_out(request, ENDED_BY_REVOCATION)
    notice = f"Revoked the {revoked.kind} key. It is refused from now on."
    return await _settings_page(
        request, session, context, created=revoked.replacement, notice=notice
    )
