"""WS /v1/stream: a tenant's committed mutations, live (DESIGN §10). A secret key, or the
dashboard's session cookie from the dashboard's own origin only (decision 48): a browser sends
cookies with a WebSocket handshake from any page, so without the Origin check another site (or
another port of the same host) could read a signed-in tenant's live data."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from journeyline.api.deps import authenticate, client_address, session_context
from journeyline.api.state import AppState
from journeyline.errors import JourneylineError, StorageUnavailable
from journeyline.realtime.hub import Subscription
from journeyline.realtime.messages import message
from journeyline.tenancy import sessions
from journeyline.tenancy.context import TenantContext

router = APIRouter(tags=["stream"])


def _origin(value: str) -> str:
    return value.strip().rstrip("/").lower()


def dashboard_origin_ok(websocket: WebSocket, allowed: Iterable[str]) -> bool:
    """The handshake's Origin is the server's own (the scheme the socket came in on, the Host it
    named) or one configured in `dashboard.allowed_origins`. No Origin is no browser of ours:
    every browser sends one with a WebSocket handshake."""
    origin = websocket.headers.get("origin")
    host = websocket.headers.get("host")
    if not origin:
        return False
    scheme = "https" if websocket.url.scheme in ("wss", "https") else "http"
    own = {_origin(f"{scheme}://{host}")} if host else set()
    return _origin(origin) in own | {_origin(other) for other in allowed}


async def _tenant_of(websocket: WebSocket, state: AppState) -> TenantContext | str:
    """The secret key's tenant (or the dashboard session's), or why the socket is refused."""
    key = websocket.query_params.get("key")
    cookie = websocket.cookies.get(sessions.COOKIE)
    if not key and cookie:
        if not dashboard_origin_ok(websocket, state.settings.dashboard.allowed_origins):
            return "the dashboard session opens the stream from the dashboard's own origin only"
        signed_in = await session_context(state, cookie)
        if signed_in is not None:
            return signed_in
    try:
        context = await authenticate(state, key.strip() if key else None, client_address(websocket))
    except StorageUnavailable:
        raise
    except JourneylineError as exc:
        return exc.message
    if not context.is_secret:
        return "the stream needs a secret key (sk_…)"
    return context


async def _client_gone(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, text or binary frames alike, until it closes:
    the stream is one-way, but a close is only noticed by reading."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            received = await websocket.receive()
            if received["type"] == "websocket.disconnect":
                return


async def _pump(websocket: WebSocket, subscription: Subscription, ping_seconds: float) -> None:
    while True:
        try:
            item: dict[str, Any] = await asyncio.wait_for(subscription.next(), ping_seconds)
        except TimeoutError:
            item = message(subscription.tenant_id, "ping", {})
        await websocket.send_json(item)


@router.websocket("/v1/stream")
async def stream(websocket: WebSocket) -> None:
    """`?key=sk_…`, or the dashboard's session cookie. A refused socket is closed before it is accepted (policy violation, with
    the reason); an accepted one first says `ready` (subscribed: anything committed from now
    on will arrive), then relays the tenant's messages, with a `ping` after each
    `ping_seconds` of silence."""
    state: AppState = websocket.app.state.journeyline
    try:
        tenant = await _tenant_of(websocket, state)
    except StorageUnavailable as exc:
        # 1013 "try again later": the WebSocket's 503.
        await websocket.close(code=status.WS_1013_TRY_AGAIN_LATER, reason=exc.message)
        return
    if isinstance(tenant, str):
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=tenant)
        return
    await websocket.accept()
    with state.hub.subscribe(tenant.tenant_id) as subscription:
        await websocket.send_json(message(tenant.tenant_id, "ready", {}))
        reader = asyncio.create_task(_client_gone(websocket))
        writer = asyncio.create_task(
            _pump(websocket, subscription, state.settings.realtime.ping_seconds)
        )
        done, pending = await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await task
        for task in done:
            # The writer ends only by failing to send: the client is gone.
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                task.result()
