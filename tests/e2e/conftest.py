"""Browser tests: the real tracker in real headless Chromium (Debian's, driven by Playwright for
Python; Playwright never downloads a browser of its own here), against a live `journeyline
serve`.

The test pages are served from another origin (http://localhost:<port>) than the API
(http://127.0.0.1:<port>), as a customer's site is. Tests assert on what the server stored, read
back through the API with the secret key, never on mocks; request interception is used only to
make the network fail the way real networks do (5xx, 429, offline).

These tests run in the SQLite lane only (every module sets `pytestmark = pytest.mark.browser`): the server under test is its own
process on its own embedded database, whatever the lane.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from bench.servers import Server, free_port, journeyline_server
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.conftest import IN_CI

CHROMIUM = "/usr/bin/chromium"
# The flags the machine's probe found necessary: no sandbox as root, and no background
# networking, whose connections this machine's closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

T = TypeVar("T")


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        message = f"browser tests need Debian's chromium at {CHROMIUM} (make test installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip("SKIPPING BROWSER TESTS: " + message)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A live `journeyline serve` on a fresh SQLite file; its default tenant's keys."""
    workdir = tmp_path_factory.mktemp("e2e-server")
    url = f"sqlite+aiosqlite:///{workdir / 'journeyline.db'}"
    with journeyline_server(url, workdir, name="e2e-server") as server:
        yield server


@dataclass
class Site:
    """Pages of a customer's site, on another origin than the API."""

    port: int
    pages: dict[str, bytes] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://localhost:{self.port}"

    def add(self, path: str, html: str) -> str:
        self.pages[path] = html.encode()
        return self.origin + path


def _site_handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = site.pages.get(self.path.split("?")[0].split("#")[0])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body or b"not found")

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    served = Site(free_port())
    server = ThreadingHTTPServer(("127.0.0.1", served.port), _site_handler(served))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served
    server.shutdown()
    server.server_close()


def eventually(probe: Callable[[], T | None], timeout: float = 15.0) -> T:
    """Poll the server until `probe` returns something (the tracker sends asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("the server never reached the expected state")
        time.sleep(0.1)  # polling the server's state, not waiting for a guessed duration


@dataclass
class Reader:
    """What the server stored, read through the secret-key API."""

    api: Server

    def get(self, path: str, **params: Any) -> Any:
        response = httpx.get(
            self.api.base_url + path,
            params=params,
            headers={"Authorization": f"Bearer {self.api.secret_key}"},
            timeout=10,
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def profile_by(self, kind: str, value: str) -> dict[str, Any] | None:
        found = self.get("/v1/profiles", **{kind: value})
        return found["data"][0] if found and found["data"] else None

    def events_of(self, profile_id: str) -> list[dict[str, Any]]:
        """The profile's timeline, oldest first."""
        page = self.get(f"/v1/profiles/{profile_id}/events", limit=500)
        return list(reversed(page["data"])) if page else []


@pytest.fixture(scope="module")
def reader(api: Server) -> Reader:
    return Reader(api)
