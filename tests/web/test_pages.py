"""The dashboard through HTTP: signing in and out, every page for a signed-in tenant (and only
its own data), forms guarded by CSRF, unmerge and replay from the pages, bad input."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest

from journeyline.demo.signing import stripe_signature
from tests.conftest import TenantKeys
from tests.webhooks.mutation import fixture_document

PAGES = [
    "/app/overview",
    "/app/profiles",
    "/app/intelligence",
    "/app/pipeline",
    "/app/webhooks",
    "/app/settings",
]
FRAGMENTS = ["/app/overview/counts", "/app/pipeline/board", "/app/intelligence/stats"]


async def sign_in_token(app_client: httpx.AsyncClient) -> str:
    """The sign-in form's CSRF token (the page also sets the nonce cookie it is bound to)."""
    page = await app_client.get("/app/sign-in")
    assert page.status_code == 200
    return csrf_of(page.text)


async def signed_in(app_client: httpx.AsyncClient, tenant: TenantKeys) -> httpx.AsyncClient:
    csrf = await sign_in_token(app_client)
    response = await app_client.post("/app/sign-in", data={"key": tenant.secret_key, "csrf": csrf})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/app/overview"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert tenant.secret_key not in cookie, "the cookie names the key by its hash only"
    return app_client


@pytest.fixture
async def browser(app: Any) -> Any:
    """A client of its own (its own cookie jar) on the session's app."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "the page carries a CSRF token"
    return found.group(1)


async def send(client: httpx.AsyncClient, tenant: TenantKeys, **event: Any) -> dict[str, Any]:
    response = await client.post("/v1/events", json=event, headers=tenant.secret)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["results"][0]
    return result


@pytest.mark.parametrize("path", ["/app", *PAGES, *FRAGMENTS, "/app/profiles/x"])
async def test_a_visitor_is_sent_to_sign_in(browser: httpx.AsyncClient, path: str) -> None:
    response = await browser.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == "/app/sign-in"


async def test_the_graph_data_needs_a_session(browser: httpx.AsyncClient) -> None:
    assert (await browser.get("/app/intelligence/graph.json")).status_code == 401


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"key": ""}, "Enter a secret key"),
        ({"key": "sk_nope"}, "not a secret key"),
        ({}, "Enter a secret key"),
    ],
)
async def test_sign_in_refuses_what_is_not_a_secret_key(
    browser: httpx.AsyncClient, body: dict[str, str], message: str
) -> None:
    response = await browser.post(
        "/app/sign-in", data={**body, "csrf": await sign_in_token(browser)}
    )
    assert response.status_code == 401
    assert message in response.text
    assert "set-cookie" not in response.headers


async def test_sign_in_refuses_a_public_key(browser: httpx.AsyncClient, tenant: TenantKeys) -> None:
    csrf = await sign_in_token(browser)
    response = await browser.post("/app/sign-in", data={"key": tenant.public_key, "csrf": csrf})
    assert response.status_code == 401
    assert "set-cookie" not in response.headers
    # It says what the key is and which one to use instead.
    assert "This is a public key (pk_…)" in response.text
    assert "sign in with a secret key (sk_…)" in response.text


async def test_sign_in_survives_malformed_forms(browser: httpx.AsyncClient) -> None:
    headers = {"content-type": "application/x-www-form-urlencoded"}
    csrf = await sign_in_token(browser)
    for body, status in (
        (b"\xff\xfe%%%", 403),  # unreadable: no token either
        (b"&&&==", 403),
        (f"csrf={csrf}&&&==".encode(), 401),
        (f"csrf={csrf}&key=%ZZ".encode(), 401),
    ):
        response = await browser.post("/app/sign-in", content=body, headers=headers)
        assert response.status_code == status, body[:20]
        assert "journeyline_session" not in response.headers.get("set-cookie", "")


async def test_a_forged_or_tampered_cookie_is_no_session(browser: httpx.AsyncClient) -> None:
    for value in ("garbage", "abc.123.def", "a" * 64 + ".1700000000.bad"):
        browser.cookies.set("journeyline_session", value)
        response = await browser.get("/app/overview")
        assert response.status_code == 303, value


async def test_every_page_renders_for_a_signed_in_tenant(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await send(client, tenant, type="identify", email="page@dash.io", properties={"name": "Pat"})
    await send(
        client,
        tenant,
        type="track",
        action="purchase",
        email="page@dash.io",
        campaignId="fall",
        properties={"order_id": "D-1", "total": 12, "currency": "EUR"},
    )
    await signed_in(browser, tenant)
    for path in [*PAGES, *FRAGMENTS, "/app/intelligence?mode=full&model=first_touch"]:
        response = await browser.get(path)
        assert response.status_code == 200, (path, response.text[:300])
    overview = (await browser.get("/app/overview")).text
    assert "purchase_completed" in overview
    assert 'id="live-status"' in overview
    pipeline = (await browser.get("/app/pipeline")).text
    assert "12.00 EUR" in pipeline
    graph = (await browser.get("/app/intelligence/graph.json?mode=full")).json()
    assert {"Customer", "Touchpoint", "Campaign", "Stage"} <= {n["type"] for n in graph["nodes"]}


async def test_search_finds_a_profile_by_email_phone_and_id(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    made = await send(client, tenant, type="identify", email="find@dash.io", phone="+14155550123")
    await signed_in(browser, tenant)
    for query in ("find@dash.io", "+14155550123", made["customer_id"]):
        response = await browser.get("/app/profiles", params={"q": query})
        assert response.status_code == 200
        assert f"/app/profiles/{made['customer_id']}" in response.text.split("Recently seen")[0]
    missing = await browser.get("/app/profiles", params={"q": "nobody@dash.io"})
    assert 'id="no-results"' in missing.text
    profile = await browser.get(f"/app/profiles/{made['customer_id']}")
    assert "find@dash.io" in profile.text


async def test_a_tenant_sees_nothing_of_another(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    tenant: TenantKeys,
    other_tenant: TenantKeys,
) -> None:
    theirs = await send(client, other_tenant, type="identify", email="secret@other.io")
    await signed_in(browser, tenant)
    assert (await browser.get(f"/app/profiles/{theirs['customer_id']}")).status_code == 404
    found = await browser.get("/app/profiles", params={"q": "secret@other.io"})
    assert 'id="no-results"' in found.text
    for path in PAGES:
        assert "secret@other.io" not in (await browser.get(path)).text, path


async def test_unmerge_from_the_profile_page(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    kept = await send(client, tenant, type="identify", email="kept@dash.io")
    gone = await send(client, tenant, type="identify", email="gone@dash.io")
    merged = await client.post(
        f"/v1/profiles/{kept['customer_id']}/merge",
        json={"profile_id": gone["customer_id"]},
        headers=tenant.secret,
    )
    assert merged.status_code == 200, merged.text
    await signed_in(browser, tenant)
    page = await browser.get(f"/app/profiles/{kept['customer_id']}")
    assert "Unmerge" in page.text
    target = f"/app/profiles/{kept['customer_id']}/unmerge"
    forged = await browser.post(target, data={"profile_id": gone["customer_id"], "csrf": "x"})
    assert forged.status_code == 403
    done = await browser.post(
        target, data={"profile_id": gone["customer_id"], "csrf": csrf_of(page.text)}
    )
    assert done.status_code == 303
    restored = await client.get(f"/v1/profiles/{gone['customer_id']}", headers=tenant.secret)
    assert restored.json()["id"] == gone["customer_id"]
    bad = await browser.post(target, data={"profile_id": "not-a-uuid", "csrf": csrf_of(page.text)})
    assert bad.status_code == 404


async def test_replay_from_the_webhooks_page(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    made = await client.post(
        "/v1/connections",
        json={"provider": "stripe", "secret": "whsec_dash"},
        headers=tenant.secret,
    )
    body = fixture_document("stripe", "checkout.session.completed.json")
    raw = httpx.Request("POST", "/", json=body).content
    signature = stripe_signature("whsec_dash", raw, int(time.time()))
    sent = await client.post(
        made.json()["url"], content=raw, headers={"Stripe-Signature": signature}
    )
    assert sent.json()["status"] == "accepted"
    await signed_in(browser, tenant)
    page = await browser.get("/app/webhooks")
    assert "checkout.session.completed" in page.text
    delivery = re.search(r"/app/webhooks/deliveries/([0-9a-f-]+)/replay", page.text)
    assert delivery is not None
    replayed = await browser.post(delivery.group(0), data={"csrf": csrf_of(page.text)})
    assert replayed.status_code == 200
    assert "Replayed: duplicate." in replayed.text
    unknown = await browser.post(
        "/app/webhooks/deliveries/00000000-0000-0000-0000-000000000000/replay",
        data={"csrf": csrf_of(page.text)},
    )
    assert "Not replayed" in unknown.text


async def test_sign_out_needs_the_forms_token_and_ends_the_session(
    browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await signed_in(browser, tenant)
    page = await browser.get("/app/overview")
    assert (await browser.post("/app/sign-out", data={"csrf": "wrong"})).status_code == 403
    out = await browser.post("/app/sign-out", data={"csrf": csrf_of(page.text)})
    assert out.status_code == 303
    assert (await browser.get("/app/overview")).status_code == 303


async def test_webhooks_page_shows_the_full_url_a_copy_button_and_each_delivery_body(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    made = await client.post(
        "/v1/connections", json={"provider": "stripe", "secret": "whsec_x"}, headers=tenant.secret
    )
    sent = await client.post(made.json()["url"], content=b'{"not": "signed"}')
    assert sent.status_code in (400, 401)
    await signed_in(browser, tenant)
    page = await browser.get("/app/webhooks")
    full = f"{browser.base_url}{made.json()['url']}".replace("//webhooks", "/webhooks")
    assert f'data-copy="{full}"' in page.text
    assert "{&#34;not&#34;: &#34;signed&#34;}" in page.text
    assert "<title>Webhooks · journeyline</title>" in page.text


@pytest.mark.parametrize(
    ("path", "title"), [("/app/profiles", "Profiles"), ("/app/pipeline", "Pipeline")]
)
async def test_pages_have_a_title(
    browser: httpx.AsyncClient, tenant: TenantKeys, path: str, title: str
) -> None:
    await signed_in(browser, tenant)
    assert f"<title>{title} · journeyline</title>" in (await browser.get(path)).text
