"""The dashboard's charts in real headless Chromium against a live `journeyline serve` filled
by `journeyline demo`: the Overview's activity charts and its feed naming people in the
viewer's zone, the funnel in stage order with its rates, the Sankey of campaign → channel →
stage, attribution bars, and a customer's journey found by a search — each chart asserted to
hold non-zero data (read from the ECharts instances), with no console errors. Screenshots land
in test-output/dashboard/ (or $JOURNEYLINE_TEST_OUTPUT/dashboard/)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from bench.servers import Server
from playwright.sync_api import Browser, BrowserContext, Page, expect

from journeyline.graph.stages import STAGES
from tests.e2e.test_dashboard import (
    TIMEOUT_MS,
    Console,
    console,
    demo,
    live,
    open_page,
    shoot,
)

__all__ = ["console", "demo"]  # the live demo server and console watch, shared fixtures

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def signed_in(browser: Browser, demo: Server) -> Iterator[BrowserContext]:
    """Signed in, in a zone other than UTC: times must be shown in the viewer's own."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, timezone_id="America/Sao_Paulo"
    )
    page = context.new_page()
    page.goto(demo.base_url + "/app/sign-in")
    page.fill("input[name=key]", demo.secret_key)
    page.click("button[type=submit]")
    page.wait_for_url("**/app/overview")
    page.close()
    yield context
    context.close()


SERIES = """(id) => {
  const chart = window.journeylineCharts && window.journeylineCharts[id];
  if (!chart) return null;
  return chart.getOption().series.map((s) => ({
    type: s.type, name: s.name || null,
    data: (s.data || []).map((d) => (d !== null && typeof d === "object" ? (d.value ?? d.name) : d)),
    names: (s.data || []).map((d) => (d !== null && typeof d === "object" ? d.name : null)),
    links: (s.links || []).length,
  }));
}"""


def series_of(page: Page, chart_id: str) -> list[dict[str, Any]]:
    """The series the chart draws, once it has drawn some (waits on the condition)."""
    page.wait_for_function(
        "(id) => { const c = window.journeylineCharts && window.journeylineCharts[id];"
        " return !!c && (c.getOption().series || []).length > 0; }",
        arg=chart_id,
        timeout=TIMEOUT_MS,
    )
    expect(page.locator(f"#{chart_id}")).to_have_attribute("data-drawn", "1", timeout=TIMEOUT_MS)
    found: list[dict[str, Any]] = page.evaluate(SERIES, chart_id)
    return found


def total(values: list[Any]) -> float:
    return sum(float(value) for value in values if isinstance(value, int | float))


def test_overview_charts_events_and_people_and_the_feed_names_people(
    signed_in: BrowserContext, demo: Server, console: Console
) -> None:
    page = open_page(signed_in, console, demo.base_url + "/app/overview")
    live(page)
    expect(page).to_have_title("Overview · journeyline")
    activity = series_of(page, "chart-activity")
    by_name = {series["name"]: series for series in activity}
    assert total(by_name["events"]["data"]) > 0
    assert total(by_name["active people"]["data"]) > 0
    sources = series_of(page, "chart-sources")
    assert len(sources) >= 2  # the demo sends from the storefront and from providers
    assert total([v for s in sources for v in s["data"]]) == total(by_name["events"]["data"])
    types = series_of(page, "chart-types")
    assert {"page_viewed", "purchase_completed"} <= {s["name"] for s in types}
    # The feed: people by name or email, never a hex id; times in the viewer's named zone.
    people = page.locator("#feed td.person a")
    expect(people.first).to_be_visible()
    for text in people.all_inner_texts()[:25]:
        assert not re.fullmatch(r"[0-9a-f]{8}", text), text
        assert text.strip()
    expect(page.locator("small.zone")).to_have_text("times in America/Sao_Paulo")
    expect(page.locator("#feed time[data-local]").first).to_be_visible()
    shoot(page, "overview-charts")
    # Another range redraws; a custom span shows its date fields.
    page.select_option("select[name=range]", "7d")
    page.wait_for_function(
        "() => window.journeylineCharts['chart-activity'].getOption().xAxis[0].data.length === 28"
        " || window.journeylineCharts['chart-activity'].getOption().xAxis[0].data.length === 29",
        timeout=TIMEOUT_MS,
    )
    page.select_option("select[name=range]", "custom")
    expect(page.locator("input[name=since]")).to_be_visible()
    expect(page.locator("[data-range-error]")).to_have_text("Choose the first and the last day.")


def test_funnel_shows_the_stages_in_order_with_rates_and_breaks_down_by_campaign(
    signed_in: BrowserContext, demo: Server, console: Console
) -> None:
    page = open_page(signed_in, console, demo.base_url + "/app/funnel")
    expect(page).to_have_title("Funnel · journeyline")
    series = series_of(page, "chart-funnel")
    everyone = next(s for s in series if s["name"] == "everyone")
    reached = [int(v) for v in everyone["data"]]
    assert reached[0] > 0
    assert reached == sorted(reached, reverse=True)  # a funnel narrows
    axis = page.evaluate("() => window.journeylineCharts['chart-funnel'].getOption().xAxis[0].data")
    assert axis == list(STAGES)
    headers = page.locator("#funnel-table thead th:not(.rate)").all_inner_texts()
    assert headers[1:] == list(STAGES)
    rates = page.locator("#funnel-table tbody tr").first.locator("td.rate").all_inner_texts()
    assert len(rates) == len(STAGES) - 1
    assert all(rate.endswith("%") or rate == "\u2013" for rate in rates)
    assert any(rate.endswith("%") for rate in rates)
    page.select_option("select[name=by]", "campaign")
    page.wait_for_function(
        "() => window.journeylineCharts['chart-funnel'].getOption().series.length > 1",
        timeout=TIMEOUT_MS,
    )
    assert page.locator("#funnel-table tbody tr").count() > 1
    shoot(page, "funnel")


def test_intelligence_draws_the_flows_and_attribution_bars(
    signed_in: BrowserContext, demo: Server, console: Console
) -> None:
    page = open_page(signed_in, console, demo.base_url + "/app/intelligence")
    expect(page).to_have_title("Intelligence · journeyline")
    sankey = series_of(page, "chart-flows")[0]
    assert sankey["type"] == "sankey"
    assert sankey["links"] > 0
    names = [name for name in sankey["names"] if name]
    assert any(name.startswith("campaign:") for name in names)
    assert any(name.startswith("channel:") for name in names)
    stages = [name.removeprefix("stage:") for name in names if name.startswith("stage:")]
    assert stages == [stage for stage in STAGES if stage in stages]  # the funnel's order
    campaigns = series_of(page, "chart-attribution-campaigns")
    assert total(campaigns[0]["data"]) > 0
    assert total(series_of(page, "chart-attribution-channels")[0]["data"]) > 0
    # The old summary drawing (hex-labelled customers) is gone from the default view.
    assert page.locator("#graph-svg").count() == 0
    shoot(page, "intelligence-flows")


def test_a_customer_journey_is_found_by_a_search_and_drawn_in_time_order(
    signed_in: BrowserContext, demo: Server, console: Console
) -> None:
    # A person the live feed names (a name or an email): searched by part of it.
    page = open_page(signed_in, console, demo.base_url + "/app/overview")
    named = page.locator("#feed td.person a", has_not_text="anonymous visitor").first
    expect(named).to_be_visible()
    label = named.inner_text()
    page.goto(demo.base_url + "/app/intelligence")
    part = label.split()[0][:4].upper()
    page.fill("#journey-search input[name=q]", part)
    page.press("#journey-search input[name=q]", "Enter")
    found = page.locator("#journey-results button.customer", has_text=label).first
    expect(found).to_be_visible(timeout=TIMEOUT_MS)
    found.click()
    expect(page.locator("#journey-title")).to_contain_text(label, timeout=TIMEOUT_MS)
    graph = series_of(page, "chart-journey")[0]
    assert graph["type"] == "graph"
    assert graph["links"] > 0
    kinds = {name.split(":")[0] for name in graph["names"] if name}
    assert {"touch", "stage"} <= kinds
    rows = page.locator("#journey-steps tbody tr")
    expect(rows.first).to_be_visible()
    times = page.locator("#journey-steps tbody time").evaluate_all(
        "(nodes) => nodes.map((n) => n.getAttribute('datetime'))"
    )
    assert times == sorted(times)
    assert "awareness" in page.locator("#journey-steps tbody").inner_text() or (
        "conversion" in page.locator("#journey-steps tbody").inner_text()
    )
    shoot(page, "journey")
    # Nobody matches: a clear message, not an empty chart.
    page.fill("#journey-search input[name=q]", "zz-nobody-zz")
    page.press("#journey-search input[name=q]", "Enter")
    expect(page.locator("#journey-error")).to_contain_text("No customer")
