"""No key in the server's log lines (issue 15, row 10): uvicorn's own WebSocket and access log
lines, rewritten by the filter the app installs on its loggers."""

from __future__ import annotations

import logging

import pytest

from journeyline.app import create_app
from journeyline.config import Settings
from journeyline.logs import redaction as log_redaction
from journeyline.logs.redaction import REDACTED, redact

SECRET = "sk_" + "A1b2C3d4-_" * 3 + "xy"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"/v1/stream?key={SECRET}", f"/v1/stream?key={REDACTED}"),
        ("/ingest?x=1&key=pk_abc&y=2", f"/ingest?x=1&key={REDACTED}&y=2"),
        (f"/v1/stream?KEY={SECRET}#frag", f"/v1/stream?KEY={REDACTED}#frag"),
        (f"Bearer {SECRET} in a message", f"Bearer sk_{REDACTED} in a message"),
        (f"a public key pk_{'x' * 32}.", f"a public key pk_{REDACTED}."),
        ("/v1/profiles?email=ada%40x.io&limit=2", f"/v1/profiles?email={REDACTED}&limit=2"),
        ("cannot store ada.o'hara+crm@mail.example.co.uk now", f"cannot store {REDACTED} now"),
        ("/v1/profiles?monkey=1&keys=2", "/v1/profiles?monkey=1&keys=2"),
        ("a_pk_reference and @handle", "a_pk_reference and @handle"),
        ("/v1/events", "/v1/events"),
    ],
)
def test_keys_are_redacted_and_nothing_else(line: str, expected: str) -> None:
    assert redact(line) == expected


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_the_app_scrubs_uvicorns_websocket_and_access_lines(settings: Settings) -> None:
    create_app(settings)
    create_app(settings)  # installed once however many apps a process makes
    capture = Capture()
    error, access = logging.getLogger("uvicorn.error"), logging.getLogger("uvicorn.access")
    assert sum(isinstance(f, log_redaction.KeyRedaction) for f in error.filters) == 1
    levels = error.level, access.level
    for logger in (error, access):
        logger.addHandler(capture)
        logger.setLevel(logging.INFO)
    try:
        # Exactly uvicorn's calls (protocols/websockets/*_impl.py, protocols/http/*_impl.py).
        path = f"/v1/stream?key={SECRET}"
        error.info('%s - "WebSocket %s" [accepted]', "127.0.0.1:5000", path)
        error.info('%s - "WebSocket %s" %d', "127.0.0.1:5000", path, 403)
        access.info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/ingest?key={SECRET}", "1.1", 200
        )
    finally:
        for logger, level in zip((error, access), levels, strict=True):
            logger.removeHandler(capture)
            logger.setLevel(level)
    assert len(capture.lines) == 3
    assert all(SECRET not in line for line in capture.lines), capture.lines
    assert capture.lines[0] == f'127.0.0.1:5000 - "WebSocket /v1/stream?key={REDACTED}" [accepted]'
    assert capture.lines[2].endswith(f'"GET /ingest?key={REDACTED} HTTP/1.1" 200')
