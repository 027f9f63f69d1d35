"""posthog-js unchanged but for its host (decision 66): the npm package's self-contained bundle
(`posthog-js/dist/array.full.no-external.js`, the version pinned in
tests/e2e/sdk/package-lock.json), served from the test site's origin and run in headless
Chromium against a live journeyline on another origin. At load it asks journeyline for its
remote config and flags (none); the page then captures a page view while anonymous,
identifies the user with `$set` and `$set_once`, sets person properties, joins a group and
captures an order. The test reads back the profile, its identities and attributes, the events
and the CRM company; every request goes to the site or journeyline, none fails or is refused."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from bench.servers import Server
from playwright.sync_api import Browser

from tests.e2e.conftest import Reader, Site, eventually, html
from tests.e2e.test_browser_sdks import BUNDLES, Traffic, _install_bundles

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def bundle(site: Site) -> str:
    """posthog-js's bundle, served by the site (`npm ci` when missing, as `make browser`)."""
    _install_bundles()
    source = BUNDLES["posthog"].read_text()
    return site.add("/vendor/posthog.js", source, "text/javascript; charset=utf-8")


@pytest.fixture
def watched(browser: Browser, api: Server, site: Site) -> Iterator[Traffic]:
    context = browser.new_context()
    traffic = Traffic(context)
    try:
        yield traffic
        traffic.sync()
        hosts = (site.origin + "/", api.base_url + "/")
        elsewhere = [r.url for r in traffic.requests if not r.url.startswith(hosts)]
        assert elsewhere == [], f"requests left for another host: {elsewhere}"
        assert traffic.failed == [], f"requests failed: {traffic.failed}"
        refused = {url: s for url, s in traffic.statuses.items() if any(x >= 400 for x in s)}
        assert refused == {}, f"answered with an error: {refused}"
        assert traffic.errors == [], f"the page logged errors: {traffic.errors}"
    finally:
        context.close()


def journey(api: Server, user: str, order: str, company: str) -> str:
    options = {
        "api_host": api.base_url,
        "autocapture": False,
        "capture_pageview": False,
        "capture_pageleave": False,
        "disable_session_recording": True,
        "disable_surveys": True,
        "request_batching": False,
        "persistence": "localStorage",
        # Headless Chromium's user agent reads as a bot, whose events posthog-js drops; its
        # own message names this option for end-to-end tests.
        "opt_out_useragent_filter": True,
    }
    return f"""
    posthog.init({json.dumps(api.public_key)}, {json.dumps(options)});
    posthog.capture('$pageview', {{plan: 'pro'}});
    posthog.identify('{user}', {{email: '{user}@contoso.com', name: 'Jane {user}'}},
      {{first_seen: 'pricing'}});
    window.identified = true;
    """


def journey_after_identify(user: str, order: str, company: str) -> str:
    """The rest of the journey, run once journeyline holds the identify: without batching each
    call is a request of its own, and two requests may arrive in either order, so the second
    `$set_once` is sent only after the first is stored (what `$set_once` keeps is then
    defined)."""
    return f"""() => {{
    posthog.setPersonProperties({{tier: 'gold'}}, {{first_seen: 'later', signup: 'web'}});
    posthog.group('company', '{company}', {{name: 'Contoso {company}', domain: '{company}.com'}});
    posthog.capture('order completed', {{order_id: '{order}', total: 30, currency: 'USD'}});
    }}"""


def test_posthog_js_lands_every_call(
    watched: Traffic, site: Site, api: Server, reader: Reader, bundle: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    user, order, company = f"u-ph-{tag}", f"o-ph-{tag}", f"cph{tag}"
    document = html(
        "Shop",
        head=f'<link rel="icon" href="data:,"><script src="{bundle}"></script>',
        body=f"<h1>Shop</h1><script>{journey(api, user, order, company)}</script>",
    )
    page = watched.context.new_page()
    page.goto(site.add(f"/posthog-{tag}", document))
    page.wait_for_function("() => window.identified === true", timeout=15_000)

    def identified() -> dict[str, Any] | None:
        profile = reader.profile_by("external_id", user)
        return profile if profile is not None and "first_seen" in profile["attributes"] else None

    eventually(identified)
    page.evaluate(journey_after_identify(user, order, company))

    def landed() -> dict[str, Any] | None:
        profile = reader.profile_by("external_id", user)
        if profile is None or "company" not in profile["attributes"]:
            return None
        types = {e["event_type"] for e in reader.events_of(profile["id"])}
        wanted = {"page_viewed", "identified", "purchase_completed", "group_joined"}
        return profile if wanted <= types and "signup" in profile["attributes"] else None

    profile = eventually(landed)
    attributes = profile["attributes"]
    assert attributes["email"] == f"{user}@contoso.com"
    assert (attributes["tier"], attributes["signup"]) == ("gold", "web")
    # $set_once never overwrites: the identify's first_seen stays.
    assert attributes["first_seen"] == "pricing"
    kinds = {identity["kind"] for identity in profile["identities"]}
    # The anonymous page view's visitor is the same profile ($identify with $anon_distinct_id).
    assert {"external_id", "email", "anonymous_id"} <= kinds
    [page_view] = [e for e in reader.events_of(profile["id"]) if e["event_type"] == "page_viewed"]
    assert page_view["payload"]["plan"] == "pro"
    persons = reader.get("/v1/crm/persons")["data"]
    [person] = [p for p in persons if p["profile_id"] == profile["id"]]
    companies = {c["id"]: c for c in reader.get("/v1/crm/companies")["data"]}
    assert companies[person["company_id"]]["domain"] == f"{company}.com"
    paths = {path.split("?")[0] for path in watched.paths(api.base_url)}
    assert paths & {"/e/", "/i/v0/e/", "/batch/"}, paths
