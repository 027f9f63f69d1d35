"""What posthog-js asks for at load (decision 66): `GET /array/{token}/config` and
`/array/{token}/config.js` (its remote config), `POST /flags` and `/decide` (feature flags),
answered with no flags and nothing enabled (ingest/dialects/posthog_config.py) so the SDK runs
and sends only to journeyline.

A page reads them, with the key in the URL or the body: a public key only (a secret key is a
403), an unknown key a 401.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from journeyline.api.bodies import parse_json, read_body
from journeyline.api.deps import StateDep, authenticate, client_address
from journeyline.api.openapi_bodies import json_body
from journeyline.api.openapi_errors import errors
from journeyline.api.posthog import decode_body
from journeyline.api.responses import OrjsonResponse
from journeyline.api.segment import SECRET_KEY_IN_URL
from journeyline.errors import Forbidden, Unauthorized
from journeyline.ingest.dialects import posthog_config

router = APIRouter(tags=["posthog"], responses=errors(400, 401, 403, 413, 429, 503))

CONFIG_PATH = "/array/{token}/config"
CONFIG_SCRIPT_PATH = "/array/{token}/config.js"
FLAGS_PATHS = ("/flags", "/flags/", "/decide", "/decide/")
PUBLIC_PATHS = FLAGS_PATHS
PUBLIC_PATTERNS = (r"^/array/[^/]+/config(\.js)?$",)
MAX_FLAGS_BODY = 64 * 1024
CACHE_CONTROL = "private, max-age=60"
FLAGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"token": {"type": "string"}, "distinct_id": {"type": "string"}},
}


async def _public(request: Request, state: Any, key: str | None) -> None:
    if not key or not key.strip():
        raise Unauthorized("a key is required: the project token is the tenant's public key")
    context = await authenticate(state, key.strip(), client_address(request))
    if context.is_secret:
        raise Forbidden(SECRET_KEY_IN_URL)


async def config(request: Request, state: StateDep, token: str) -> OrjsonResponse:
    """posthog-js's remote config: nothing but capture, to journeyline."""
    await _public(request, state, token)
    return OrjsonResponse(
        posthog_config.remote_config(token.strip()), headers={"Cache-Control": CACHE_CONTROL}
    )


async def config_script(request: Request, state: StateDep, token: str) -> Response:
    """The remote config as the script posthog-js's loader includes."""
    await _public(request, state, token)
    return Response(
        posthog_config.remote_config_script(token.strip()),
        media_type="application/javascript",
        headers={"Cache-Control": CACHE_CONTROL},
    )


async def flags(request: Request, state: StateDep) -> OrjsonResponse:
    """No feature flags, for anyone. The key is `token` (or `api_key`) in the body, else
    `?token=` / `?api_key=`."""
    raw = await read_body(request, MAX_FLAGS_BODY)
    document: object = {}
    if raw.strip():
        document = parse_json(
            decode_body(
                raw,
                request.headers.get("content-encoding"),
                request.query_params.get("compression"),
            )
        )
    fields = document if isinstance(document, dict) else {}
    key = next(
        (
            value
            for value in (
                fields.get("token"),
                fields.get("api_key"),
                request.query_params.get("token"),
                request.query_params.get("api_key"),
            )
            if isinstance(value, str) and value.strip()
        ),
        None,
    )
    await _public(request, state, key)
    return OrjsonResponse(posthog_config.flags())


router.add_api_route(
    CONFIG_PATH, config, methods=["GET"], summary="posthog-js's remote config (no flags)"
)
router.add_api_route(
    CONFIG_SCRIPT_PATH,
    config_script,
    methods=["GET"],
    summary="posthog-js's remote config as a script",
    responses={200: {"content": {"application/javascript": {"schema": {"type": "string"}}}}},
)
for _path in FLAGS_PATHS:
    router.add_api_route(
        _path,
        flags,
        methods=["POST"],
        summary="posthog-js's feature flags: none",
        openapi_extra=json_body(FLAGS_SCHEMA),
    )
