"""Where the browser SDKs send (decision 62): Segment's analytics.js 2.0 posts each call to a
short path (`/v1/i`, `/v1/t`, `/v1/p`, `/v1/s`, `/v1/g`, `/v1/a`; `/v1/b` when it batches) and
its own metrics to `/v1/m`; RudderStack's JavaScript SDK v3 in beacon mode posts to
`/beacon/v1/batch?writeKey=`. Each short path is its long path (api/segment.py) under another
name: the same body, auth, limits and answers. The bodies come as `text/plain` (a cross-origin
request without a preflight); like every Segment route these read the body whatever its
Content-Type says.

The beacon carries its key in the URL (sendBeacon can set no header), where only a public key
may travel: a secret key there is a 403 (api/segment.py). `/v1/m` takes the SDK's counters without a key (it sends
none) and discards them, after checking they are a bounded JSON document.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from journeyline.api.openapi_bodies import json_body
from journeyline.api.openapi_errors import KEYED, errors
from journeyline.api.responses import OrjsonResponse
from journeyline.api.segment import (
    BATCH_SCHEMA,
    MESSAGE_SCHEMA,
    batch,
    message_route,
    read_document,
)
from journeyline.errors import InvalidPayload

router = APIRouter(tags=["segment"], responses={**KEYED, **errors(400, 413, 422)})

# The path analytics.js 2.0 takes for each call: the first letter of its type.
SHORT_PATHS = {f"/v1/{kind[0]}": kind for kind in ("identify", "track", "page", "screen", "group")}
SHORT_PATHS["/v1/a"] = "alias"
BATCH_PATH = "/v1/b"
METRICS_PATH = "/v1/m"
BEACON_PATH = "/beacon/v1/batch"
PUBLIC_PATHS = (*SHORT_PATHS, BATCH_PATH, METRICS_PATH, BEACON_PATH)

METRICS_SCHEMA = {
    "type": "object",
    "properties": {"series": {"type": "array", "items": {"type": "object"}}},
}


async def metrics(request: Request) -> OrjsonResponse:
    """analytics.js's counters (`{"series": [{"type", "metric", "value", "tags"}]}`): taken and
    discarded. journeyline keeps its own metrics (DESIGN §9)."""
    document = await read_document(request)
    series = document.get("series", [])
    if not isinstance(series, list):
        raise InvalidPayload("series must be a list of metrics", field="series")
    return OrjsonResponse({"success": True})


for _path, _kind in SHORT_PATHS.items():
    router.add_api_route(
        _path,
        message_route(_kind),
        methods=["POST"],
        summary=f"Segment {_kind} (analytics.js 2.0's short path)",
        openapi_extra=json_body(MESSAGE_SCHEMA),
    )
router.add_api_route(
    BATCH_PATH,
    batch,
    methods=["POST"],
    summary="Segment batch (analytics.js 2.0's batching delivery)",
    openapi_extra=json_body(BATCH_SCHEMA),
)
router.add_api_route(
    METRICS_PATH,
    metrics,
    methods=["POST"],
    summary="analytics.js 2.0's own metrics: taken and discarded",
    responses=errors(400, 413, 422),
    openapi_extra=json_body(METRICS_SCHEMA),
)
router.add_api_route(
    BEACON_PATH,
    batch,
    methods=["POST"],
    summary="RudderStack batch by sendBeacon (the public key in ?writeKey=)",
    tags=["browser-sdk"],
    responses=errors(403),
    openapi_extra={
        **json_body(BATCH_SCHEMA),
        "parameters": [
            {
                "name": "writeKey",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "The tenant's public key (pk_…).",
            }
        ],
    },
)
