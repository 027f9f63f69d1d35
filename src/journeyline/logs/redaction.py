"""No API key or email address in a log line (decisions 48, 54). uvicorn logs every WebSocket
handshake on `uvicorn.error` at INFO, access log or not (`"WebSocket /v1/stream?key=sk_…"
[accepted]`), and an access line names each request's query string, where sendBeacon and the
stream carry their key. `redact` rewrites the value of any `key=` parameter, any whole key
(secret or public) and any email address to `[redacted]`. Two places apply it: a filter on
uvicorn's loggers rewrites their messages and each string argument in place (the access
formatter reads its arguments by position, so they are never merged), and journeyline's own
formatters (formatting.py) redact every whole line and exception trace they write, whoever
logged it. SQL bound parameters are kept out of error traces by the engine itself (store/db.py,
hide_parameters)."""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
# `key=` as a query parameter (at the start of a query, or after `?` or `&`), up to the next
# separator; a key anywhere (sk_/pk_ and 32 URL-safe characters, tenancy/keys.py); an email
# address (a local part, `@` or its URL escape, a dotted domain), what a query string or a
# handler's exception may quote from a request (the local part stops at a query's `?`, `=`,
# `&` and at `/`, which an address may hold but a path or a query separates by).
_KEY_PARAMETER = re.compile(r"(?i)((?:^|[?&])key=)[^&#\s\"']*")
_KEY = re.compile(r"\b([sp]k_)[A-Za-z0-9_-]{8,}")
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%'*+^_`{|}~-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
SERVER_LOGGERS = ("uvicorn.error", "uvicorn.access")


def redact(text: str) -> str:
    # The cheap tests first: most lines hold none of these.
    if "@" in text or "%40" in text:
        text = _EMAIL.sub(REDACTED, text)
    if "k_" not in text and "key=" not in text.lower():
        return text
    text = _KEY_PARAMETER.sub(lambda found: found.group(1) + REDACTED, text)
    return _KEY.sub(lambda found: found.group(1) + REDACTED, text)


class KeyRedaction(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                name: redact(value) if isinstance(value, str) else value
                for name, value in record.args.items()
            }
        return True


def install() -> None:
    """Once per logger, however many apps a process creates."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, KeyRedaction) for existing in logger.filters):
            logger.addFilter(KeyRedaction())
