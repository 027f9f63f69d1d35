"""PostHog's capture routes (decision 66): `/batch/`, `/capture/`, `/e/` and `/i/v0/e/`, with
and without the trailing slash, as posthog-python, posthog-node and posthog-js send them, so
those SDKs need only a new host.

The body is JSON, gzip (`Content-Encoding: gzip`, or gzip sent as text/plain, known by its magic
bytes), base64 (`?compression=base64`), or a form with the document in `data=` (posthog-js's
fallback). The document is a batch (`{"batch": [...], "api_key", "sent_at",
"historical_migration"}`), one event, or a list of events. The key is `api_key` in the body,
else `?api_key=` / `?token=`, else the events' `properties.token` (posthog-js): a journeyline
public or secret key (a secret key in a URL is a 403, decision 62). Success is 200
`{"status": 1}`; an event that cannot be taken fails alone and is listed under `rejected` (its
index in the body), as in a Segment batch; a body none of whose events can be taken is a 400.
`historical_migration: true` sends the batch to the batch lane (a secret key; enqueued, the job
id in `job_id`).
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request

from journeyline.api.bodies import gunzip, parse_json, read_body
from journeyline.api.deps import (
    StateDep,
    authenticate_url_key,
    charge_batch_events,
)
from journeyline.api.openapi_bodies import json_body
from journeyline.api.openapi_errors import KEYED, errors
from journeyline.api.responses import OrjsonResponse
from journeyline.errors import (
    Forbidden,
    MalformedBody,
    PayloadTooLarge,
    RejectedMessage,
)
from journeyline.ingest import batches, wire
from journeyline.ingest import service as ingest_service
from journeyline.ingest.batches import JobRef
from journeyline.ingest.canonical import SourceType
from journeyline.ingest.dialects.fields import check_event_limits
from journeyline.ingest.dialects.posthog import PostHogEvent, expand_events, parse_posthog_event
from journeyline.payloads import iso_time
from journeyline.tenancy.context import TenantContext

router = APIRouter(tags=["posthog"], responses={**KEYED, **errors(400, 403, 413, 422)})

CAPTURE_PATHS = ("/batch", "/capture", "/e", "/i/v0/e")
PUBLIC_PATHS = (*CAPTURE_PATHS, *(f"{path}/" for path in CAPTURE_PATHS))
# posthog-python caps a batch at 5 MB; decompressed bodies are read up to that too.
MAX_REQUEST_BYTES = 5 * 1024 * 1024
MAX_EVENTS = 2500
GZIP_MAGIC = b"\x1f\x8b"
SECRET_KEY_IN_URL = (
    "this is a secret key, which must not be put in a URL; send it as api_key in the body, or "
    "use the tenant's public key (pk_…) here"
)

EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "event": {"type": "string"},
        "distinct_id": {"type": "string"},
        "properties": {"type": "object"},
        "uuid": {"type": "string"},
        "timestamp": {"type": "string"},
    },
    "required": ["event"],
}
BATCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "api_key": {"type": "string"},
        "batch": {"type": "array", "items": EVENT_SCHEMA},
        "sent_at": {"type": "string"},
        "historical_migration": {"type": "boolean"},
    },
}
_ = PostHogEvent  # the model EVENT_SCHEMA documents


def _base64(body: bytes) -> bytes:
    try:
        return base64.b64decode(body.strip() + b"=" * (-len(body.strip()) % 4), validate=False)
    except (binascii.Error, ValueError):
        raise MalformedBody("the body is not valid base64") from None


def decode_body(body: bytes, encoding: str | None, compression: str | None) -> bytes:
    """The JSON bytes of a body in any of the shapes PostHog's SDKs send (pure)."""
    coding = (encoding or "").strip().lower()
    if coding in ("gzip", "x-gzip") or body.startswith(GZIP_MAGIC):
        body = gunzip(body, MAX_REQUEST_BYTES)
    elif coding not in ("", "identity"):
        raise MalformedBody(f"Content-Encoding {coding[:40]} is not supported; send gzip or none")
    if body.startswith(b"data="):
        values = parse_qs(body.decode("latin-1"), max_num_fields=10).get("data")
        if not values:
            raise MalformedBody("the form has no data field")
        body = values[0].encode("latin-1")
        if compression is None and not body.lstrip().startswith((b"{", b"[")):
            compression = "base64"
    if (compression or "").lower() == "base64":
        body = _base64(body)
        if body.startswith(GZIP_MAGIC):
            body = gunzip(body, MAX_REQUEST_BYTES)
    return body


def _events(document: object) -> tuple[list[object], dict[str, Any]]:
    """The events and the batch's own fields."""
    if isinstance(document, list):
        return document, {}
    if not isinstance(document, dict):
        raise MalformedBody("the body must be a JSON object or a list of events")
    if "batch" in document:
        messages = document["batch"]
        if not isinstance(messages, list):
            raise RejectedMessage("batch must be a list of events", field="batch")
        return messages, {k: v for k, v in document.items() if k != "batch"}
    return [document], {k: v for k, v in document.items() if k in ("api_key", "sent_at")}


def _key(request: Request, fields: dict[str, Any], events: list[object]) -> tuple[str | None, bool]:
    for value, in_url in (
        (fields.get("api_key"), False),
        (fields.get("token"), False),
        (request.query_params.get("api_key"), True),
        (request.query_params.get("token"), True),
    ):
        if isinstance(value, str) and value.strip():
            return value.strip(), in_url
    for event in events:
        if isinstance(event, dict):
            token = event.get("api_key") or (
                event["properties"].get("token")
                if isinstance(event.get("properties"), dict)
                else None
            )
            if isinstance(token, str) and token.strip():
                return token.strip(), False
    return None, False


async def _context(
    request: Request, state: Any, fields: dict[str, Any], events: list[object]
) -> TenantContext:
    key, in_url = _key(request, fields, events)
    return await authenticate_url_key(
        request,
        state,
        key,
        in_url,
        missing="an api_key is required: in the body, or ?api_key=",
        in_url_refused=SECRET_KEY_IN_URL,
    )


async def capture(request: Request, state: StateDep) -> OrjsonResponse:
    """PostHog events (a batch, one event or a list), answered `{"status": 1}`."""
    raw = await read_body(request, MAX_REQUEST_BYTES)
    plain = decode_body(
        raw, request.headers.get("content-encoding"), request.query_params.get("compression")
    )
    events, fields = _events(parse_json(plain))
    context = await _context(request, state, fields, events)
    if not events:
        raise RejectedMessage("the body holds no event", field="batch")
    if len(events) > MAX_EVENTS:
        raise PayloadTooLarge(f"a request may hold at most {MAX_EVENTS} events")
    limits = state.settings.limits
    check_event_limits(fields, max_bytes=limits.max_event_bytes, max_depth=limits.max_json_depth)
    parts = expand_events(events)
    origin = [index for index, _ in parts]
    expanded = [part for _, part in parts]
    if fields.get("historical_migration") is True:
        return await _migrate(state, context, expanded)
    received_at = datetime.now(UTC)
    sent_at = iso_time(fields.get("sent_at"))
    source_type: SourceType = "internal" if context.is_secret else "direct"

    def parse(item: object) -> Any:
        return parse_posthog_event(
            item, source_type=source_type, received_at=received_at, sent_at=sent_at
        )

    adapted = ingest_service.adapt_each(
        expanded, parse, limits.max_event_bytes, max_depth=limits.max_json_depth, is_list=True
    )
    outcomes = await ingest_service.ingest(state.committer, context, adapted)
    failed: dict[int, Any] = {}
    for position, outcome in enumerate(outcomes):
        if outcome.error is not None and origin[position] not in failed:
            failed[origin[position]] = wire.indexed_error(origin[position], outcome.error)
    rejected = list(failed.values())
    if len(rejected) == len(events):
        raise RejectedMessage("no event of the request could be taken: " + str(rejected[0]))
    return OrjsonResponse({"status": 1, "rejected": rejected} if rejected else {"status": 1})


async def _migrate(state: Any, context: TenantContext, items: list[object]) -> OrjsonResponse:
    """`historical_migration: true`: the batch lane (a durable job), as /tenant/ingest/batch."""
    if not context.is_secret:
        raise Forbidden("a historical migration is a bulk import: send it with a secret key")
    await charge_batch_events(state, context, len(items))
    job_id = await batches.accept(state.database, context, items, dialect="posthog")
    await state.queue.enqueue(JobRef(context.tenant_id, job_id))
    return OrjsonResponse({"status": 1, "job_id": str(job_id)})


for _path in PUBLIC_PATHS:
    router.add_api_route(
        _path,
        capture,
        methods=["POST"],
        summary=f"PostHog capture ({_path})",
        openapi_extra={
            **json_body(BATCH_SCHEMA),
            "parameters": [
                {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
                for name in ("api_key", "token", "compression")
            ],
        },
    )
