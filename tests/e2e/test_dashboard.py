"""The dashboard in real headless Chromium against a live `journeyline serve` filled by
`journeyline demo`: sign in, every page shows the demo data, live updates without a reload,
search, unmerge, and no console errors. A screenshot of each page is saved for review under
test-output/dashboard/ (or $JOURNEYLINE_TEST_OUTPUT/dashboard/)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.servers import Server, journeyline_env, journeyline_server
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from tests.e2e.conftest import Site

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("JOURNEYLINE_TEST_OUTPUT", ROOT / "test-output")) / "dashboard"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A live server whose default tenant `journeyline demo` filled (run as a user would)."""
    workdir = tmp_path_factory.mktemp("dashboard")
    url = f"sqlite+aiosqlite:///{workdir / 'journeyline.db'}"
    with journeyline_server(url, workdir, name="dashboard-server") as server:
        filled = subprocess.run(
            [sys.executable, "-m", "journeyline", "demo", "--secret-key", server.secret_key],
            cwd=workdir,
            env=journeyline_env(url),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert filled.returncode == 0, filled.stdout + filled.stderr
        yield server


@pytest.fixture(scope="module")
def signed_in(browser: Browser, demo: Server) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(demo.base_url + "/app/sign-in")
    page.fill("input[name=key]", demo.secret_key)
    page.click("button[type=submit]")
    page.wait_for_url("**/app/overview")
    page.close()
    yield context
    context.close()


class Console:
    """Console errors and uncaught exceptions of the pages a test opens."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page) -> Page:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")


@pytest.fixture
def console() -> Iterator[Console]:
    watching = Console()
    yield watching
    assert watching.errors == [], watching.errors


def open_page(context: BrowserContext, console: Console, url: str) -> Page:
    page = console.watch(context.new_page())
    page.goto(url)
    return page


def live(page: Page) -> None:
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=TIMEOUT_MS)


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def post_event(demo: Server, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        demo.base_url + "/v1/events",
        json=body,
        headers={"Authorization": f"Bearer {demo.secret_key}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["results"][0]
    return result


def test_sign_in_is_required_and_a_wrong_key_is_refused(
    browser: Browser, demo: Server, console: Console
) -> None:
    context = browser.new_context()
    page = console.watch(context.new_page())
    page.goto(demo.base_url + "/app/overview")
    page.wait_for_url("**/app/sign-in")
    shoot(page, "sign-in")
    page.fill("input[name=key]", "sk_wrong")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("not a secret key")
    context.close()
    # The refused sign-in answers 401, which the browser logs as a failed resource load.
    console.errors = [e for e in console.errors if "401" not in e]


def test_every_page_renders_the_demo_data(
    signed_in: BrowserContext, demo: Server, console: Console
) -> None:
    page = open_page(signed_in, console, demo.base_url + "/app/overview")
    live(page)
    expect(page.locator("#feed tr").first).to_be_visible()
    assert int(page.locator("#count-profiles").inner_text()) > 0
    assert int(page.locator("#count-orders").inner_text()) > 0
    shoot(page, "overview")

    page.goto(demo.base_url + "/app/profiles")
    expect(page.locator("table.profiles tbody tr").first).to_be_visible()
    shoot(page, "profiles")

    page.locator("table.profiles tbody tr a").first.click()
    expect(page.locator("table.timeline tbody tr").first).to_be_visible()
    expect(page.locator("table.timeline .badge").first).to_be_visible()
    shoot(page, "profile")

    page.goto(demo.base_url + "/app/intelligence?mode=full")
    expect(page.locator("#graph-svg circle").first).to_be_visible(timeout=TIMEOUT_MS)
    for node_type in ("Campaign", "Channel", "Customer", "Stage"):
        assert page.locator(f'#graph-svg g.node[data-type="{node_type}"]').count() > 0, node_type
    expect(page.locator("table.attribution tbody tr").first).to_be_visible()
    shoot(page, "intelligence")

    page.goto(demo.base_url + "/app/pipeline")
    won = page.locator('.stage[data-stage="won"] .deal')
    expect(won.first).to_be_visible()
    assert page.locator('.stage[data-stage="lost"] .deal').count() > 0
    shoot(page, "pipeline")

    page.goto(demo.base_url + "/app/webhooks")
    deliveries = page.locator("table.deliveries tbody tr")
    expect(deliveries.first).to_be_visible()
    providers = page.locator("table.connections tbody").inner_text()
    assert "stripe" in providers
    assert "shopify" in providers
    shoot(page, "webhooks")


def test_an_ingested_event_appears_on_overview_and_pipeline_without_a_reload(
    signed_in: BrowserContext, demo: Server, console: Console
) -> None:
    overview = open_page(signed_in, console, demo.base_url + "/app/overview")
    pipeline = open_page(signed_in, console, demo.base_url + "/app/pipeline")
    live(overview)
    live(pipeline)
    won = pipeline.locator('.stage[data-stage="won"] .count')
    before = int(won.inner_text())
    result = post_event(
        demo,
        {
            "type": "track",
            "action": "purchase",
            "email": "live-buyer@demo.io",
            "properties": {"order_id": "LIVE-1", "total": 77, "currency": "EUR"},
        },
    )
    expect(overview.locator(f'#feed tr[data-event-id="{result["event_id"]}"]')).to_be_visible(
        timeout=TIMEOUT_MS
    )
    expect(won).to_have_text(str(before + 1), timeout=TIMEOUT_MS)
    shoot(overview, "overview-live")


def test_search_finds_a_profile_by_email(
    signed_in: BrowserContext, demo: Server, console: Console
) -> None:
    made = post_event(demo, {"type": "identify", "email": "findme@demo.io"})
    page = open_page(signed_in, console, demo.base_url + "/app/profiles")
    page.fill("input[name=q]", "findme@demo.io")
    page.press("input[name=q]", "Enter")
    result = page.locator(f'a[href="/app/profiles/{made["customer_id"]}"]').first
    expect(result).to_be_visible()
    result.click()
    expect(page.locator("table.identities")).to_contain_text("findme@demo.io")


def test_unmerge_from_the_profile_page(
    signed_in: BrowserContext, demo: Server, console: Console
) -> None:
    kept = post_event(demo, {"type": "identify", "email": "kept@demo.io"})
    gone = post_event(demo, {"type": "identify", "email": "gone@demo.io"})
    merged = httpx.post(
        f"{demo.base_url}/v1/profiles/{kept['customer_id']}/merge",
        json={"profile_id": gone["customer_id"]},
        headers={"Authorization": f"Bearer {demo.secret_key}"},
        timeout=10,
    )
    assert merged.status_code == 200, merged.text
    page = open_page(signed_in, console, f"{demo.base_url}/app/profiles/{kept['customer_id']}")
    expect(page.locator("table.identities")).to_contain_text("gone@demo.io")
    page.click("button.unmerge")
    # It asks first: what goes back, then the (CSRF-checked) form that does it.
    page.wait_for_url(f"**/app/profiles/{kept['customer_id']}/unmerge?merged=*")
    expect(page.locator("ul.returning")).to_contain_text("gone@demo.io")
    shoot(page, "unmerge-confirm")
    page.click("button.confirm-unmerge")
    page.wait_for_url(f"**/app/profiles/{kept['customer_id']}")
    expect(page.locator("table.merges")).to_contain_text("(undone)")
    expect(page.locator("table.identities")).not_to_contain_text("gone@demo.io")


def test_another_site_cannot_frame_the_dashboard(
    browser: Browser, demo: Server, site: Site
) -> None:
    """Clickjacking: the dashboard says `frame-ancestors 'none'` (and X-Frame-Options DENY), so
    a page elsewhere gets an empty frame, never the sign-in form."""
    url = site.add(
        "/framing.html",
        f'<html><body><iframe id="target" src="{demo.base_url}/app/sign-in"></iframe></body></html>',
    )
    context = browser.new_context()
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text))
    with page.expect_response(lambda r: r.url.endswith("/app/sign-in")) as answered:
        page.goto(url)
    assert answered.value.status == 200  # served, then refused by the browser
    page.wait_for_load_state("load")
    framed = [frame for frame in page.frames if frame is not page.main_frame]
    assert len(framed) == 1
    assert framed[0].query_selector("input[name=key]") is None
    expect(page.locator("#target")).to_be_attached()
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not any("frame-ancestors" in text for text in refused) and time.monotonic() < deadline:
        page.wait_for_timeout(50)  # polling for the console message, with a deadline
    assert any("frame-ancestors" in text for text in refused), refused
    context.close()
