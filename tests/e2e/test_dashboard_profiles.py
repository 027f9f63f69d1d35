"""The Profiles screens in real headless Chromium against a live `journeyline serve` filled by
`journeyline demo`: a search by a phone written as a person writes it, the columns it shows,
paging with the search kept, and the profile page's event properties (opened with a click),
campaigns, CRM company and deals and stage — with no console errors. Screenshots land in
test-output/dashboard/ (profiles-search.png, profile-detail.png)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from bench.servers import Server
from playwright.sync_api import BrowserContext, expect

from journeyline.web.directory import PAGE_SIZE
from tests.e2e.test_dashboard import (
    Console,
    console,
    demo,
    open_page,
    post_event,
    shoot,
    signed_in,
)

__all__ = ["console", "demo", "signed_in"]  # the live demo server, its sign-in, console watch

pytestmark = pytest.mark.browser


def company_named(demo: Server, domain: str) -> str:
    response = httpx.get(
        demo.base_url + "/v1/crm/companies",
        headers={"Authorization": f"Bearer {demo.secret_key}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    [name] = [c["name"] for c in response.json()["data"] if c["domain"] == domain]
    return str(name)


@pytest.fixture(scope="module")
def zed(demo: Server) -> dict[str, Any]:
    """A customer of our own on top of the demo: a campaign visit, two purchases."""
    who = {"email": "zed.searchable@zedworks.io", "phone": "+14155550177"}
    made = post_event(demo, {"type": "identify", "properties": {"name": "Zed Searchable"}, **who})
    post_event(
        demo,
        {
            "type": "track",
            "action": "page",
            "properties": {
                "url": "https://shop.example.com/?utm_source=podcast",
                "utm_source": "podcast",
                "utm_medium": "audio",
                "utm_campaign": "zed-launch",
            },
            **who,
        },
    )
    for order_id, total in (("ZED-1", 40), ("ZED-2", 24)):
        post_event(
            demo,
            {
                "type": "track",
                "action": "purchase",
                "campaignId": "zed-launch",
                "properties": {"order_id": order_id, "total": total, "currency": "EUR"},
                **who,
            },
        )
    return made


def test_search_by_a_phone_as_people_write_it(
    signed_in: BrowserContext, demo: Server, console: Console, zed: dict[str, Any]
) -> None:
    page = open_page(signed_in, console, demo.base_url + "/app/profiles")
    page.fill("input[name=q]", "(415) 555-0177")
    page.press("input[name=q]", "Enter")
    rows = page.locator("table.profiles tbody tr")
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row).to_have_attribute("data-profile-id", zed["customer_id"])
    expect(row.locator("td.name")).to_have_text("Zed Searchable")
    expect(row.locator("td.company")).to_have_text(company_named(demo, "zedworks.io"))
    expect(row.locator("td.funnel-stage")).to_have_text("retention")  # bought twice
    expect(row.locator("td.value")).to_have_text("64.00 EUR")
    expect(page.locator("input[name=q]")).to_have_value("(415) 555-0177")
    shoot(page, "profiles-search")
    # The same person by a fragment of the email, in capitals, and by part of the name.
    for query in ("ZED.SEARCHABLE@ZEDWORKS", "zed searcha", "4155550177"):
        page.fill("input[name=q]", query)
        page.press("input[name=q]", "Enter")
        expect(page.locator(f'tr[data-profile-id="{zed["customer_id"]}"]')).to_be_visible()


def test_paging_keeps_the_search(signed_in: BrowserContext, demo: Server, console: Console) -> None:
    response = httpx.post(
        demo.base_url + "/v1/events",
        json={
            "events": [
                {"type": "identify", "email": f"walker{n:02d}@paging.io", "properties": {"n": n}}
                for n in range(PAGE_SIZE + 3)
            ]
        },
        headers={"Authorization": f"Bearer {demo.secret_key}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    page = open_page(signed_in, console, demo.base_url + "/app/profiles?q=PAGING.IO")
    rows = page.locator("table.profiles tbody tr")
    expect(rows).to_have_count(PAGE_SIZE)
    first = rows.first.get_attribute("data-profile-id")
    expect(page.locator("#page-previous")).to_have_count(0)
    page.click("#page-next")
    expect(rows).to_have_count(3)
    expect(page.locator("input[name=q]")).to_have_value("PAGING.IO")
    expect(page.locator("table.profiles")).to_contain_text("@paging.io")
    expect(page.locator("#page-next")).to_have_count(0)
    page.click("#page-previous")
    expect(rows).to_have_count(PAGE_SIZE)
    expect(rows.first).to_have_attribute("data-profile-id", str(first))
    # Unfiltered, the demo's profiles page too.
    page.goto(demo.base_url + "/app/profiles")
    expect(rows).to_have_count(PAGE_SIZE)
    page.click("#page-next")
    expect(rows.first).to_be_visible()


def test_the_profile_page_opens_an_events_properties(
    signed_in: BrowserContext, demo: Server, console: Console, zed: dict[str, Any]
) -> None:
    page = open_page(signed_in, console, f"{demo.base_url}/app/profiles/{zed['customer_id']}")
    expect(page.locator("#profile-stage")).to_have_text("retention")
    expect(page.locator("#profile-company")).to_have_text(company_named(demo, "zedworks.io"))
    expect(page.locator("#profile-value")).to_contain_text("64.00 EUR")
    campaigns = page.locator("table.campaigns")
    expect(campaigns).to_contain_text("zed-launch")
    expect(campaigns).to_contain_text("podcast")
    deals = page.locator("table.deals")
    expect(deals).to_contain_text("won")
    expect(deals).to_contain_text("40.00 EUR")
    purchase = page.locator("table.timeline tbody tr", has_text="purchase_completed").first
    details = purchase.locator("td.properties pre")
    expect(details).to_be_hidden()
    purchase.locator("td.properties summary").click()
    expect(details).to_be_visible()
    expect(details).to_contain_text('"order_id": "ZED-')
    shoot(page, "profile-detail")
