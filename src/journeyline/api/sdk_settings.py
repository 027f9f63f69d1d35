"""The settings documents the browser SDKs fetch at load, so that a site needs no Segment or
RudderStack account (decision 62): `GET /v1/projects/{writeKey}/settings` for analytics.js 2.0
loaded with `cdnURL` = journeyline, and `GET /sourceConfig` (RudderStack asks for
`/sourceConfig/`, with the write key as the Basic user and as `?writeKey=`) for the JavaScript
SDK v3 loaded with `configUrl` = journeyline. The documents themselves are built in
ingest/dialects/sdk_settings.py.

Both are read by a page, with the key in the URL: a public key only (a secret key is a 403), an
unknown or revoked key a 401. Segment's document names journeyline's own address as the SDK's
`apiHost`, as this request reached it (behind a proxy, uvicorn's --proxy-headers gives the
public scheme).
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from journeyline.api.deps import StateDep, authenticate, client_address
from journeyline.api.openapi_errors import errors
from journeyline.api.responses import OrjsonResponse
from journeyline.api.segment import SECRET_KEY_IN_URL, basic_user
from journeyline.errors import Forbidden, Unauthorized
from journeyline.ingest.dialects import sdk_settings
from journeyline.tenancy.context import TenantContext

router = APIRouter(tags=["browser-sdk"], responses=errors(401, 403, 429, 503))

SEGMENT_SETTINGS_PATH = "/v1/projects/{writeKey}/settings"
SOURCE_CONFIG_PATHS = ("/sourceConfig", "/sourceConfig/")
# The CORS middleware matches the Segment path by this pattern (its key varies).
PUBLIC_PATTERNS = (r"^/v1/projects/[^/]+/settings$",)
PUBLIC_PATHS = SOURCE_CONFIG_PATHS
# A page fetches its settings at every load: a browser may keep them a minute.
CACHE_CONTROL = "private, max-age=60"


async def _public_context(request: Request, state: StateDep, key: str | None) -> TenantContext:
    if not key:
        raise Unauthorized(
            "a write key is required: HTTP Basic user name, or the writeKey query parameter"
        )
    context = await authenticate(state, key, client_address(request))
    if context.is_secret:
        raise Forbidden(SECRET_KEY_IN_URL)
    return context


def _answer(document: dict[str, object]) -> OrjsonResponse:
    return OrjsonResponse(document, headers={"Cache-Control": CACHE_CONTROL})


async def segment_settings(request: Request, state: StateDep, writeKey: str) -> OrjsonResponse:  # noqa: N803 (Segment's name)
    """analytics.js 2.0's settings: only its own "Segment.io" sender, to journeyline."""
    await _public_context(request, state, writeKey.strip())
    base_url = str(request.base_url)
    return _answer(sdk_settings.segment_settings(writeKey.strip(), base_url))


async def source_config(
    request: Request,
    state: StateDep,
    writeKey: str | None = None,  # noqa: N803 (RudderStack's name)
) -> OrjsonResponse:
    """RudderStack's source config: the tenant as the source, no destinations. The key is the
    Basic user name, else `writeKey`; when both are given they must be the same key."""
    user = basic_user(request)
    query = writeKey.strip() if writeKey and writeKey.strip() else None
    if user is not None and query is not None and user != query:
        raise Unauthorized("the Basic user name and writeKey name different keys; send one key")
    key = user or query
    context = await _public_context(request, state, key)
    return _answer(sdk_settings.rudderstack_source_config(key or "", str(context.tenant_id)))


router.add_api_route(
    SEGMENT_SETTINGS_PATH,
    segment_settings,
    methods=["GET"],
    summary="analytics.js 2.0's settings document (cdnURL = journeyline)",
)
for _path in SOURCE_CONFIG_PATHS:
    router.add_api_route(
        _path,
        source_config,
        methods=["GET"],
        summary="RudderStack's source config (configUrl = journeyline)",
    )
