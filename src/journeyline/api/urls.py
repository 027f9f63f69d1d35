"""URL text as it enters: a NUL in the path or the query string becomes U+FFFD before any route
reads it, the rule ingest/documents.py applies to JSON (decision 39). PostgreSQL refuses NUL in
TEXT, so `/v1/orders/a%00b` or `?external_id=%00` answered 500 there and nothing on SQLite.
Percent-decoding already turns broken UTF-8, surrogates included, into U+FFFD."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

_NUL_IN_QUERY = (b"%00", b"\x00")
_REPLACEMENT_IN_QUERY = b"%EF%BF%BD"


class StorableUrls:
    """A pure ASGI middleware: one substring test per request, a copied scope only for a NUL."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            path: str = scope.get("path", "")
            query: bytes = scope.get("query_string", b"")
            if "\x00" in path or any(nul in query for nul in _NUL_IN_QUERY):
                scope = dict(scope)
                scope["path"] = path.replace("\x00", "\ufffd")
                for nul in _NUL_IN_QUERY:
                    query = query.replace(nul, _REPLACEMENT_IN_QUERY)
                scope["query_string"] = query
        await self.app(scope, receive, send)
