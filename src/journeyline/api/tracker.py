"""GET /v1/js/tracker.js: the browser tracker, served as written (no build step).

The file is read and gzipped once per process; the answer carries an ETag so a returning
browser revalidates with a 304 instead of downloading it again.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fastapi import APIRouter, Request
from starlette.responses import Response

router = APIRouter(tags=["tracker"])

PATH = "/v1/js/tracker.js"
PUBLIC_PATHS = (PATH,)
MEDIA_TYPE = "application/javascript; charset=utf-8"
# Short, so a new tracker reaches pages quickly; the ETag makes revalidation cheap.
CACHE_CONTROL = "public, max-age=300"


@dataclass(frozen=True, slots=True)
class Script:
    plain: bytes
    gzipped: bytes
    etag: str


@cache
def tracker_script() -> Script:
    plain = resources.files("journeyline.tracker").joinpath("tracker.js").read_bytes()
    etag = '"' + hashlib.sha256(plain).hexdigest()[:32] + '"'
    return Script(plain, gzip.compress(plain, compresslevel=9, mtime=0), etag)


def accepts_gzip(request: Request) -> bool:
    return any(
        part.split(";")[0].strip() == "gzip"
        for part in request.headers.get("accept-encoding", "").split(",")
    )


@router.get(PATH, response_class=Response, summary="The browser tracker")
async def tracker_js(request: Request) -> Response:
    """`<script src="…/v1/js/tracker.js" data-key="pk_…" async></script>`"""
    script = tracker_script()
    headers = {"ETag": script.etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if script.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if accepts_gzip(request):
        headers["Content-Encoding"] = "gzip"
        return Response(script.gzipped, media_type=MEDIA_TYPE, headers=headers)
    return Response(script.plain, media_type=MEDIA_TYPE, headers=headers)
