"""The browser SDKs unchanged but for their host (decision 62): Segment's analytics.js 2.0
(`@segment/analytics-next`, its UMD bundle) and RudderStack's JavaScript SDK v3
(`@rudderstack/analytics-js`, its bundled UMD build), the exact versions pinned in
tests/e2e/sdk/package-lock.json and installed by `npm ci` (`make browser`, or the fixture below),
served from the test site's origin and run in headless Chromium against a live journeyline on
another origin, as a customer's page runs them.

Each SDK makes a customer's calls — a page view while anonymous, an alias to the user, identify
with traits, an "Order Completed" with products, a group with the company's traits — and the
tests read back what journeyline stored: the profile and its attributes and identities, the
events, the completed order and the CRM company. Segment in its default delivery (a request per
call, to the short paths) and batching (`/v1/b`), each with journeyline's settings document
(`cdnURL` = journeyline) and with its settings inline (`cdnSettings`); RudderStack over XHR and
by beacon (`useBeacon: true`), each with journeyline's source config (`configUrl`) and with a
local one (`getSourceConfig`). Every request the page makes goes to the site or to journeyline
(listened for on the browser context); none fails, none is refused, and the page logs no error.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from bench.servers import Server
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Request, Response

from tests.conftest import IN_CI
from tests.e2e.conftest import Reader, Site, eventually, html

pytestmark = pytest.mark.browser

SDK_DIR = Path(__file__).parent / "sdk"
BUNDLES = {
    "segment": SDK_DIR / "node_modules/@segment/analytics-next/dist/umd/index.js",
    "rudderstack": SDK_DIR
    / "node_modules/@rudderstack/analytics-js/dist/npm/modern/bundled/umd/index.js",
    # tests/e2e/test_posthog_js.py's: posthog-js's self-contained build.
    "posthog": SDK_DIR / "node_modules/posthog-js/dist/array.full.no-external.js",
}


def _install_bundles(*also: Path) -> None:
    """`npm ci` of the pinned packages when they (or the files `also` names) are missing
    (what `make browser` does)."""
    wanted = [*BUNDLES.values(), *also]
    if all(bundle.exists() for bundle in wanted):
        return
    npm = shutil.which("npm")
    if npm is not None:
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=SDK_DIR,
            check=False,
            timeout=300,
        )
    missing = [str(bundle) for bundle in wanted if not bundle.exists()]
    if missing:
        message = f"the browser SDKs are not installed ({', '.join(missing)}): run make browser"
        if IN_CI:
            pytest.fail(message)
        pytest.skip("SKIPPING BROWSER SDK TESTS: " + message)


@pytest.fixture(scope="module")
def bundles(site: Site) -> dict[str, str]:
    """Each SDK's bundle, served by the site (the customer hosts the npm build)."""
    _install_bundles()
    return {
        sdk: site.add(f"/vendor/{sdk}.js", path.read_text(), "text/javascript; charset=utf-8")
        for sdk, path in BUNDLES.items()
    }


@dataclass
class Traffic:
    """Every request a browser context made, with its answer; console errors and page errors."""

    context: BrowserContext
    requests: list[Request] = field(default_factory=list)
    statuses: dict[str, list[int]] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.context.on("request", self._requested)
        self.context.on("response", self._answered)
        self.context.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
        self.context.on("page", self._watch)

    def _requested(self, request: Request) -> None:
        self.requests.append(request)

    def _answered(self, response: Response) -> None:
        self.statuses.setdefault(response.url, []).append(response.status)

    def _watch(self, page: Any) -> None:
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def sync(self) -> None:
        self.context.cookies()  # a round trip: the browser's events so far are delivered

    def paths(self, origin: str) -> list[str]:
        self.sync()
        return [r.url[len(origin) :] for r in self.requests if r.url.startswith(origin + "/")]

    def posted(self, origin: str) -> dict[str, list[dict[str, Any]]]:
        """The bodies the page posted to `origin`, by path (query string dropped)."""
        self.sync()
        bodies: dict[str, list[dict[str, Any]]] = {}
        for request in self.requests:
            if request.method == "POST" and request.url.startswith(origin + "/"):
                path = request.url[len(origin) :].split("?")[0]
                bodies.setdefault(path, []).append(json.loads(request.post_data or "{}"))
        return bodies

    def headers_to(self, origin: str, path: str) -> list[dict[str, str]]:
        self.sync()
        return [
            r.headers
            for r in self.requests
            if r.method == "POST" and r.url.split("?")[0] == origin + path
        ]


@pytest.fixture
def traffic(browser: Browser, api: Server, site: Site) -> Iterator[Traffic]:
    context = browser.new_context()
    watched = Traffic(context)
    try:
        yield watched
        watched.sync()
        hosts = (site.origin + "/", api.base_url + "/")
        elsewhere = [r.url for r in watched.requests if not r.url.startswith(hosts)]
        assert elsewhere == [], f"requests left for another host: {elsewhere}"
        assert watched.failed == [], f"requests failed: {watched.failed}"
        refused = {url: s for url, s in watched.statuses.items() if any(x >= 400 for x in s)}
        assert refused == {}, f"answered with an error: {refused}"
        assert watched.errors == [], f"the page logged errors: {watched.errors}"
    finally:
        context.close()


def journey(user: str, order: str, company: str) -> str:
    """A customer's calls, one after the other (each SDK call returns once it is queued or
    sent): a page view while anonymous, an alias to the user, identify, an order, the group."""
    return f"""
    window.journey = (async function (a) {{
      await a.page('Pricing', {{plan: 'pro'}});
      await a.alias('{user}');
      await a.identify('{user}', {{email: '{user}@contoso.com', name: 'Jane {user}'}});
      await a.track('Order Completed', {{order_id: '{order}', total: 30, currency: 'USD',
        products: [{{product_id: 'sku-1', name: 'Mug', price: 10, quantity: 3}}]}});
      await a.group('{company}', {{name: 'Contoso {company}', domain: '{company}.com'}});
      window.journeyDone = true;
    }})(window.sdk);
    """


def page_html(bundle: str, setup: str, calls: str) -> str:
    return html(
        "Shop",
        head=f'<link rel="icon" href="data:,"><script src="{bundle}"></script>',
        body=f"<h1>Shop</h1><script>{setup}{calls}</script>",
    )


@dataclass(frozen=True)
class Journey:
    user: str
    order: str
    company: str

    @classmethod
    def fresh(cls, sdk: str) -> Journey:
        tag = f"{sdk}-{uuid.uuid4().hex[:8]}"
        return cls(f"u-{tag}", f"o-{tag}", f"c{tag}")

    def script(self) -> str:
        return journey(self.user, self.order, self.company)


def assert_the_journey_landed(reader: Reader, person: Journey) -> dict[str, Any]:
    """What journeyline stored for the journey: one profile with its identities, attributes,
    events, the completed order and the person's CRM company."""

    def landed() -> dict[str, Any] | None:
        profile = reader.profile_by("external_id", person.user)
        if profile is None or "company" not in profile["attributes"]:
            return None
        orders = reader.get("/v1/orders", profile_id=profile["id"])["data"]
        types = {e["event_type"] for e in reader.events_of(profile["id"])}
        wanted = {"page_viewed", "aliased", "identified", "purchase_completed", "group_joined"}
        return profile if orders and wanted <= types else None

    profile = eventually(landed)
    attributes = profile["attributes"]
    assert attributes["email"] == f"{person.user}@contoso.com"
    assert attributes["name"] == f"Jane {person.user}"
    assert attributes["company"]["domain"] == f"{person.company}.com"
    kinds = {identity["kind"] for identity in profile["identities"]}
    # The anonymous page view's visitor is the same profile (alias, then identify).
    assert {"external_id", "email", "anonymous_id"} <= kinds
    events = reader.events_of(profile["id"])
    [page_view] = [e for e in events if e["event_type"] == "page_viewed"]
    assert page_view["payload"]["plan"] == "pro"
    [order] = reader.get("/v1/orders", profile_id=profile["id"])["data"]
    assert (order["order_id"], order["status"], order["total"]) == (person.order, "completed", 30)
    assert [item.get("product_id") for item in order["items"]] == ["sku-1"]
    persons = reader.get("/v1/crm/persons")["data"]
    [crm_person] = [p for p in persons if p["profile_id"] == profile["id"]]
    companies = {c["id"]: c for c in reader.get("/v1/crm/companies")["data"]}
    assert companies[crm_person["company_id"]]["domain"] == f"{person.company}.com"
    return profile


def run_page(traffic: Traffic, site: Site, path: str, document: str) -> None:
    page = traffic.context.new_page()
    page.goto(site.add(path, document))
    page.wait_for_function("() => window.journeyDone === true", timeout=15_000)


# --- Segment's analytics.js 2.0 --------------------------------------------------------------

SEGMENT_SHORT_PATHS = {"/v1/p", "/v1/a", "/v1/i", "/v1/t", "/v1/g"}


def segment_setup(api: Server, *, settings: str, delivery: str) -> str:
    """`AnalyticsBrowser.load` as a customer writes it. `settings`: "journeyline" points cdnURL
    at journeyline (its settings document names the apiHost); "inline" passes `cdnSettings`
    and the apiHost in the load options, as Segment's docs say. `delivery`: "default" or
    "batching"."""
    host = api.base_url.split("://")[1]
    sender: dict[str, Any] = {}
    if delivery == "batching":
        sender["deliveryStrategy"] = {"strategy": "batching", "config": {"size": 5, "timeout": 200}}
    load: dict[str, Any]
    if settings == "journeyline":
        load = {"writeKey": api.public_key, "cdnURL": api.base_url}
    else:
        sender.update({"apiHost": f"{host}/v1", "protocol": "http"})
        cdn_settings = {
            "integrations": {"Segment.io": {"apiKey": api.public_key}},
            # The SDK's own counters, flushed quickly so this test sees them reach /v1/m.
            "metrics": {"flushTimer": 200},
        }
        load = {"writeKey": api.public_key, "cdnSettings": cdn_settings}
    options = {"integrations": {"Segment.io": sender}} if sender else {}
    return (
        f"window.sdk = AnalyticsNext.AnalyticsBrowser.load({json.dumps(load)}, "
        f"{json.dumps(options)});"
    )


@pytest.mark.parametrize("delivery", ["default", "batching"])
@pytest.mark.parametrize("settings", ["journeyline", "inline"])
def test_segment_analytics_next_lands_every_call(
    traffic: Traffic,
    site: Site,
    api: Server,
    reader: Reader,
    bundles: dict[str, str],
    settings: str,
    delivery: str,
) -> None:
    person = Journey.fresh("segment")
    setup = segment_setup(api, settings=settings, delivery=delivery)
    run_page(
        traffic,
        site,
        f"/segment-{settings}-{delivery}",
        page_html(bundles["segment"], setup, person.script()),
    )
    assert_the_journey_landed(reader, person)

    paths = {path.split("?")[0] for path in traffic.paths(api.base_url)}
    settings_path = f"/v1/projects/{api.public_key}/settings"
    assert (settings_path in paths) == (settings == "journeyline")
    posted = traffic.posted(api.base_url)
    if delivery == "batching":
        assert "/v1/b" in paths
        assert not SEGMENT_SHORT_PATHS & paths
        batched = [m for body in posted["/v1/b"] for m in body["batch"]]
        assert {m["type"] for m in batched} >= {"page", "alias", "identify", "track", "group"}
    else:
        assert paths >= SEGMENT_SHORT_PATHS
        assert "/v1/b" not in paths
    for headers in traffic.headers_to(api.base_url, "/v1/t") + traffic.headers_to(
        api.base_url, "/v1/b"
    ):
        # JSON as text/plain, the key as the Basic user: what the routes must take.
        assert headers["content-type"] == "text/plain"
        assert headers["authorization"].startswith("Basic ")
    if settings == "inline":
        # The metrics go where the apiHost of the load options says: journeyline's /v1/m.
        eventually(lambda: "/v1/m" in traffic.posted(api.base_url) or None)


# --- RudderStack's JavaScript SDK v3 ---------------------------------------------------------


def rudderstack_setup(api: Server, *, config: str, transport: str) -> str:
    """`rudderanalytics.load(writeKey, dataPlaneUrl, options)` as a customer writes it.
    `config`: "journeyline" points configUrl at journeyline; "local" hands the SDK its source
    config (`getSourceConfig`), no config request at all. `transport`: "xhr" or "beacon"."""
    options: dict[str, Any] = {}
    if transport == "beacon":
        options.update({"useBeacon": True, "beaconQueueOptions": {"flushQueueInterval": 200}})
    if config == "journeyline":
        options["configUrl"] = api.base_url
    local = {
        "source": {
            "id": "shop",
            "name": "Shop",
            "workspaceId": "shop",
            "enabled": True,
            "config": {},
            "destinations": [],
        }
    }
    source = f"getSourceConfig: function () {{ return {json.dumps(local)}; }}, "
    rendered = json.dumps(options)[1:-1]
    options_js = "{" + (source if config == "local" else "") + rendered + "}"
    return (
        "window.sdk = new rudderanalytics.RudderAnalytics();"
        f"window.sdk.load({json.dumps(api.public_key)}, {json.dumps(api.base_url)}, {options_js});"
    )


@pytest.mark.parametrize("transport", ["xhr", "beacon"])
@pytest.mark.parametrize("config", ["journeyline", "local"])
def test_rudderstack_js_sdk_lands_every_call(
    traffic: Traffic,
    site: Site,
    api: Server,
    reader: Reader,
    bundles: dict[str, str],
    config: str,
    transport: str,
) -> None:
    person = Journey.fresh("rudder")
    setup = rudderstack_setup(api, config=config, transport=transport)
    run_page(
        traffic,
        site,
        f"/rudderstack-{config}-{transport}",
        page_html(bundles["rudderstack"], setup, person.script()),
    )
    assert_the_journey_landed(reader, person)

    paths = {path.split("?")[0] for path in traffic.paths(api.base_url)}
    assert ("/sourceConfig/" in paths) == (config == "journeyline")
    if transport == "beacon":
        assert "/beacon/v1/batch" in paths
        assert not {"/v1/page", "/v1/track", "/v1/identify"} & paths
        [query] = {url.split("?", 1)[1] for url in traffic.paths(api.base_url) if "/beacon/" in url}
        assert query == f"writeKey={api.public_key}"
    else:
        assert {"/v1/page", "/v1/alias", "/v1/identify", "/v1/track", "/v1/group"} <= paths
        for headers in traffic.headers_to(api.base_url, "/v1/track"):
            # The headers journeyline's preflight must allow, or Chromium blocks the request.
            assert {"anonymousid", "sentat", "authorization"} <= set(headers)
