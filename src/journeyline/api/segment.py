"""The Segment dialect: /v1/identify, /v1/track, /v1/page, /v1/screen, /v1/group, /v1/alias and
/v1/batch, as Segment's and RudderStack's SDKs send them, so those SDKs need only a new host.

Auth is HTTP Basic with the write key (a public or secret key) as the user name, or `writeKey` in
the body, or `?writeKey=` (a public key only: a secret key in a URL is a 403). Bodies may be gzip-compressed. Success is 200 `{"success": true}`: the SDKs treat any
other 2xx as a failure and retry. A single message that cannot be taken is a 400 in the error
shape; a batch takes its valid messages and lists the others under `rejected` (decision 36).
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request

from journeyline.api.bodies import gunzip, parse_json, read_body
from journeyline.api.deps import StateDep, authenticate_url_key
from journeyline.api.openapi_bodies import json_body, model_schema
from journeyline.api.openapi_errors import KEYED, errors
from journeyline.api.responses import OrjsonResponse
from journeyline.errors import (
    JourneylineError,
    MalformedBody,
    PayloadTooLarge,
    RejectedMessage,
    TooDeep,
    Unauthorized,
)
from journeyline.ingest import service as ingest_service
from journeyline.ingest import wire
from journeyline.ingest.dialects.fields import check_event_limits
from journeyline.ingest.dialects.segment import (
    SEGMENT_SOURCE,
    SegmentMessage,
    parse_segment_message,
)
from journeyline.payloads import iso_time
from journeyline.tenancy.context import TenantContext

# Compressed bodies are taken here (gzip): no 415.
router = APIRouter(tags=["segment"], responses={**KEYED, **errors(400, 413, 422)})

MESSAGE_TYPES = ("identify", "track", "page", "screen", "group", "alias")
# A public key may write from a page (writeKey in a text/plain body, no preflight): CORS.
PUBLIC_PATHS = (*(f"/v1/{kind}" for kind in MESSAGE_TYPES), "/v1/batch")
# A key in a URL (`?writeKey=`, the settings documents' paths) ends up in logs, histories and
# proxies: only a public key may travel there (decision 62).
SECRET_KEY_IN_URL = (
    "this is a secret key, which must not be put in a page or a URL; use the tenant's public "
    "key (pk_…) here"
)
# Segment's limits: 32 KB per message, 500 KB per request (decompressed).
MAX_MESSAGE_BYTES = 32 * 1024
MAX_REQUEST_BYTES = 500 * 1024
# A compressed body is read up to the request limit too (a gzip bomb stops there).
MAX_BATCH_MESSAGES = 2500
# The documented body (gzip allowed; the write key as Basic auth or `writeKey`).
MESSAGE_SCHEMA = model_schema(SegmentMessage)
BATCH_SCHEMA = {
    "type": "object",
    "properties": {"batch": {"type": "array", "items": MESSAGE_SCHEMA}},
    "required": ["batch"],
}


def _decoded(body: bytes, encoding: str | None) -> bytes:
    if not encoding or encoding.strip().lower() in ("identity", ""):
        return body
    if encoding.strip().lower() not in ("gzip", "x-gzip"):
        raise MalformedBody(f"Content-Encoding {encoding} is not supported; send gzip or none")
    return gunzip(body, MAX_REQUEST_BYTES)


async def read_document(request: Request) -> dict[str, Any]:
    raw = await read_body(request, MAX_REQUEST_BYTES)
    document = parse_json(_decoded(raw, request.headers.get("content-encoding")))
    if not isinstance(document, dict):
        raise MalformedBody("the body must be a JSON object")
    return document


def basic_user(request: Request) -> str | None:
    """The user name of HTTP Basic credentials (the write key; the password is empty)."""
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "basic" or not credentials.strip():
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("the Basic credentials are not valid base64") from None
    user, _, _password = decoded.partition(":")
    return user.strip() or None


def _write_key(request: Request, document: dict[str, Any]) -> tuple[str | None, bool]:
    """Basic auth's user name, else the `writeKey` query parameter (RudderStack's beacons),
    else `writeKey` in the body; and whether it came in the URL."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and credentials.strip():
        return basic_user(request), False
    for key, in_url in (
        (request.query_params.get("writeKey"), True),
        (document.get("writeKey"), False),
    ):
        if isinstance(key, str) and key.strip():
            return key.strip(), in_url
    return None, False


async def _context(request: Request, state: Any, document: dict[str, Any]) -> TenantContext:
    key, in_url = _write_key(request, document)
    return await authenticate_url_key(
        request,
        state,
        key,
        in_url,
        missing="a write key is required: HTTP Basic user name, or writeKey",
        in_url_refused=SECRET_KEY_IN_URL,
    )


def _parser(context: TenantContext, document: dict[str, Any], received_at: datetime) -> Any:
    batch_context = document.get("context")

    def parse(message: object) -> Any:
        return parse_segment_message(
            message,
            source=SEGMENT_SOURCE,
            source_type="internal" if context.is_secret else "direct",
            received_at=received_at,
            sent_at=iso_time(document.get("sentAt")),
            batch_context=batch_context if isinstance(batch_context, dict) else None,
        )

    return parse


def _success(**extra: Any) -> OrjsonResponse:
    return OrjsonResponse({"success": True, **extra})


def _failure(exc: JourneylineError) -> OrjsonResponse:
    """The API's error shape, plus Segment's own top-level `code` and `message`: both SDKs read
    those two keys from an error body, and RudderStack's fails on a body without them."""
    return OrjsonResponse(
        wire.segment_error_body(exc), status_code=exc.status_code, headers=exc.headers()
    )


async def _single(request: Request, state: StateDep, message_type: str) -> OrjsonResponse:
    document = await read_document(request)
    context = await _context(request, state, document)
    check_size(document, state.settings.limits.max_json_depth)
    message = {key: value for key, value in document.items() if key != "writeKey"}
    message["type"] = message_type
    parse = _parser(context, document, datetime.now(UTC))
    try:
        event = parse(message)
    except JourneylineError as exc:
        raise RejectedMessage(exc.message, field=exc.field) from None
    [outcome] = await ingest_service.ingest(state.committer, context, [event])
    if outcome.error is not None:
        raise RejectedMessage(outcome.error.message)
    return _success()


def check_size(message: object, max_depth: int) -> None:
    """Segment's 32 KB per message and the configured nesting, refused with Segment's 400."""
    try:
        check_event_limits(message, max_bytes=MAX_MESSAGE_BYTES, max_depth=max_depth)
    except (PayloadTooLarge, TooDeep) as exc:
        raise RejectedMessage.refusing(exc) from None


async def batch(request: Request, state: StateDep) -> OrjsonResponse:
    try:
        return await _batch(request, state)
    except JourneylineError as exc:
        return _failure(exc)


async def _batch(request: Request, state: StateDep) -> OrjsonResponse:
    """`{"batch": [message, ...], "sentAt", "context", "writeKey"}`: each message has its `type`.
    Valid messages are stored even when others are not; those are listed under `rejected`, a
    message too large or too deep among them. What the messages share (`context`, …) is
    checked as one message."""
    document = await read_document(request)
    context = await _context(request, state, document)
    messages = document.get("batch")
    if not isinstance(messages, list) or not messages:
        raise RejectedMessage("batch must be a non-empty list of messages", field="batch")
    if len(messages) > MAX_BATCH_MESSAGES:
        raise PayloadTooLarge(f"a batch may hold at most {MAX_BATCH_MESSAGES} messages")
    max_depth = state.settings.limits.max_json_depth
    check_size({key: value for key, value in document.items() if key != "batch"}, max_depth)
    parse = _parser(context, document, datetime.now(UTC))
    adapted = ingest_service.adapt_each(
        messages, parse, MAX_MESSAGE_BYTES, max_depth=max_depth, is_list=True
    )
    outcomes = await ingest_service.ingest(state.committer, context, adapted)
    rejected = [
        wire.indexed_error(index, outcome.error)
        for index, outcome in enumerate(outcomes)
        if outcome.error is not None
    ]
    if len(rejected) == len(messages):
        raise RejectedMessage("no message of the batch could be taken: " + str(rejected[0]))
    return _success(rejected=rejected) if rejected else _success()


def message_route(message_type: str) -> Any:
    async def route(request: Request, state: StateDep) -> OrjsonResponse:
        try:
            return await _single(request, state, message_type)
        except JourneylineError as exc:
            return _failure(exc)

    route.__name__ = f"segment_{message_type}"
    route.__doc__ = f"One Segment `{message_type}` message."
    return route


for _type in MESSAGE_TYPES:
    router.add_api_route(
        f"/v1/{_type}",
        message_route(_type),
        methods=["POST"],
        summary=f"Segment {_type}",
        openapi_extra=json_body(MESSAGE_SCHEMA),
    )
router.add_api_route(
    "/v1/batch",
    batch,
    methods=["POST"],
    summary="Segment batch",
    openapi_extra=json_body(BATCH_SCHEMA),
)
