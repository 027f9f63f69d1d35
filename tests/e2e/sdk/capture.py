"""Capture what the real SDKs send (run by hand: `uv run python -m tests.e2e.sdk.capture`
after `npm ci` here): each browser bundle is loaded in Debian's Chromium from one origin and
sends to a recording server on another, which answers every preflight with the headers asked
for and every request 200 (in the `-retry` scenarios a route handler fails the first delivery,
so the retry's headers are captured too; Playwright answers those preflights itself), and
posthog-python (PyPI, the locked version) sends to the same recorder. The requests land in
tests/fixtures/analytics_clients/ as browser_{segment,rudderstack,posthog}_captured_requests.json
and posthog_python_captured_requests.json ({method, path, headers, body, raw_len}; a body that
is not JSON as sent — posthog-js's gzip, its base64 `data=` form — also as `body_base64`, the
bytes on the wire, with `body` the document it holds), preflights included;
tests/api/test_browser_sdk_routes.py and tests/api/test_posthog.py replay them on both lanes.
"""

from __future__ import annotations

import base64
import gzip
import json
import sys
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from playwright.sync_api import Route, sync_playwright

HERE = Path(__file__).parent
FIXTURES = HERE.parents[1] / "fixtures" / "analytics_clients"
SEGMENT_BUNDLE = "/@segment/analytics-next/dist/umd/index.js"
RUDDER_BUNDLE = "/@rudderstack/analytics-js/dist/npm/modern/bundled/umd/index.js"
POSTHOG_BUNDLE = "/posthog-js/dist/array.full.no-external.js"
KEY = "pk_capture"
# Headers that say which browser and machine, not what the SDK sends.
DROPPED = {"host", "user-agent", "origin", "referer", "accept-language", "connection"}


def _recorder(log: list[dict[str, Any]], api: str) -> type[BaseHTTPRequestHandler]:
    host = api.split("://")[1]

    class Recorder(BaseHTTPRequestHandler):
        def _record(self, body: bytes = b"") -> None:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in DROPPED}
            headers = {k: v for k, v in headers.items() if not k.lower().startswith("sec-")}
            entry: dict[str, Any] = {
                "method": self.command,
                "path": self.path,
                "headers": headers,
                "body": None,
                "raw_len": len(body),
            }
            try:
                entry["body"] = json.loads(body.decode()) if body else None
            except (UnicodeDecodeError, ValueError):
                entry["body"] = _document_of(body, self.headers.get("Content-Encoding"))
                entry["body_base64"] = base64.b64encode(body).decode()
            log.append(entry)

        def _cors(self) -> None:
            self.send_header("Access-Control-Allow-Origin", "*")
            asked = self.headers.get("Access-Control-Request-Headers", "")
            self.send_header("Access-Control-Allow-Headers", asked)
            self.send_header("Access-Control-Allow-Methods", "GET, POST")

        def _answer(self, document: object) -> None:
            data = json.dumps(document).encode()
            self.send_response(200)
            self._cors()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_OPTIONS(self) -> None:
            self._record()
            self.send_response(204)
            self._cors()
            self.end_headers()

        def do_GET(self) -> None:
            self._record()
            if self.path.startswith("/array/"):
                from journeyline.ingest.dialects.posthog_config import remote_config

                self._answer(remote_config(KEY))
            elif self.path.startswith("/v1/projects/"):
                from journeyline.ingest.dialects.sdk_settings import segment_settings

                settings = segment_settings(KEY, api + "/")
                # Metrics every half second, so the capture holds a /v1/m.
                settings["metrics"] = {"host": f"{host}/v1", "sampleRate": 1, "flushTimer": 500}
                self._answer(settings)
            else:
                from journeyline.ingest.dialects.sdk_settings import rudderstack_source_config

                self._answer(rudderstack_source_config(KEY, "capture"))

        def do_POST(self) -> None:
            self._record(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            path = self.path.split("?")[0].rstrip("/")
            if path in ("/flags", "/decide"):
                from journeyline.ingest.dialects.posthog_config import flags

                self._answer(flags())
            elif path in ("/batch", "/capture", "/e", "/i/v0/e"):
                self._answer({"status": 1})
            else:
                self._answer({"success": True})

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Recorder


def _document_of(body: bytes, encoding: str | None) -> object:
    """The JSON a posthog-js body holds: gzip (by its magic bytes, sent as text/plain), or a
    `data=` form of base64 JSON."""
    if body[:2] == b"\x1f\x8b" or encoding == "gzip":
        return json.loads(gzip.decompress(body))
    form = urllib.parse.parse_qs(body.decode())
    return json.loads(base64.b64decode(form["data"][0]))


def _files(site: dict[str, bytes]) -> type[BaseHTTPRequestHandler]:
    class Files(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path in site:
                body, kind = site[path], "text/html"
            else:
                file = HERE / "node_modules" / path.lstrip("/")
                body, kind = (file.read_bytes(), "text/javascript") if file.is_file() else (b"", "")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", kind or "text/plain")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Files


# page (anonymous), alias to the user, identify, an order, the company; one after the other
# (analytics.js names the current user as an alias's previousId when the alias is sent).
CALLS = """
(async function () {
await a.page('Pricing', {plan: 'pro'});
await a.alias('capture-user');
await a.identify('capture-user', {email: 'capture@contoso.com', name: 'Cap Ture'});
await a.track('Order Completed', {order_id: 'cap-1', total: 30, currency: 'USD',
  products: [{product_id: 'p-1', price: 10, quantity: 3}]});
await a.group('cap-co', {name: 'Contoso', domain: 'contoso.com'});
if (a.screen) { await a.screen('Home'); }
})();
"""


# posthog-js: a page view while anonymous, identify with $set / $set_once, person properties,
# a group, an order (tests/e2e/test_posthog_js.py runs the same calls against journeyline).
POSTHOG_CALLS = """
posthog.capture('$pageview', {plan: 'pro'});
posthog.identify('capture-user', {email: 'capture@contoso.com', name: 'Cap Ture'},
  {first_seen: 'pricing'});
posthog.setPersonProperties({tier: 'gold'}, {signup: 'web'});
posthog.group('company', 'cap-co', {name: 'Contoso', domain: 'contoso.com'});
posthog.capture('order completed', {order_id: 'cap-1', total: 30, currency: 'USD'});
"""


def _posthog_load(api: str, batching: bool) -> str:
    options = {
        "api_host": api,
        "autocapture": False,
        "capture_pageview": False,
        "capture_pageleave": False,
        "disable_session_recording": True,
        "disable_surveys": True,
        "request_batching": batching,
        "persistence": "localStorage",
        "opt_out_useragent_filter": True,
    }
    return f"posthog.init('{KEY}', {json.dumps(options)});"


def _scenarios(api: str) -> dict[str, tuple[str, str]]:
    host = api.split("://")[1]
    segment_load = (
        f"var a = AnalyticsNext.AnalyticsBrowser.load({{writeKey: '{KEY}', cdnURL: '{api}'}}"
    )
    batching = (
        f"{{integrations: {{'Segment.io': {{deliveryStrategy: {{strategy: 'batching', "
        f"config: {{size: 10, timeout: 300}}}}, apiHost: '{host}/v1', protocol: 'http'}}}}}}"
    )
    rudder = f"var a = new rudderanalytics.RudderAnalytics(); a.load('{KEY}', '{api}', "
    return {
        "segment": (SEGMENT_BUNDLE, segment_load + ");" + CALLS),
        "segment-batching": (SEGMENT_BUNDLE, segment_load + ", " + batching + ");" + CALLS),
        "rudderstack": (RUDDER_BUNDLE, rudder + f"{{configUrl: '{api}'}});" + CALLS),
        # The first delivery fails (503 from a route handler): the retry's own headers.
        "segment-retry": (SEGMENT_BUNDLE, segment_load + ");a.track('Retried');"),
        "rudderstack-retry": (
            RUDDER_BUNDLE,
            rudder + f"{{configUrl: '{api}', queueOptions: {{minRetryDelay: 100}}}});"
            "a.track('Retried');",
        ),
        "rudderstack-beacon": (
            RUDDER_BUNDLE,
            rudder + f"{{configUrl: '{api}', useBeacon: true}});" + CALLS,
        ),
        "posthog": (POSTHOG_BUNDLE, _posthog_load(api, False) + POSTHOG_CALLS),
        "posthog-batching": (POSTHOG_BUNDLE, _posthog_load(api, True) + POSTHOG_CALLS),
    }


def _fail_once() -> Callable[[Route], None]:
    failed: list[bool] = []

    def handle(route: Route) -> None:
        if route.request.method == "POST" and not failed:
            failed.append(True)
            route.fulfill(status=503, headers={"Access-Control-Allow-Origin": "*"}, body="{}")
        else:
            route.continue_()

    return handle


def capture(sdks: tuple[str, ...] = ()) -> dict[str, list[dict[str, Any]]]:
    """Every scenario's requests by SDK; only those of `sdks` (segment, rudderstack, posthog,
    posthog_python) when named."""
    log: list[dict[str, Any]] = []
    site: dict[str, bytes] = {}
    servers = []
    for handler in (_files(site), None):
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler or BaseHTTPRequestHandler)
        servers.append(server)
    api = f"http://127.0.0.1:{servers[1].server_port}"
    servers[1].RequestHandlerClass = _recorder(log, api)
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://localhost:{servers[0].server_port}"
    captured: dict[str, list[dict[str, Any]]] = {"segment": [], "rudderstack": [], "posthog": []}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        for name, (bundle, script) in _scenarios(api).items():
            if sdks and name.split("-")[0] not in sdks:
                continue
            log.clear()
            site[f"/{name}"] = (
                f"<!doctype html><title>{name}</title><script src='{bundle}'></script>"
                f"<script>{script}</script>"
            ).encode()
            context = browser.new_context()
            if name.endswith("-retry"):
                context.route(lambda url: url.endswith(("/v1/t", "/v1/track")), _fail_once())
            page = context.new_page()
            page.goto(f"{origin}/{name}")
            page.wait_for_timeout(3000)
            if name == "rudderstack-beacon":
                page.goto("about:blank")  # the beacon queue flushes as the page goes
                page.wait_for_timeout(1000)
            context.close()
            captured[name.split("-")[0]].extend(dict(entry, scenario=name) for entry in log)
        browser.close()
    if not sdks or "posthog_python" in sdks:
        log.clear()
        _posthog_python(api)
        captured["posthog_python"] = [dict(entry, scenario="posthog-python") for entry in log]
    for server in servers:
        server.shutdown()
    return captured


def _posthog_python(api: str) -> None:
    """posthog-python's calls, plain then gzip (tests/api/test_posthog_sdk.py makes the same
    against journeyline)."""
    from posthog import Posthog

    for gzipped in (False, True):
        client = Posthog(KEY, host=api, gzip=gzipped, sync_mode=True, disable_geoip=True)
        client.capture(
            "order completed",
            distinct_id="capture-user",
            properties={"order_id": f"cap-py-{int(gzipped)}", "total": 30, "currency": "USD"},
        )
        client.capture("$pageview", distinct_id="anon-py", properties={"$is_identified": False})
        client.capture(
            "$identify",
            distinct_id="capture-user",
            properties={"$anon_distinct_id": "anon-py", "$set": {"email": "capture@contoso.com"}},
        )
        client.set(distinct_id="capture-user", properties={"plan": "pro"})
        client.set_once(distinct_id="capture-user", properties={"first_seen": "pricing"})
        # A second device, anonymous, then aliased to the user (previous id first).
        client.capture("opened app", distinct_id="device-py", properties={"$is_identified": False})
        client.alias("device-py", "capture-user")
        client.group_identify("company", "cap-co", {"name": "Contoso", "domain": "contoso.com"})
        client.shutdown()


if __name__ == "__main__":
    # `python -m tests.e2e.sdk.capture posthog posthog_python`: only those SDKs' files.
    for sdk, requests in capture(tuple(sys.argv[1:])).items():
        if not requests:
            continue
        name = (
            f"{sdk}_captured_requests.json"
            if sdk == "posthog_python"
            else (f"browser_{sdk}_captured_requests.json")
        )
        target = FIXTURES / name
        target.write_text(json.dumps(requests, indent=1) + "\n")
        sys.stdout.write(f"{target}: {len(requests)} requests\n")
