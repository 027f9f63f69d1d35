"""The Profiles page and the profile page through HTTP: search by part of an email, a name or a
phone in any format the API accepts; the columns (company, stage, lifetime value); paging with
the search kept; another tenant's profiles never listed; hostile query strings never a 5xx;
an event's properties, campaigns, CRM deals and stage on the profile page; unmerge confirmed
first."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from journeyline.cursors import encode_cursor
from journeyline.web.directory import PAGE_SIZE
from tests.conftest import TenantKeys
from tests.web.test_pages import csrf_of, send, signed_in

ROW = re.compile(r'<tr data-profile-id="([0-9a-f-]{36})"')
NEXT = re.compile(r'id="page-next" href="([^"]+)"')
PREVIOUS = re.compile(r'id="page-previous" href="([^"]+)"')


@pytest.fixture
async def browser(app: Any) -> Any:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def listed(html: str) -> list[str]:
    """The profile ids the page lists, in order."""
    return ROW.findall(html)


async def search(browser: httpx.AsyncClient, query: str) -> list[str]:
    response = await browser.get("/app/profiles", params={"q": query})
    assert response.status_code == 200, response.text[:300]
    return listed(response.text)


async def send_all(
    client: httpx.AsyncClient, tenant: TenantKeys, events: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    response = await client.post("/v1/events", json={"events": events}, headers=tenant.secret)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    assert all(result["event_id"] and not result["duplicate"] for result in results), results
    return results


async def test_search_by_part_of_an_email_a_name_or_a_phone_in_any_format(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    jane = await send(
        client,
        tenant,
        type="identify",
        email="jane.doe@example.org",
        phone="+14155550100",
        properties={"name": "Jane Doe"},
    )
    bob = await send(
        client,
        tenant,
        type="identify",
        email="bob@other.io",
        phone="(415) 555-0199",
        externalId="crm-BOB-7",
        properties={"name": "Bob Stone"},
    )
    await signed_in(browser, tenant)
    j, b = jane["customer_id"], bob["customer_id"]
    expected = {
        "JANE.DOE@Example": [j],  # an email's fragment, any case
        "doe@exa": [j],
        "@other.io": [b],
        "+1 (415) 555-0100": [j],  # a whole phone, as the API accepts it
        "4155550100": [j],
        "(415) 555-0199": [b],
        "555-0100": [j],  # a fragment of one, formatted or not
        "5550199": [b],
        "415 555": [b, j],
        "jane do": [j],  # a name's fragment, any case
        "STONE": [b],
        "crm-bob": [b],  # an external id's fragment
        j: [j],  # a profile id
        "nobody": [],
    }
    for query, ids in expected.items():
        assert sorted(await search(browser, query)) == sorted(ids), query
    missing = await browser.get("/app/profiles", params={"q": "nobody"})
    assert 'id="no-results"' in missing.text


async def test_a_merged_profiles_id_finds_the_survivor(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    kept = await send(client, tenant, type="identify", email="kept@merge.io")
    gone = await send(client, tenant, type="identify", email="gone@merge.io")
    merged = await client.post(
        f"/v1/profiles/{kept['customer_id']}/merge",
        json={"profile_id": gone["customer_id"]},
        headers=tenant.secret,
    )
    assert merged.status_code == 200, merged.text
    await signed_in(browser, tenant)
    assert await search(browser, gone["customer_id"]) == [kept["customer_id"]]
    assert await search(browser, "gone@merge") == [kept["customer_id"]]


async def test_the_columns_name_company_stage_and_lifetime_value(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    buyer = {"email": "ada@acme.io"}
    await send(client, tenant, type="identify", properties={"name": "Ada Buyer"}, **buyer)
    for order_id, total in (("LV-1", 12), ("LV-2", 30.5)):
        await send(
            client,
            tenant,
            type="track",
            action="purchase",
            properties={"order_id": order_id, "total": total, "currency": "EUR"},
            **buyer,
        )
    await send(
        client,
        tenant,
        type="track",
        action="purchase",
        properties={"order_id": "LV-3", "total": 5, "currency": "USD"},
        **buyer,
    )
    await send(client, tenant, type="track", action="page", anonymousId="only-a-visitor")
    companies = await client.get("/v1/crm/companies", headers=tenant.secret)
    [company] = companies.json()["data"]
    await signed_in(browser, tenant)
    html = (await browser.get("/app/profiles", params={"q": "ada@acme"})).text
    row = html.split('<tr data-profile-id="')[1].split("</tr>")[0]
    assert "Ada Buyer" in row
    assert f'<td class="company">{company["name"]}</td>' in row
    assert '<span class="stage-badge retention">retention</span>' in row  # bought again: retention
    assert "42.50 EUR" in row
    assert "5.00 USD" in row
    # A visitor with no name, company, stage or order: an anonymous visitor, empty cells.
    everyone = (await browser.get("/app/profiles")).text
    assert "anonymous visitor" in everyone
    headers = re.findall(r"<th[^>]*>([^<]+)</th>", everyone.split("<tbody>")[0])
    assert headers[:4] == ["name", "company", "stage", "lifetime value"]


async def test_paging_keeps_the_search_and_walks_back(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    total = PAGE_SIZE + 5
    made = await send_all(
        client,
        tenant,
        [
            {"type": "identify", "email": f"pager{n:02d}@paging.io", "properties": {"n": n}}
            for n in range(total)
        ]
        + [{"type": "identify", "email": "outsider@elsewhere.io"}],
    )
    pagers = {result["customer_id"] for result in made[:total]}
    await signed_in(browser, tenant)
    first = await browser.get("/app/profiles", params={"q": "PAGER"})
    first_ids = listed(first.text)
    assert len(first_ids) == PAGE_SIZE
    assert PREVIOUS.search(first.text) is None
    link = NEXT.search(first.text)
    assert link is not None
    following = link.group(1).replace("&amp;", "&")
    assert "q=PAGER" in following  # the search is kept
    second = await browser.get(following)
    second_ids = listed(second.text)
    assert len(second_ids) == total - PAGE_SIZE
    assert NEXT.search(second.text) is None
    assert set(first_ids) | set(second_ids) == pagers
    assert not set(first_ids) & set(second_ids)
    back = PREVIOUS.search(second.text)
    assert back is not None
    assert "q=PAGER" in back.group(1)
    again = await browser.get(back.group(1).replace("&amp;", "&"))
    assert listed(again.text) == first_ids
    # Unfiltered, the outsider is listed too (newest seen first).
    everyone = listed((await browser.get("/app/profiles")).text)
    assert made[-1]["customer_id"] in everyone


async def test_another_tenants_profiles_never_appear(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    tenant: TenantKeys,
    other_tenant: TenantKeys,
) -> None:
    ours = await send(client, tenant, type="identify", email="shared@iso.io", phone="+14155550142")
    theirs = await send(
        client,
        other_tenant,
        type="identify",
        email="shared@iso.io",
        phone="+14155550142",
        properties={"name": "Theirs"},
    )
    await send(client, other_tenant, type="identify", email="only-theirs@iso.io")
    await signed_in(browser, tenant)
    for query in ("shared@iso", "iso.io", "4155550142", "Theirs", theirs["customer_id"], ""):
        found = await search(browser, query)
        assert theirs["customer_id"] not in found, query
    assert await search(browser, "iso.io") == [ours["customer_id"]]
    page = await browser.get("/app/profiles")
    assert "only-theirs@iso.io" not in page.text
    # A cursor from before everything pages through ours only.
    token = encode_cursor(datetime.now(UTC) + timedelta(days=1), uuid.UUID(theirs["customer_id"]))
    paged = await browser.get("/app/profiles", params={"after": token})
    assert ours["customer_id"] in listed(paged.text)
    assert theirs["customer_id"] not in listed(paged.text)
    unmerge = await browser.get(
        f"/app/profiles/{theirs['customer_id']}/unmerge",
        params={"merged": ours["customer_id"]},
    )
    assert unmerge.status_code == 404
    assert (await browser.get(f"/app/profiles/{theirs['customer_id']}")).status_code == 404


def _token(raw: str) -> str:
    """A cursor-shaped token around `raw` (what a hand-edited link could carry)."""
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# (query string, is every profile listed: only when nothing is left to search; None: either)
HOSTILE: list[tuple[str, bool | None]] = [
    ("q=%00", True),
    ("q=%00%01%1F", True),
    ("q=a%00b", False),
    ("q=%ED%A0%80", None),  # a lone surrogate (how the server decodes it is its own)
    ("q=%F0%9F%98%80", False),
    ("q=" + "x" * 20_000, False),
    ("q=" + "%25" * 3_000, False),
    ("q=%25", False),
    ("q=_", False),
    ("q=%5C", False),
    ("q=%5C%25", False),
    ("q=1e309", False),
    ("q=" + "9" * 400, False),
    ("q=%2B%2B%2B%2B", False),
    ("q=a&q=b", None),
    ("after=%00", None),
    ("after=not-a-cursor", None),
    ("before=%ED%A0%80", None),
    ("after=" + "A" * 5_000, None),
    ("q=x&after=" + _token("0001-01-01T00:00:00+14:00|0190a0e4-7f3c-7d2a-9b1e-3c4d5e6f7a8b"), None),
    ("before=" + _token("9999-12-31T23:59:59-99:99|x"), None),
    ("after=" + _token("2026-01-01T00:00:00+00:00|%00"), None),
    ("after=x&before=y", None),
]


@pytest.mark.parametrize(("query", "everyone"), HOSTILE, ids=[q[:24] for q, _ in HOSTILE])
async def test_hostile_query_strings_are_never_a_5xx(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    tenant: TenantKeys,
    query: str,
    everyone: bool | None,
) -> None:
    await send(client, tenant, type="identify", email="calm@hostile.io")
    await signed_in(browser, tenant)
    response = await browser.get(f"/app/profiles?{query}")
    assert response.status_code in (200, 400), (query[:40], response.text[:300])
    assert response.headers["content-type"].startswith("text/html")
    if response.status_code == 400:
        assert 'id="page-error"' in response.text
        assert "after=" in query or "before=" in query  # only a page link is refused
    elif everyone is not None:
        # Garbage never widens a search: the profile is listed only when nothing is searched.
        assert ("calm@hostile.io" in response.text) is everyone, query[:40]


async def test_like_wildcards_are_matched_literally(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    soap = await send(
        client, tenant, type="identify", email="soap@wild.io", properties={"name": "100% Pure_Soap"}
    )
    await send(client, tenant, type="identify", email="plain@wild.io", properties={"name": "Plain"})
    await send(client, tenant, type="identify", email="under_score@wild.io")
    await signed_in(browser, tenant)
    assert await search(browser, "%") == [soap["customer_id"]]
    assert await search(browser, "0% P") == [soap["customer_id"]]
    assert len(await search(browser, "_")) == 2  # the soap's name, and the underscored email
    assert await search(browser, "p%n") == []
    assert await search(browser, "pl_in") == []
    assert await search(browser, "\\") == []


async def test_the_profile_page_shows_properties_campaigns_crm_and_stage(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    who = {"email": "cleo@globex.io"}
    made = await send(client, tenant, type="identify", properties={"name": "Cleo"}, **who)
    await send(
        client,
        tenant,
        type="track",
        action="page",
        properties={
            "url": "https://shop.io/?utm_source=newsletter",
            "utm_source": "newsletter",
            "utm_medium": "email",
            "utm_campaign": "spring-sale",
        },
        **who,
    )
    await send(
        client,
        tenant,
        type="track",
        action="purchase",
        campaignId="spring-sale",
        properties={"order_id": "PP-1", "total": 99, "currency": "EUR", "gift": "<b>wrap</b>"},
        **who,
    )
    await signed_in(browser, tenant)
    page = await browser.get(f"/app/profiles/{made['customer_id']}")
    assert page.status_code == 200
    html = page.text
    # Each event's properties, behind a disclosure (escaped: no markup of the payload's own).
    assert "<details><summary>" in html
    assert '"order_id": "PP-1"' in html
    assert "<b>wrap</b>" not in html
    assert "\\u003cb\\u003ewrap" in html
    # The touchpoints' campaign, channel and UTM source.
    campaigns = html.split('<table class="campaigns">')[1].split("</table>")[0]
    assert "spring-sale" in campaigns
    assert "newsletter" in campaigns
    assert "email" in campaigns
    # The CRM company and the deal; the stage.
    companies = (await client.get("/v1/crm/companies", headers=tenant.secret)).json()["data"]
    assert companies[0]["name"] in html.split('id="profile-company">')[1]
    deals = html.split('<table class="deals">')[1].split("</table>")[0]
    assert "won" in deals
    assert "99.00 EUR" in deals
    assert 'id="profile-stage"><span class="stage-badge conversion">conversion</span>' in html
    assert "99.00 EUR" in html.split('id="profile-value">')[1].split("</dd>")[0]


async def test_unmerge_is_confirmed_first_and_still_csrf_checked(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    kept = await send(client, tenant, type="identify", email="keep@confirm.io")
    gone = await send(client, tenant, type="identify", email="split@confirm.io")
    merged = await client.post(
        f"/v1/profiles/{kept['customer_id']}/merge",
        json={"profile_id": gone["customer_id"]},
        headers=tenant.secret,
    )
    assert merged.status_code == 200, merged.text
    await signed_in(browser, tenant)
    profile = (await browser.get(f"/app/profiles/{kept['customer_id']}")).text
    assert f'action="/app/profiles/{kept["customer_id"]}/unmerge"' in profile
    assert 'method="get"' in profile.split("merges")[1]  # the button only asks
    confirm = await browser.get(
        f"/app/profiles/{kept['customer_id']}/unmerge", params={"merged": gone["customer_id"]}
    )
    assert confirm.status_code == 200
    assert "email: split@confirm.io" in confirm.text  # what goes back
    assert 'class="confirm-unmerge"' in confirm.text
    # Asking changed nothing.
    still = await client.get(f"/v1/profiles/{gone['customer_id']}", headers=tenant.secret)
    assert still.json()["id"] == kept["customer_id"]
    target = f"/app/profiles/{kept['customer_id']}/unmerge"
    forged = await browser.post(target, data={"profile_id": gone["customer_id"], "csrf": "x"})
    assert forged.status_code == 403
    done = await browser.post(
        target, data={"profile_id": gone["customer_id"], "csrf": csrf_of(confirm.text)}
    )
    assert done.status_code == 303
    restored = await client.get(f"/v1/profiles/{gone['customer_id']}", headers=tenant.secret)
    assert restored.json()["id"] == gone["customer_id"]
    # Undone: no merge left to confirm.
    again = await browser.get(target, params={"merged": gone["customer_id"]})
    assert again.status_code == 404
    for merged_param in ("", "not-a-uuid", kept["customer_id"], "%00"):
        refused = await browser.get(target, params={"merged": merged_param})
        assert refused.status_code == 404, merged_param
