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

import json
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
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    Response,
    sync_playwright,
)

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
    types: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://localhost:{self.port}"

    def add(self, path: str, html: str, content_type: str = "text/html; charset=utf-8") -> str:
        self.pages[path] = html.encode()
        self.types[path] = content_type
        return self.origin + path


def _site_handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0].split("#")[0]
            body = site.pages.get(path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", site.types.get(path, "text/html; charset=utf-8"))
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


# --- The tracker on a page -------------------------------------------------------------------

# The stub a site pastes before the tracker loads (docs/tracker.md): calls are buffered with the
# page data of the moment they were made.
STUB = (
    "<script>!function(w,d){var j=w.journeyline=w.journeyline||[];if(j.version)return;"
    '["page","track","identify","reset","optOut","optIn","flush"].forEach(function(m){'
    "j[m]=function(){var a=[].slice.call(arguments);a.unshift(m);a.push({__jl:1,"
    "url:location.href,title:d.title,referrer:d.referrer,ts:new Date().toISOString()});"
    "j.push(a);return j}})}(window,document);</script>"
)

# Short timers so the suite is quick: a flush every 100 ms, retries from 50 ms.
FAST = {"flush-interval": "100", "retry-base": "50"}


def tracker_tag(api: Server, src: str | None = None, **data: str) -> str:
    """The `<script>` tag of the tracker; `data` are its data-* attributes (underscores become
    dashes), on top of the key and the fast test timers."""
    attributes = {"key": api.public_key, **FAST}
    attributes.update({name.replace("_", "-"): value for name, value in data.items()})
    rendered = "".join(f' data-{name}="{value}"' for name, value in attributes.items())
    return f'<script async src="{src or api.base_url + "/v1/js/tracker.js"}"{rendered}></script>'


def html(title: str, body: str = "", head: str = "") -> str:
    return (
        f"<!doctype html><html><head><title>{title}</title>{head}</head><body>{body}</body></html>"
    )


@dataclass
class Exchange:
    """One request of the tracker to the ingest endpoint, as the browser made it."""

    url: str
    events: list[dict[str, Any]]
    size: int  # bytes of the body
    status: int | None = None  # None while pending, or when the request failed
    failed: bool = False
    sent_at: float = field(default_factory=time.monotonic)
    answered_at: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def names(self) -> list[str | None]:
        return [event.get("event_name") for event in self.events]


@dataclass
class Browsing:
    """A fresh browser context whose ingest traffic is recorded and whose pages' uncaught errors
    are collected (the tracker must never throw into the page).

    Playwright's sync API delivers browser events only while a Playwright call is running:
    `log()` makes one (a round trip) before reading what was recorded."""

    context: BrowserContext
    errors: list[str] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    _pending: dict[Request, Exchange] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.context.on("page", self._watch)
        self.context.on("request", self._request)
        self.context.on("response", self._response)
        self.context.on("requestfailed", self._failed)

    def _watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))

    def _request(self, request: Request) -> None:
        if "/api/ingest" not in request.url:
            return
        raw = request.post_data or "{}"
        exchange = Exchange(request.url, list(json.loads(raw).get("batch", [])), len(raw.encode()))
        self._pending[request] = exchange
        self.exchanges.append(exchange)

    def _response(self, response: Response) -> None:
        exchange = self._pending.pop(response.request, None)
        if exchange is not None:
            exchange.status = response.status
            exchange.answered_at = time.monotonic()

    def _failed(self, request: Request) -> None:
        exchange = self._pending.pop(request, None)
        if exchange is not None:
            exchange.failed = True
            exchange.answered_at = time.monotonic()

    def new_page(self) -> Page:
        return self.context.new_page()

    def log(self) -> list[Exchange]:
        """Every request to the ingest endpoint so far."""
        self.context.cookies()  # a round trip: the events that arrived meanwhile are delivered
        return self.exchanges

    def sent(self, message_id: str) -> list[Exchange]:
        """The requests whose batch carried the event."""
        return [x for x in self.log() if any(e["message_id"] == message_id for e in x.events)]

    def copies(self, predicate: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """Every copy of a matching event that left the browser."""
        return [e for x in self.log() for e in x.events if predicate(e)]

    def tracked(self, name: str) -> list[dict[str, Any]]:
        return self.copies(lambda event: event.get("event_name") == name)


@pytest.fixture
def browsing(browser: Browser) -> Iterator[Browsing]:
    context = browser.new_context()
    browsing = Browsing(context)
    try:
        yield browsing
    finally:
        context.close()
    assert browsing.errors == [], f"the page threw: {browsing.errors}"


def names(events: list[dict[str, Any]]) -> list[str]:
    return [event["event_name"] for event in events]


def has(*wanted: str) -> Callable[[list[dict[str, Any]]], bool]:
    """A `timeline` condition: every wanted event name is there."""
    return lambda events: set(wanted) <= set(names(events))


def timeline(
    reader: Reader,
    kind: str,
    value: str,
    until: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 15.0,
    *,
    browsing: Browsing | None = None,
) -> list[dict[str, Any]]:
    """The events of the profile found by `kind`=`value`, once `until` holds for them.

    Pass `browsing` when a route handler is installed: Playwright's sync API runs handlers only
    during its own calls, so each poll makes one (or the intercepted requests would hang)."""

    def probe() -> list[dict[str, Any]] | None:
        if browsing is not None:
            browsing.log()
        profile = reader.profile_by(kind, value)
        if profile is None:
            return None
        events = reader.events_of(profile["id"])
        return events if until(events) else None

    return eventually(probe, timeout)


READY = "() => !!(window.journeyline && window.journeyline.version)"


def load(page: Page, url: str, referer: str | None = None) -> Page:
    """Open `url` and wait until the tracker has started."""
    page.goto(url, referer=referer)
    page.wait_for_function(READY)
    return page


QUEUE = "JSON.parse(localStorage.getItem('jl.q.' + sessionStorage.getItem('jl.t')) || '[]')"


def queued(page: Page) -> list[dict[str, Any]]:
    """The events this tab's tracker keeps in localStorage, not yet delivered."""
    events: list[dict[str, Any]] = page.evaluate(f"() => {QUEUE}")
    return events


def wait_until_delivered(page: Page) -> None:
    """Until this tab's queue is empty (its page view, sent at load, has been answered)."""
    page.wait_for_function(f"() => {QUEUE}.length === 0")
