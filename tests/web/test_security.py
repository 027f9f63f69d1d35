"""The dashboard against a hostile web (issue 15, rows 9, 11 and 12): sign-out ends the session
server-side, the sign-in form is CSRF-checked, tokens are compared in constant time, form
bodies are bounded before they are read, and the security headers (without touching the public
routes other sites embed)."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from journeyline.tenancy import sessions
from tests.conftest import TenantKeys
from tests.web.test_pages import csrf_of, sign_in_token, signed_in

FORM = {"content-type": "application/x-www-form-urlencoded"}
MEGABYTE = b"a" * (1024 * 1024)


@pytest.fixture
async def browser(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


# --- sessions ----------------------------------------------------------------------------------


async def test_a_cookie_replayed_after_sign_out_is_no_session(
    browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await signed_in(browser, tenant)
    cookie = browser.cookies[sessions.COOKIE]
    page = await browser.get("/app/overview")
    out = await browser.post("/app/sign-out", data={"csrf": csrf_of(page.text)})
    assert out.status_code == 303
    browser.cookies.set(sessions.COOKIE, cookie)
    again = await browser.get("/app/overview")
    assert again.status_code == 303
    assert again.headers["location"] == "/app/sign-in"
    graph = await browser.get("/app/intelligence/graph.json")
    assert graph.status_code == 401


async def test_signing_out_ends_that_session_only(
    app: Any, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        await signed_in(other, tenant)
        await signed_in(browser, tenant)
        assert browser.cookies[sessions.COOKIE] != other.cookies[sessions.COOKIE]
        page = await browser.get("/app/overview")
        await browser.post("/app/sign-out", data={"csrf": csrf_of(page.text)})
        assert (await other.get("/app/overview")).status_code == 200


# --- login CSRF --------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "forged"])
async def test_a_sign_in_without_the_forms_token_is_refused(
    browser: httpx.AsyncClient, tenant: TenantKeys, token: str | None
) -> None:
    """Another site's form cannot sign a visitor in (to the attacker's own tenant, say)."""
    await sign_in_token(browser)  # the visitor has a nonce cookie; the attacker's form no token
    form = {"key": tenant.secret_key} | ({} if token is None else {"csrf": token})
    response = await browser.post("/app/sign-in", data=form)
    assert response.status_code == 403
    assert sessions.COOKIE not in response.headers.get("set-cookie", "")
    assert csrf_of(response.text), "the page offers a fresh form"


async def test_a_sign_in_token_needs_its_own_nonce_cookie(
    app: Any, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    token = await sign_in_token(browser)  # the attacker's own token, from their own visit
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as victim:
        await sign_in_token(victim)  # a nonce of the victim's own
        response = await victim.post("/app/sign-in", data={"key": tenant.secret_key, "csrf": token})
        assert response.status_code == 403
        without_cookie = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        async with without_cookie:
            bare = await without_cookie.post(
                "/app/sign-in", data={"key": tenant.secret_key, "csrf": token}
            )
        assert bare.status_code == 403


async def test_form_tokens_are_compared_in_constant_time(
    browser: httpx.AsyncClient, tenant: TenantKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    original = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return original(a, b)

    await signed_in(browser, tenant)
    page = await browser.get("/app/overview")
    monkeypatch.setattr(hmac, "compare_digest", spy)
    out = await browser.post("/app/sign-out", data={"csrf": csrf_of(page.text)})
    assert out.status_code == 303
    assert (csrf_of(page.text).encode(), csrf_of(page.text).encode()) in compared


# --- bounded form bodies -----------------------------------------------------------------------


class Chunks:
    """A body of `count` one-megabyte chunks made as they are read (one buffer, reused)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.read = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            self.read += 1
            yield MEGABYTE


async def test_a_huge_declared_sign_in_body_is_refused_before_it_is_read(
    browser: httpx.AsyncClient,
) -> None:
    body = Chunks(400)
    headers = {**FORM, "content-length": str(400 * len(MEGABYTE))}
    response = await browser.post("/app/sign-in", content=body, headers=headers)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert body.read <= 1, f"{body.read} MB were read of a body refused by its declared length"


async def test_a_huge_chunked_sign_in_body_is_cut_off_at_the_limit(
    browser: httpx.AsyncClient,
) -> None:
    body = Chunks(400)
    response = await browser.post("/app/sign-in", content=body, headers=FORM)
    assert "content-length" not in response.request.headers  # streamed, no declared length
    assert response.status_code == 413
    assert body.read <= 2, f"{body.read} MB were read before the body was refused"


async def test_an_oversized_form_is_413_on_every_dashboard_form(
    browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await signed_in(browser, tenant)
    page = await browser.get("/app/overview")
    oversized = f"csrf={csrf_of(page.text)}&pad=".encode() + b"a" * 10_000
    for path in (
        "/app/sign-in",
        "/app/sign-out",
        "/app/profiles/00000000-0000-0000-0000-000000000000/unmerge",
        "/app/webhooks/deliveries/00000000-0000-0000-0000-000000000000/replay",
        "/app/settings/keys",
        "/app/settings/keys/00000000-0000-0000-0000-000000000000/revoke",
    ):
        response = await browser.post(path, content=oversized, headers=FORM)
        assert response.status_code == 413, path
    assert (await browser.get("/app/overview")).status_code == 200, "still signed in"


# --- security headers --------------------------------------------------------------------------


async def test_dashboard_pages_carry_the_security_headers(
    browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    visitor = await browser.get("/app/sign-in")
    await signed_in(browser, tenant)
    for response in (
        visitor,
        await browser.get("/app/overview"),
        await browser.get("/app/intelligence/graph.json"),
        await browser.get("/app/static/app.js"),
    ):
        headers = response.headers
        assert response.status_code == 200, response.url
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
    overview = await browser.get("/app/overview")
    assert overview.headers["cache-control"] == "no-store"


async def test_the_public_routes_stay_embeddable(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    """The tracker script loads on any site and ingest keeps its CORS: no frame or CSP header
    that could get in the way, only nosniff (the script names its JavaScript type)."""
    site = {"origin": "https://shop.example"}
    script = await client.get("/v1/js/tracker.js", headers=site)
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("application/javascript")
    assert script.headers["access-control-allow-origin"] == "*"
    assert script.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in script.headers
    assert "x-frame-options" not in script.headers
    preflight = await client.options(
        "/v1/events", headers={**site, "access-control-request-method": "POST"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    sent = await client.post(
        "/v1/events",
        json={"type": "track", "action": "page_view", "anonymousId": "a-1"},
        headers=tenant.public | site,
    )
    assert sent.status_code == 200, sent.text
    assert sent.headers["access-control-allow-origin"] == "*"
