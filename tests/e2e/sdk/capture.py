"""Capture what the real browser SDKs send (run by hand: `uv run python -m tests.e2e.sdk.capture`
after `npm ci` here): each bundle is loaded in Debian's Chromium from one origin and sends to a
recording server on another, which answers every preflight with the headers asked for and every
request 200 (in the `-retry` scenarios a route handler fails the first delivery, so the
retry's headers are captured too; Playwright answers those preflights itself). The requests land in tests/fixtures/analytics_clients/ as
browser_{segment,rudderstack}_captured_requests.json ({method, path, headers, body, raw_len}),
preflights included, and tests/api/test_browser_sdk_routes.py replays them on both lanes.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from playwright.sync_api import Route, sync_playwright

HERE = Path(__file__).parent
FIXTURES = HERE.parents[1] / "fixtures" / "analytics_clients"
SEGMENT_BUNDLE = "/@segment/analytics-next/dist/umd/index.js"
RUDDER_BUNDLE = "/@rudderstack/analytics-js/dist/npm/modern/bundled/umd/index.js"
KEY = "pk_capture"
# Headers that say which browser and machine, not what the SDK sends.
DROPPED = {"host", "user-agent", "origin", "referer", "accept-language", "connection"}


def _recorder(log: list[dict[str, Any]], api: str) -> type[BaseHTTPRequestHandler]:
    host = api.split("://")[1]

    class Recorder(BaseHTTPRequestHandler):
        def _record(self, body: bytes = b"") -> None:
            text = body.decode()
            headers = {k: v for k, v in self.headers.items() if k.lower() not in DROPPED}
            headers = {k: v for k, v in headers.items() if not k.lower().startswith("sec-")}
            log.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": headers,
                    "body": json.loads(text) if text else None,
                    "raw_len": len(body),
                }
            )

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
            if self.path.startswith("/v1/projects/"):
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
            self._answer({"success": True})

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Recorder


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


def capture() -> dict[str, list[dict[str, Any]]]:
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
    captured: dict[str, list[dict[str, Any]]] = {"segment": [], "rudderstack": []}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        for name, (bundle, script) in _scenarios(api).items():
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
    for server in servers:
        server.shutdown()
    return captured


if __name__ == "__main__":
    for sdk, requests in capture().items():
        target = FIXTURES / f"browser_{sdk}_captured_requests.json"
        target.write_text(json.dumps(requests, indent=1) + "\n")
        sys.stdout.write(f"{target}: {len(requests)} requests\n")
