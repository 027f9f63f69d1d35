"""The exception handlers: every error is answered in the shape ingest/wire.py renders,
{"error": {"code", "message", "field"?, "index"?}}. Every 503 carries `Retry-After` (DESIGN §8);
a database that cannot be reached is a 503 whatever the route, and whatever wrapped its error
(decision 45)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from journeyline.api.responses import OrjsonResponse
from journeyline.config import Settings
from journeyline.errors import InvalidPayload, JourneylineError, StorageUnavailable
from journeyline.ingest import wire
from journeyline.logs.context import current_request
from journeyline.store.outages import is_unavailable

log = logging.getLogger("journeyline.api")

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_payload",
    429: "rate_limited",
    503: "unavailable",
}


def retry_after(request: Request) -> dict[str, str]:
    """The `Retry-After` header every 503 carries, from the app's settings."""
    state = getattr(request.app.state, "journeyline", None)
    settings: Settings | None = getattr(state, "settings", None)
    seconds = (
        settings.retry_after_seconds if settings is not None else Settings().retry_after_seconds
    )
    return {"Retry-After": str(seconds)}


def error_response(
    request: Request,
    status: int,
    body: dict[str, object],
    headers: dict[str, str] | None = None,
) -> OrjsonResponse:
    """`body` as rendered by ingest/wire.py, answered with `status`."""
    if status == 503:
        headers = {**retry_after(request), **(headers or {})}
    return OrjsonResponse(body, status_code=status, headers=headers)


async def on_journeyline_error(request: Request, exc: Exception) -> OrjsonResponse:
    assert isinstance(exc, JourneylineError)
    return error_response(request, exc.status_code, wire.error_body(exc), headers=exc.headers())


async def on_validation_error(request: Request, exc: Exception) -> OrjsonResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    invalid = InvalidPayload(str(first.get("msg")), field=".".join(location) or None)
    return error_response(request, invalid.status_code, wire.error_body(invalid))


async def on_http_error(request: Request, exc: Exception) -> OrjsonResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    return error_response(
        request,
        exc.status_code,
        wire.plain_error_body(code, str(exc.detail)),
        headers=dict(exc.headers) if exc.headers else None,
    )


async def on_unexpected_error(request: Request, exc: Exception) -> OrjsonResponse:
    if is_unavailable(exc):
        # Whatever raised it (a driver error no unit of work wrapped), the client may simply
        # send the same request again once the database is back.
        log.warning("the database is unavailable: %s", type(exc).__name__)
        unavailable = StorageUnavailable("the database is unavailable")
        return error_response(request, unavailable.status_code, wire.error_body(unavailable))
    log.exception("unhandled error", exc_info=exc)
    # Answered outside the instrumentation middleware, which echoes the id on every other
    # response: the id the client can quote to find this line.
    context = current_request()
    headers = {"X-Request-ID": context.request_id} if context is not None else None
    internal = JourneylineError("internal error")  # the tree's root: 500, `internal_error`
    return error_response(request, internal.status_code, wire.error_body(internal), headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(JourneylineError, on_journeyline_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected_error)
