"""CORS for the public (browser-facing) routes only; secret-key routes send no CORS headers.

A pure ASGI middleware rather than Starlette's CORSMiddleware, which applies to every route:
reads and administration with a secret key must never be callable from a web page, so they
answer without `Access-Control-Allow-Origin` and the browser withholds the response. The public
routes take any origin (a tracker runs on the customer's site) and no credentials (the key
travels in the body, a header or `?key=`), so `*` is right for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The browser SDKs' own request headers (decision 62), as their bundles send them: RudderStack's
# JavaScript SDK v3 sends AnonymousId and SentAt on every event and the Rsa-* ones on a retry;
# Segment's analytics.js 2.0 sends X-Retry-Count on a retry. A header missing here makes the
# browser block the request at its preflight.
SDK_HEADERS = (
    "AnonymousId",
    "SentAt",
    "Rsa-Recovered",
    "Rsa-Retry-Attempt",
    "Rsa-Since-Last-Attempt",
    "Rsa-Since-First-Attempt",
    "Rsa-Retry-Reason",
    "X-Retry-Count",
)
ALLOW_HEADERS = ", ".join(
    ("Content-Type", "Content-Encoding", "Authorization", "X-API-Key", *SDK_HEADERS)
)
# The tracker reads Retry-After on a 429 or 503; a cross-origin script sees only listed headers.
EXPOSE_HEADERS = "Retry-After"
MAX_AGE = "86400"


class PublicCors:
    """`public_paths` by exact path; `public_patterns` (regular expressions) for a public route
    whose path holds a parameter (Segment's /v1/projects/{writeKey}/settings)."""

    def __init__(
        self, app: ASGIApp, public_paths: Iterable[str], public_patterns: Iterable[str] = ()
    ) -> None:
        self.app = app
        self.public_paths = frozenset(public_paths)
        self.public_patterns = tuple(re.compile(pattern) for pattern in public_patterns)

    def _is_public(self, path: str) -> bool:
        return path in self.public_paths or any(p.match(path) for p in self.public_patterns)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await _preflight(send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if not name.lower().startswith(b"access-control-")
                ]
                headers.append((b"access-control-allow-origin", b"*"))
                headers.append((b"access-control-expose-headers", EXPOSE_HEADERS.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cors)


async def _preflight(send: Send) -> None:
    headers = [
        (b"access-control-allow-origin", b"*"),
        (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
        (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
        (b"access-control-max-age", MAX_AGE.encode()),
        (b"content-length", b"0"),
    ]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
