"""Security headers (decision 48). Every response: `X-Content-Type-Options: nosniff` (every
route names its type, the tracker script `application/javascript`, so nothing needs sniffing).
The dashboard (/app) also gets a Content-Security-Policy that allows exactly what its pages
load (its own script, stylesheet and fetches, the stream on the same origin, the `data:` icon;
no inline script or style), may not be framed (`frame-ancestors 'none'` and X-Frame-Options
for older browsers), sends no Referer off its origin, and is not cached (its pages hold
personal data). The public routes other sites embed or call keep their CORS (api/cors.py) and
are never framed anyway: nothing here stops a page elsewhere from loading the tracker script.

A pure ASGI middleware: a header list appended to, no response re-read.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DASHBOARD_PREFIX = "/app"
STATIC_PREFIX = "/app/static/"
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
EVERYWHERE: tuple[tuple[bytes, bytes], ...] = ((b"x-content-type-options", b"nosniff"),)
DASHBOARD: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)
NOT_CACHED = ((b"cache-control", b"no-store"),)


def _headers_for(path: str) -> tuple[tuple[bytes, bytes], ...]:
    if path != DASHBOARD_PREFIX and not path.startswith(DASHBOARD_PREFIX + "/"):
        return EVERYWHERE
    if path.startswith(STATIC_PREFIX):
        return EVERYWHERE + DASHBOARD
    return EVERYWHERE + DASHBOARD + NOT_CACHED


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = _headers_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((name, value) for name, value in added if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
