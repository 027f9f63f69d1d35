"""One renderer for every error: {"error": {"code", "message", "field"?, "index"?}}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from journeyline.api.responses import OrjsonResponse
from journeyline.errors import JourneylineError

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
}


def error_response(
    status: int, body: dict[str, object], headers: dict[str, str] | None = None
) -> OrjsonResponse:
    return OrjsonResponse({"error": body}, status_code=status, headers=headers)


async def on_journeyline_error(_request: Request, exc: Exception) -> OrjsonResponse:
    assert isinstance(exc, JourneylineError)
    return error_response(exc.status_code, exc.to_dict(), headers=exc.headers())


async def on_validation_error(_request: Request, exc: Exception) -> OrjsonResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    body: dict[str, object] = {"code": "invalid_payload", "message": str(first.get("msg"))}
    if location:
        body["field"] = ".".join(location)
    return error_response(422, body)


async def on_http_error(_request: Request, exc: Exception) -> OrjsonResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    return error_response(
        exc.status_code,
        {"code": code, "message": str(exc.detail)},
        headers=dict(exc.headers) if exc.headers else None,
    )


async def on_unexpected_error(_request: Request, exc: Exception) -> OrjsonResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, {"code": "internal_error", "message": "internal error"})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(JourneylineError, on_journeyline_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected_error)
