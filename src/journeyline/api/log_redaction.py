"""No API key in a log line (decision 48). uvicorn logs every WebSocket handshake on
`uvicorn.error` at INFO, access log or not (`"WebSocket /v1/stream?key=sk_…" [accepted]`),
and the access log names each request's query string, where sendBeacon and the stream carry
their key. A filter on both loggers rewrites the value of any `key=` parameter and any whole
secret key to `[redacted]` in the message and in each string argument (the access formatter
reads its arguments by position, so they are rewritten in place, never merged). SQL bound
parameters are kept out of error traces by the engine itself (store/db.py, hide_parameters)."""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
# `key=` as a query parameter (at the start of a query, or after `?` or `&`), up to the next
# separator; and a secret key anywhere (sk_ and 32 URL-safe characters, tenancy/keys.py).
_KEY_PARAMETER = re.compile(r"(?i)((?:^|[?&])key=)[^&#\s\"']*")
_SECRET_KEY = re.compile(r"\bsk_[A-Za-z0-9_-]{8,}")
SERVER_LOGGERS = ("uvicorn.error", "uvicorn.access")


def redact(text: str) -> str:
    if "key=" not in text.lower() and "sk_" not in text:
        return text
    text = _KEY_PARAMETER.sub(lambda found: found.group(1) + REDACTED, text)
    return _SECRET_KEY.sub("sk_" + REDACTED, text)


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
