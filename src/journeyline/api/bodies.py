"""Reading request bodies: bounded in size, decoded by ingest/documents.py (storable strings,
bounded nesting), errors in the API's shape. Only the Segment and PostHog routes take
compressed bodies (`gunzip`, up to each one's limit); elsewhere a content coding is a 415, said
as such, rather than a "not valid JSON" about bytes nobody inflated."""

from __future__ import annotations

import zlib

from fastapi import Request
from starlette.requests import ClientDisconnect

from journeyline.errors import MalformedBody, PayloadTooLarge, UnsupportedEncoding
from journeyline.ingest.documents import decode_json


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body may hold at most {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"the body may hold at most {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        # The connection closed before the body ended (a client gone, or a keep-alive
        # connection closed as a request arrived on it: the soak met it, decision 70). Nothing
        # was read, nothing is stored: a 400 nobody hears, not an "unhandled error" and a 500.
        raise MalformedBody("the connection closed before the body ended") from None
    return b"".join(chunks)


async def read_json(request: Request, limit: int) -> object:
    refuse_content_coding(request)
    return parse_json(await read_body(request, limit))


def gunzip(body: bytes, limit: int) -> bytes:
    """A gzip body inflated, never past `limit` bytes (a decompression bomb is a 413)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        plain = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise MalformedBody(f"the body is not valid gzip: {exc}") from None
    if len(plain) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"the body may hold at most {limit} bytes decompressed")
    return plain


def refuse_content_coding(request: Request) -> None:
    """415 for a compressed body on a route that reads plain JSON."""
    coding = request.headers.get("content-encoding", "").strip().lower()
    if coding not in ("", "identity"):
        raise UnsupportedEncoding(
            f"Content-Encoding {coding[:40]} is not accepted on this route; send the JSON "
            "uncompressed"
        )


def parse_json(body: bytes) -> object:
    if not body.strip():
        raise MalformedBody("the body is empty; send a JSON document")
    return decode_json(body)


def json_object(value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise MalformedBody("the body must be a JSON object")
    return value
