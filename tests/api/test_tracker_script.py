"""GET /v1/js/tracker.js: gzip when accepted, revalidation by ETag, served as written."""

from __future__ import annotations

import gzip
from importlib import resources

import httpx


def source() -> bytes:
    return resources.files("journeyline.tracker").joinpath("tracker.js").read_bytes()


async def test_served_gzipped_to_browsers_and_plain_to_others(client: httpx.AsyncClient) -> None:
    zipped = await client.get("/v1/js/tracker.js", headers={"Accept-Encoding": "gzip, br"})
    plain = await client.get("/v1/js/tracker.js", headers={"Accept-Encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    # httpx decodes the gzip body: both are the file as written.
    assert zipped.content == plain.content == source()
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert plain.headers["content-type"] == "application/javascript; charset=utf-8"
    assert int(zipped.headers["content-length"]) == len(gzip.compress(source(), 9, mtime=0))


async def test_a_returning_browser_revalidates_with_a_304(client: httpx.AsyncClient) -> None:
    first = await client.get("/v1/js/tracker.js")
    etag = first.headers["etag"]
    again = await client.get("/v1/js/tracker.js", headers={"If-None-Match": etag})
    changed = await client.get("/v1/js/tracker.js", headers={"If-None-Match": '"stale"'})
    assert again.status_code == 304
    assert again.content == b""
    assert changed.status_code == 200
    assert "max-age" in first.headers["cache-control"]
