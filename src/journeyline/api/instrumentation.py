"""Each request's id, log context, access line and duration metric (decision 54).

The request id is the client's `X-Request-ID` when it is sane (up to 128 of `A-Za-z0-9._:-`,
and no key), else a new one; the response echoes it. While the request is handled every log
line carries it, the method, the route template and, once authenticated, the tenant
(logs/context.py). When it is answered, `journeyline_http_request_duration_seconds{method,
route,status}` observes its duration and, when `journeyline.access` is on at INFO (`serve
--access-log`), one line says method, route, status and milliseconds.

A pure ASGI middleware (Starlette's BaseHTTPMiddleware costs a task and a stream per request),
outermost of the app's own, so its duration covers theirs. An error no handler answered leaves
the context set: the server error handler outside it writes its line with the request's id.
"""

from __future__ import annotations

import logging
import os
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from journeyline.logs.context import CURRENT_REQUEST, RequestContext
from journeyline.logs.formatting import ACCESS_LOGGER
from journeyline.logs.redaction import redact
from journeyline.metrics import observe_request

REQUEST_ID_HEADER = b"x-request-id"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
access_log = logging.getLogger(ACCESS_LOGGER)


def request_id_of(scope: Scope) -> str:
    """The client's request id if it may be logged and echoed as it is, else a new one."""
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            presented: str = value.decode("latin-1")
            if _SANE_REQUEST_ID.fullmatch(presented) and redact(presented) == presented:
                return presented
            break
    # 128 random bits as 32 hex digits: uuid4().hex's shape at a fifth of its cost.
    return os.urandom(16).hex()


class Instrumentation:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            # The stream's lines carry their request id and tenant too; no access line or
            # duration for a socket that lives for hours.
            token = CURRENT_REQUEST.set(RequestContext(request_id_of(scope), "WEBSOCKET", scope))
            await self.app(scope, receive, send)
            CURRENT_REQUEST.reset(token)
            return
        if kind != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        context = RequestContext(request_id_of(scope), scope["method"], scope)
        token = CURRENT_REQUEST.set(context)
        echoed = (REQUEST_ID_HEADER, context.request_id.encode())
        status = 500  # what the server error handler answers if nothing was sent

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), echoed]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except BaseException:
            _record(context, status, started)
            raise
        _record(context, status, started)
        CURRENT_REQUEST.reset(token)


def _record(context: RequestContext, status: int, started: float) -> None:
    seconds = time.perf_counter() - started
    route = context.route
    observe_request(context.method, route, status, seconds)
    if access_log.isEnabledFor(logging.INFO):
        duration_ms = round(seconds * 1000, 1)
        access_log.info(
            "%s %s %d %.1f ms",
            context.method,
            route,
            status,
            duration_ms,
            extra={"status": status, "duration_ms": duration_ms},
        )
