"""The dashboard's pages (/app): sign in with a secret key, then read the tenant's data through
the same services as the API. Forms post back here (CSRF-checked, the sign-in form too; bodies
bounded before they are read); live updates come from `/v1/stream`, authenticated by the
session cookie. Signing out deletes the sign-in's record: its cookie stops working."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, get_args
from urllib.parse import parse_qs

import jinja2
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from journeyline.api.bodies import read_body
from journeyline.api.deps import ReadSession, authenticate, client_address, session_claim
from journeyline.api.state import AppState
from journeyline.crm import service as crm_service
from journeyline.errors import InvalidPayload, JourneylineError, ProfileNotFound
from journeyline.graph import service as graph_service
from journeyline.graph.attribution import AttributionModel
from journeyline.identity import reads
from journeyline.identity.identity_merges import Unmerge
from journeyline.ingest import operator_merges
from journeyline.orders import service as orders_service
from journeyline.store.db import Session
from journeyline.store.models import AttributeChange
from journeyline.tenancy import sessions, signins
from journeyline.tenancy.context import TenantContext
from journeyline.tenancy.keys import hash_key
from journeyline.web.activity import feed_names
from journeyline.web.directory import directory, entry_of
from journeyline.web.lookup import badge, search_terms
from journeyline.web.overview import overview
from journeyline.web.signed_in import SIGN_IN, SignedIn, SignedInJson, visitor
from journeyline.webhooks import service as webhooks_service
from journeyline.webhooks.registry import PROVIDERS

router = APIRouter(prefix="/app", include_in_schema=False)

MODELS: tuple[str, ...] = get_args(AttributionModel)
# A sign-in form or a dashboard action carries a key or an id, never more.
MAX_FORM_BYTES = 4096


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _money(amount: float | Decimal | None, currency: str | None) -> str:
    if amount is None:
        return ""
    return f"{float(amount):,.2f} {currency or ''}".strip()


def _short(value: object) -> str:
    # The tail: UUIDv7 ids made close together share their leading (time) digits.
    return str(value)[-8:]


_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("journeyline.web", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)
_templates.globals.update(when=_when, money=_money, short=_short, badge=badge)


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.journeyline
    return state


def _token(request: Request) -> str | None:
    return request.cookies.get(sessions.COOKIE)


def _render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    token = _token(request)
    csrf = context.pop("csrf", None)
    if csrf is None:
        csrf = sessions.csrf_token(_state(request).session_secret, token) if token else ""
    html = _templates.get_template(name).render(
        signed_in=bool(token), csrf=csrf, page=context.pop("page", ""), title="", **context
    )
    return HTMLResponse(html, status_code=status_code)


async def _form(request: Request) -> dict[str, str]:
    """The form's fields. A body over MAX_FORM_BYTES is refused (413) from its declared length
    or as soon as the stream passes the limit: it is never read whole."""
    body = await read_body(request, MAX_FORM_BYTES)
    try:
        parsed = parse_qs(body.decode(), max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {name: values[0] for name, values in parsed.items() if values}


def _csrf_ok(request: Request, form: Mapping[str, str]) -> bool:
    token = _token(request)
    if not token:
        return False
    expected = sessions.csrf_token(_state(request).session_secret, token)
    return sessions.token_matches(form.get("csrf"), expected)


def _rejected(reason: str) -> HTMLResponse:
    return HTMLResponse(f"<p>{reason}</p>", status_code=403)


@router.get("")
async def home(context: Annotated[TenantContext | None, Depends(visitor)]) -> Response:
    return RedirectResponse("/app/overview" if context else SIGN_IN, status_code=303)


def _sign_in_form(
    request: Request, status_code: int = 200, error: str | None = None
) -> HTMLResponse:
    """The sign-in page, its form's token bound to the visitor's nonce cookie (made here the
    first time)."""
    nonce = request.cookies.get(sessions.SIGN_IN_COOKIE) or sessions.new_sign_in_id()
    csrf = sessions.sign_in_csrf_token(_state(request).session_secret, nonce)
    response = _render(request, "sign_in.html", status_code, error=error, csrf=csrf)
    if request.cookies.get(sessions.SIGN_IN_COOKIE) != nonce:
        response.set_cookie(
            sessions.SIGN_IN_COOKIE,
            nonce,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/app",
        )
    return response


def _sign_in_csrf_ok(request: Request, form: Mapping[str, str]) -> bool:
    nonce = request.cookies.get(sessions.SIGN_IN_COOKIE)
    if not nonce:
        return False
    expected = sessions.sign_in_csrf_token(_state(request).session_secret, nonce)
    return sessions.token_matches(form.get("csrf"), expected)


# Why a session ended, for the sign-in page to say (`?ended=`; anything else says nothing).
ENDED = {
    "key-revoked": (
        "The key this session signed in with was revoked, which ended the session: sign in "
        "with another secret key."
    ),
}


@router.get("/sign-in")
async def sign_in_page(request: Request, ended: str = "") -> Response:
    return _sign_in_form(request, error=ENDED.get(ended))


# A newcomer's first try is often the first key printed (issue 17): say which one to use.
PUBLIC_KEY_AT_SIGN_IN = (
    "This is a public key (pk_…), which only sends events; sign in with a secret key (sk_…) "
    "of the same tenant."
)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await _form(request)
    if not _sign_in_csrf_ok(request, form):
        return _sign_in_form(request, 403, "The form expired; sign in again.")
    key = form.get("key", "").strip()
    try:
        context = await authenticate(_state(request), key or None, client_address(request))
    except JourneylineError:
        context = None
    if context is not None and not context.is_secret:
        return _sign_in_form(request, 401, PUBLIC_KEY_AT_SIGN_IN)
    if context is None:
        error = "That is not a secret key of any tenant." if key else "Enter a secret key."
        return _sign_in_form(request, 401, error)
    state = _state(request)
    now = datetime.now(UTC)
    max_age = state.settings.dashboard.session_max_age_seconds
    tenant_id, key_hash = context.tenant_id, hash_key(key)
    sign_in_id = await state.database.run(
        lambda session: signins.start(session, tenant_id, key_hash, now, max_age)
    )
    response = RedirectResponse("/app/overview", status_code=303)
    response.set_cookie(
        sessions.COOKIE,
        sessions.issue(state.session_secret, sign_in_id, now),
        max_age=int(max_age),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(sessions.SIGN_IN_COOKIE, path="/app")
    return response


async def _signed_out(request: Request, to: str = SIGN_IN) -> Response:
    """The request's sign-in ended (its record deleted: the cookie stops working anywhere) and
    its cookie cleared; a redirect to `to`."""
    claim = session_claim(_state(request), _token(request))
    if claim is not None:
        sign_in_id = claim.sign_in_id
        await _state(request).database.run(lambda session: signins.end(session, sign_in_id))
    response = RedirectResponse(to, status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    if not _csrf_ok(request, await _form(request)):
        return _rejected("The form expired; reload the page.")
    return await _signed_out(request)


@router.get("/overview")
async def overview_page(request: Request, context: SignedIn, session: ReadSession) -> Response:
    summary = await overview(session, context.tenant_id)
    people = {event.profile_id for event in summary.recent if event.profile_id is not None}
    names = await feed_names(session, context.tenant_id, people)
    return _render(request, "overview.html", page="overview", overview=summary, names=names)


@router.get("/overview/counts")
async def overview_counts(request: Request, context: SignedIn, session: ReadSession) -> Response:
    summary = await overview(session, context.tenant_id, recent=0)
    return _render(request, "_counts.html", overview=summary)


@router.get("/profiles")
async def profiles_page(
    request: Request,
    context: SignedIn,
    session: ReadSession,
    q: str = "",
    after: str = "",
    before: str = "",
) -> Response:
    """Every surviving profile, or those a search matches (web/lookup.py), a page at a time."""
    terms = search_terms(q, context.phone_region)
    query = terms.text if terms else ""
    try:
        found = await directory(session, context.tenant_id, terms, after=after, before=before)
    except InvalidPayload:
        return _render(
            request,
            "profiles.html",
            400,
            page="profiles",
            query=query,
            listing=None,
            error="That page link is not valid: start again from the first page.",
        )
    return _render(
        request, "profiles.html", page="profiles", query=query, listing=found, error=None
    )


def _lineage_by_path(changes: list[AttributeChange]) -> dict[str, list[AttributeChange]]:
    by_path: dict[str, list[AttributeChange]] = {}
    for change in sorted(changes, key=lambda change: change.changed_at):
        by_path.setdefault(change.path, []).append(change)
    return by_path


@router.get("/profiles/{profile_id}")
async def profile_page(
    request: Request, profile_id: str, context: SignedIn, session: ReadSession
) -> Response:
    try:
        wanted = uuid.UUID(profile_id)
        profile = await reads.get_profile(session, context.tenant_id, wanted)
        timeline, _ = await reads.profile_events(
            session, context.tenant_id, profile.id, limit=200, before=None
        )
        lineage = await reads.profile_lineage(session, context.tenant_id, profile.id, limit=500)
        merges = await reads.profile_merges(session, context.tenant_id, profile.id)
        orders, _ = await orders_service.list_orders(
            session, context.tenant_id, profile_ids=[profile.id], limit=100, after=None
        )
        entry = await entry_of(
            session,
            context.tenant_id,
            profile.id,
            tuple(profile.identities),
            [profile.id, *profile.merged_from],
        )
    except (ValueError, ProfileNotFound):
        return _render(request, "not_found.html", 404, page="profiles", message="No such profile.")
    return _render(
        request,
        "profile.html",
        page="profiles",
        profile=profile,
        timeline=timeline,
        lineage=_lineage_by_path(lineage),
        merges=merges,
        orders=orders,
        entry=entry,
    )


@router.get("/profiles/{profile_id}/unmerge")
async def unmerge_confirmation(
    request: Request, profile_id: str, context: SignedIn, session: ReadSession, merged: str = ""
) -> Response:
    """The step before an unmerge: what will be split off, and the form that does it."""
    try:
        into_id, merged_id = uuid.UUID(profile_id), uuid.UUID(merged)
        profile = await reads.get_profile(session, context.tenant_id, into_id)
        merges = await reads.profile_merges(session, context.tenant_id, profile.id)
    except (ValueError, ProfileNotFound):
        return _render(request, "not_found.html", 404, page="profiles", message="No such merge.")
    merge = next(
        (
            merge
            for merge in merges
            if merge.from_profile_id == merged_id
            and merge.unmerged_at is None
            and merged_id in profile.merged_from
        ),
        None,
    )
    if merge is None or profile.id != into_id:
        return _render(request, "not_found.html", 404, page="profiles", message="No such merge.")
    returning = [
        (str(pair[0]), str(pair[1]))
        for pair in (merge.journal or {}).get("identities", [])
        if isinstance(pair, list) and len(pair) == 2
    ]
    emails = [value for kind, value in returning if kind == "email"]
    kept = [value for kind, value in profile.identities if kind == "email"]
    return _render(
        request,
        "unmerge.html",
        page="profiles",
        profile=profile,
        merge=merge,
        returning=returning,
        merged_label=emails[0] if emails else f"…{_short(merged_id)}",
        into_label=profile.attributes.get("name") or (kept[0] if kept else f"…{_short(into_id)}"),
    )


@router.post("/profiles/{profile_id}/unmerge")
async def unmerge(request: Request, profile_id: str, context: SignedIn) -> Response:
    form = await _form(request)
    if not _csrf_ok(request, form):
        return _rejected("The form expired; reload the page.")
    try:
        into_id, merged_id = uuid.UUID(profile_id), uuid.UUID(form.get("profile_id", ""))
    except ValueError:
        return _render(request, "not_found.html", 404, page="profiles", message="No such merge.")
    try:
        await _state(request).database.run(
            lambda session: operator_merges.unmerge_profile(
                session, Unmerge(context.tenant_id, into_id, merged_id, datetime.now(UTC))
            )
        )
    except JourneylineError as exc:
        return _render(
            request, "not_found.html", exc.status_code, page="profiles", message=exc.message
        )
    return RedirectResponse(f"/app/profiles/{into_id}", status_code=303)


@router.get("/intelligence")
async def intelligence_page(
    request: Request,
    context: SignedIn,
    session: ReadSession,
    mode: str = "summary",
    model: str = "linear",
) -> Response:
    mode = mode if mode in ("summary", "full") else "summary"
    model = model if model in MODELS else "linear"
    stats = await graph_service.stats(session, context.tenant_id)
    attribution = await graph_service.attribution(
        session,
        context.tenant_id,
        model,  # type: ignore[arg-type]  # checked against MODELS above
    )
    return _render(
        request,
        "intelligence.html",
        page="intelligence",
        mode=mode,
        model=model,
        models=MODELS,
        stats=stats,
        attribution=attribution,
    )


@router.get("/intelligence/stats")
async def intelligence_stats(request: Request, context: SignedIn, session: ReadSession) -> Response:
    stats = await graph_service.stats(session, context.tenant_id)
    return _render(request, "_stats.html", stats=stats)


@router.get("/intelligence/graph.json")
async def intelligence_graph(
    context: SignedInJson, session: ReadSession, mode: str = "summary"
) -> Response:
    view = await graph_service.intelligence(
        session, context.tenant_id, "full" if mode == "full" else "summary", 300
    )
    return JSONResponse(
        {
            "nodes": [
                {"id": str(n.id), "type": n.type, "key": n.key, "label": n.label}
                for n in view.nodes
            ],
            "edges": [
                {"type": e.type, "source": str(e.source), "target": str(e.target)}
                for e in view.edges
            ],
            "truncated": view.truncated,
        }
    )


@router.get("/pipeline")
async def pipeline_page(request: Request, context: SignedIn, session: ReadSession) -> Response:
    board = await crm_service.board(session, context.tenant_id, 5000)
    return _render(request, "pipeline.html", page="pipeline", board=board)


@router.get("/pipeline/board")
async def board_fragment(request: Request, context: SignedIn, session: ReadSession) -> Response:
    board = await crm_service.board(session, context.tenant_id, 5000)
    return _render(request, "_board.html", board=board)


async def _webhooks_page(
    request: Request, session: Session, context: TenantContext, notice: str | None
) -> Response:
    connections = await webhooks_service.list_connections(session, context.tenant_id)
    deliveries, _ = await webhooks_service.deliveries(
        session, context.tenant_id, connection_id=None, limit=50, before=None
    )
    return _render(
        request,
        "webhooks.html",
        page="webhooks",
        connections=connections,
        deliveries=deliveries,
        notice=notice,
        # The full inbound URL a provider is pointed at, as this request reached the server.
        base_url=str(request.base_url),
    )


@router.get("/webhooks")
async def webhooks_page(request: Request, context: SignedIn, session: ReadSession) -> Response:
    return await _webhooks_page(request, session, context, None)


@router.post("/webhooks/deliveries/{delivery_id}/replay")
async def replay(
    request: Request, delivery_id: str, context: SignedIn, session: ReadSession
) -> Response:
    """The replay is a unit of work of its own (`Database.run`, inside the service); the page
    after it reads on `session`, which begins at its first statement: after that commit."""
    if not _csrf_ok(request, await _form(request)):
        return _rejected("The form expired; reload the page.")
    try:
        receipt = await webhooks_service.replay(
            _state(request).database,
            _state(request).settings,
            PROVIDERS,
            context,
            uuid.UUID(delivery_id),
        )
        notice = f"Replayed: {receipt.status}."
    except (ValueError, JourneylineError) as exc:
        notice = f"Not replayed: {getattr(exc, 'message', 'no such delivery')}"
    return await _webhooks_page(request, session, context, notice)
