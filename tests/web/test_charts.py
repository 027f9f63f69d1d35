"""The dashboard's chart JSON (/app/charts/*) through HTTP on both lanes: the grouped activity,
funnel, flows, attribution, customer search and journey reads count what was sent, show
nothing of another tenant, keep the funnel's stage order, and answer bad parameters with a 422
(or 404) in the API's error shape, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from journeyline.graph.stages import STAGES
from tests.conftest import TenantKeys
from tests.web.test_pages import browser, send, signed_in

__all__ = ["browser"]  # the signed-out client fixture, shared with the pages tests

NOW = datetime.now(UTC).replace(microsecond=0)


def at(hours_ago: float) -> str:
    return (NOW - timedelta(hours=hours_ago)).isoformat()


async def shop(client: httpx.AsyncClient, tenant: TenantKeys, email: str, name: str) -> str:
    """A customer who comes from a campaign by email, signs up and buys: four events."""
    made = await send(
        client,
        tenant,
        type="track",
        action="page_viewed",
        email=email,
        campaignId="spring",
        channel="email",
        timestamp=at(30),
    )
    await send(
        client, tenant, type="identify", email=email, properties={"name": name}, timestamp=at(29)
    )
    await send(
        client,
        tenant,
        type="track",
        action="purchase",
        email=email,
        campaignId="spring",
        channel="email",
        properties={"order_id": f"O-{email}", "total": 40, "currency": "EUR"},
        timestamp=at(28),
    )
    customer: str = made["customer_id"]
    return customer


async def get(browser: httpx.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    response = await browser.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_activity_counts_events_and_people_per_bucket_by_source_and_type(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await shop(client, tenant, "ann@charts.io", "Ann")
    await shop(client, tenant, "bob@charts.io", "Bob")
    await signed_in(browser, tenant)
    body = await get(browser, "/app/charts/activity.json", range="7d", offset="120")
    assert body["bucket_seconds"] == 6 * 3600
    assert body["offset_minutes"] == 120
    assert len(body["buckets"]) == len(body["events"]) == len(body["people"])
    assert sum(body["events"]) == 6
    assert max(body["people"]) == 2
    assert sum(sum(series) for series in body["by_source"].values()) == 6
    types = {key: sum(series) for key, series in body["by_type"].items()}
    assert types["purchase_completed"] == 2
    assert types["identified"] == 2
    # Out of the 24 hours, the same tenant's day-old events are not counted.
    recent = await get(browser, "/app/charts/activity.json", range="24h")
    assert sum(recent["events"]) == 0
    assert len(recent["buckets"]) in (24, 25)


async def test_a_custom_range_counts_its_days_in_the_viewers_zone(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await shop(client, tenant, "cid@charts.io", "Cid")
    await signed_in(browser, tenant)
    first = (NOW - timedelta(days=3)).date().isoformat()
    last = NOW.date().isoformat()
    body = await get(browser, "/app/charts/activity.json", range="custom", since=first, until=last)
    assert body["bucket_seconds"] == 6 * 3600
    assert len(body["buckets"]) == 4 * 4
    assert sum(body["events"]) == 3
    before = (NOW - timedelta(days=9)).date().isoformat()
    old = await get(
        browser, "/app/charts/activity.json", range="custom", since=before, until=before
    )
    assert sum(old["events"]) == 0


async def test_the_funnel_is_in_stage_order_with_rates_and_breakdowns(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await shop(client, tenant, "dee@charts.io", "Dee")
    await send(
        client, tenant, type="track", action="page_viewed", email="eve@charts.io", channel="social"
    )
    await signed_in(browser, tenant)
    body = await get(browser, "/app/charts/funnel.json", range="30d", by="campaign")
    assert body["stages"] == list(STAGES)
    reached = body["total"]["reached"]
    # Dee converted (so passed every earlier stage), Eve only viewed a page.
    assert reached == [2, 1, 1, 1, 0]
    assert body["total"]["rates"] == [0.5, 1.0, 1.0, 0.0]
    by_campaign = {row["key"]: row["reached"] for row in body["breakdown"]}
    assert by_campaign["spring"] == [1, 1, 1, 1, 0]
    assert by_campaign["(none)"] == [2, 1, 1, 1, 0]
    channels = await get(browser, "/app/charts/funnel.json", by="channel")
    assert {row["key"]: row["reached"][0] for row in channels["breakdown"]} == {
        "email": 1,
        "social": 1,
        "api": 1,  # the channel of events sent with none (graph/channels.py)
    }


async def test_flows_run_campaign_to_channel_to_stage_and_balance_at_channels(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await shop(client, tenant, "fay@charts.io", "Fay")
    await signed_in(browser, tenant)
    body = await get(browser, "/app/charts/flows.json")
    ids = [node["id"] for node in body["nodes"]]
    assert "campaign:spring" in ids
    assert "channel:email" in ids
    assert "stage:conversion" in ids
    links = {(link["source"], link["target"]): link["value"] for link in body["links"]}
    assert links[("campaign:spring", "channel:email")] == 1
    assert links[("channel:email", "stage:conversion")] == 1
    into = sum(v for (_, target), v in links.items() if target == "channel:email")
    out = sum(v for (source, _), v in links.items() if source == "channel:email")
    assert into == out


async def test_customer_search_and_journey_name_people_and_order_their_touchpoints(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    customer = await shop(client, tenant, "gus.partial@charts.io", "Gus Gray")
    await signed_in(browser, tenant)
    for query in ("gus gr", "PARTIAL@charts"):
        found = await get(browser, "/app/charts/customers.json", q=query)
        assert [c["customer_id"] for c in found["customers"]] == [customer], query
        assert found["customers"][0]["label"] == "Gus Gray"
    # A LIKE wildcard is matched literally.
    assert (await get(browser, "/app/charts/customers.json", q="%%"))["customers"] == []
    journey = await get(browser, "/app/charts/journey.json", customer=customer)
    assert journey["label"] == "Gus Gray"
    assert journey["stage"] == "conversion"
    steps = journey["steps"]
    assert [step["event_type"] for step in steps] == [
        "page_viewed",
        "identified",
        "purchase_completed",
    ]
    assert [step["stage"] for step in steps] == ["awareness", "interest", "conversion"]
    assert steps[0]["campaign"] == "spring"
    assert steps[0]["channel"] == "email"
    people = await get(browser, "/app/charts/people.json", id=customer)
    assert people["people"] == {customer: "Gus Gray"}


async def test_customer_search_matches_as_the_profiles_page_does(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    """The journey's search is the Profiles page's (web/lookup.py): a phone too, written as
    people write it."""
    made = await send(client, tenant, type="identify", email="ida@charts.io", phone="+14155550161")
    await signed_in(browser, tenant)
    for query in ("(415) 555-0161", "555 0161", "IDA@CHARTS"):
        found = await get(browser, "/app/charts/customers.json", q=query)
        assert [c["customer_id"] for c in found["customers"]] == [made["customer_id"]], query


async def test_attribution_json_reuses_the_graphs_attribution(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await shop(client, tenant, "hal@charts.io", "Hal")
    await signed_in(browser, tenant)
    body = await get(browser, "/app/charts/attribution.json", model="first_touch")
    assert body["conversions"] == 1
    assert {row["campaign_id"] for row in body["campaigns"]} == {"spring"}


async def test_another_tenants_data_never_shows(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    tenant: TenantKeys,
    other_tenant: TenantKeys,
) -> None:
    theirs = await shop(client, other_tenant, "ivy@other.io", "Ivy")
    await signed_in(browser, tenant)
    activity = await get(browser, "/app/charts/activity.json", range="7d")
    assert sum(activity["events"]) == 0
    assert activity["by_source"] == {}
    funnel = await get(browser, "/app/charts/funnel.json", by="campaign")
    assert funnel["total"]["reached"] == [0, 0, 0, 0, 0]
    assert funnel["breakdown"] == []
    assert (await get(browser, "/app/charts/flows.json"))["nodes"] == []
    assert (await get(browser, "/app/charts/customers.json", q="ivy"))["customers"] == []
    assert (await get(browser, "/app/charts/people.json", id=theirs))["people"] == {}
    journey = await browser.get("/app/charts/journey.json", params={"customer": theirs})
    assert journey.status_code == 404
    assert journey.json()["error"]["code"] == "profile_not_found"
    assert (await get(browser, "/app/charts/attribution.json"))["conversions"] == 0


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("activity", {"range": "1y"}, "range"),
        ("activity", {"range": "custom"}, "since"),
        ("activity", {"range": "custom", "since": "2026-02-30", "until": "2026-03-01"}, "since"),
        ("activity", {"range": "custom", "since": "2026-03-02", "until": "2026-03-01"}, "until"),
        ("activity", {"range": "custom", "since": "2020-01-01", "until": "2026-01-01"}, "until"),
        ("activity", {"range": "custom", "since": "0001-01-01", "until": "0001-01-02"}, "since"),
        ("activity", {"offset": "abc"}, "offset"),
        ("activity", {"offset": "100000"}, "offset"),
        ("funnel", {"by": "stage"}, "by"),
        ("flows", {"range": "forever"}, "range"),
        ("attribution", {"model": "nope"}, "model"),
        ("customers", {"q": "a"}, "q"),
        ("journey", {"customer": "not-a-uuid"}, "customer"),
        ("people", {"id": "zz"}, "id"),
    ],
)
async def test_bad_parameters_are_a_422_naming_the_field(
    browser: httpx.AsyncClient, tenant: TenantKeys, path: str, params: dict[str, str], field: str
) -> None:
    await signed_in(browser, tenant)
    response = await browser.get(f"/app/charts/{path}.json", params=params)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field
    assert error["message"]


@pytest.mark.parametrize(
    "path", ["activity", "funnel", "flows", "attribution", "customers", "journey", "people"]
)
async def test_the_chart_data_needs_a_session(browser: httpx.AsyncClient, path: str) -> None:
    response = await browser.get(f"/app/charts/{path}.json")
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "unauthorized"}}


async def test_the_chart_pages_render_with_titles_and_the_vendored_library(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await shop(client, tenant, "jo@charts.io", "Jo Jones")
    await signed_in(browser, tenant)
    for path, title in [
        ("/app/overview", "Overview"),
        ("/app/funnel", "Funnel"),
        ("/app/intelligence", "Intelligence"),
        ("/app/pipeline", "Pipeline"),
    ]:
        page = await browser.get(path)
        assert page.status_code == 200
        assert f"<title>{title} · journeyline</title>" in page.text
        assert '<script src="/app/static/echarts.min.js">' in page.text or path == "/app/pipeline"
    overview = (await browser.get("/app/overview")).text
    assert "Jo Jones" in overview  # the feed names the person
    library = await browser.get("/app/static/echarts.min.js")
    assert library.status_code == 200
    assert "echarts" in library.text[:2000].lower()


async def test_the_funnel_page_needs_a_session(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/app/funnel")
    assert response.status_code == 303
    assert response.headers["location"] == "/app/sign-in"
