"""The dashboard's Settings page (/app/settings) through HTTP on both lanes: the tenant's keys
listed without a key or its hash, a key of each kind created and shown once, revoked through
the API's own service (refused at the API at once: the key cache is evicted), the last secret
key refused with a 409, the session's own key ending the session, CSRF, another tenant's keys
out of reach, bad forms answered with a clear error."""

from __future__ import annotations

import re

import httpx
import pytest

from journeyline.config import Settings
from journeyline.tenancy.keys import hash_key
from journeyline.web.keys import BadKeyForm, KeyRequest, key_request
from tests.api.test_keys import another_process, bearer, key_id_of, keys_of
from tests.conftest import TenantKeys, make_tenant
from tests.web.test_pages import browser, csrf_of, signed_in

__all__ = ["browser"]  # the signed-out client fixture, shared with the pages tests

PAGE_VIEW = {"type": "track", "action": "page_view", "anonymousId": "settings-visitor"}
KEY = re.compile(r'<code id="new-key">((?:sk|pk)_[A-Za-z0-9_-]+)</code>')


@pytest.mark.parametrize(
    ("kind", "name", "wanted"),
    [
        ("secret", None, KeyRequest("secret", None)),
        ("public", "", KeyRequest("public", None)),
        (" secret ", "  checkout  ", KeyRequest("secret", "checkout")),
        ("secret", "x" * 200, KeyRequest("secret", "x" * 200)),
        ("secret", "caf\u00e9 \ufffd", KeyRequest("secret", "caf\u00e9 \ufffd")),
    ],
)
def test_a_create_form_asks_for_a_kind_and_an_optional_name(
    kind: str, name: str | None, wanted: KeyRequest
) -> None:
    assert key_request(kind, name) == wanted


@pytest.mark.parametrize(
    ("kind", "name", "message"),
    [
        (None, None, "Choose the key's kind"),
        ("admin", None, "Choose the key's kind"),
        ("Secret", None, "Choose the key's kind"),
        ("secret", "x" * 201, "at most 200 characters"),
        ("secret", "a\x00b", "printable characters only"),
        ("public", "line\nbreak", "printable characters only"),
    ],
)
def test_a_create_form_that_cannot_be_used_says_why(
    kind: str | None, name: str | None, message: str
) -> None:
    with pytest.raises(BadKeyForm, match=message):
        key_request(kind, name)


async def settings_page(browser: httpx.AsyncClient) -> httpx.Response:
    page = await browser.get("/app/settings")
    assert page.status_code == 200, page.text[:300]
    return page


async def create(browser: httpx.AsyncClient, **form: str) -> httpx.Response:
    csrf = csrf_of((await settings_page(browser)).text)
    return await browser.post("/app/settings/keys", data={"csrf": csrf, **form})


async def revoke(
    browser: httpx.AsyncClient, key_id: str, csrf: str | None = None
) -> httpx.Response:
    token = csrf if csrf is not None else csrf_of((await settings_page(browser)).text)
    return await browser.post(f"/app/settings/keys/{key_id}/revoke", data={"csrf": token})


def shown_key(response: httpx.Response) -> str:
    found = KEY.search(response.text)
    assert found is not None, "the new key is on the page"
    return found.group(1)


def row_of(html: str, key_id: str) -> str:
    found = re.search(rf'<tr data-key-id="{key_id}".*?</tr>', html, re.S)
    assert found is not None, f"key {key_id} is listed"
    return found.group(0)


async def test_a_visitor_is_sent_to_sign_in(browser: httpx.AsyncClient) -> None:
    for response in (
        await browser.get("/app/settings"),
        await browser.post("/app/settings/keys", data={"kind": "secret"}),
    ):
        assert response.status_code == 303
        assert response.headers["location"] == "/app/sign-in"


async def test_the_page_lists_every_key_by_kind_and_prefix_never_the_key(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    spare = await client.post("/v1/keys", json={"name": "nightly export"}, headers=tenant.secret)
    await client.delete(f"/v1/keys/{spare.json()['id']}", headers=tenant.secret)
    await signed_in(browser, tenant)
    page = await settings_page(browser)
    assert "<title>Settings · journeyline</title>" in page.text
    assert 'href="/app/settings" class="active"' in page.text
    assert tenant.secret_key not in page.text
    assert tenant.public_key not in page.text
    for key in await keys_of(client, tenant):
        row = row_of(page.text, key["id"])
        assert f"<td>{key['kind']}</td>" in row
        assert f'<code class="prefix">{key["prefix"]}…</code>' in row
        assert "key_hash" not in row
    revoked = row_of(page.text, spare.json()["id"])
    assert "nightly export" in revoked
    assert "revoked " in revoked
    assert "/revoke" not in revoked, "a revoked key has nothing left to revoke"
    own = row_of(page.text, await key_id_of(client, tenant, "secret"))
    assert "(this session's key)" in own
    assert 'data-confirm="Revoke the secret key' in own
    assert "you will be signed out" in own
    # The connections part of Settings is the Webhooks page.
    assert 'href="/app/webhooks"' in page.text


async def test_last_used_shows_the_keys_own_use(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    sent = await client.post("/v1/events", json=PAGE_VIEW, headers=tenant.public)
    assert sent.status_code == 200, sent.text
    await signed_in(browser, tenant)
    page = await settings_page(browser)
    public = row_of(page.text, await key_id_of(client, tenant, "public"))
    used = re.findall(r'<td class="when">([^<]*)</td>', public)
    assert len(used) == 2
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", used[1]), used


@pytest.mark.parametrize("kind", ["secret", "public"])
async def test_a_new_key_of_each_kind_is_shown_once_and_works(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys, kind: str
) -> None:
    await signed_in(browser, tenant)
    made = await create(browser, kind=kind, name="  storefront  ")
    assert made.status_code == 201, made.text[:300]
    key = shown_key(made)
    assert key.startswith("sk_" if kind == "secret" else "pk_")
    assert "it is not shown again" in made.text
    assert f'data-copy="{key}"' in made.text
    listed = [k for k in await keys_of(client, tenant) if k["name"] == "storefront"]
    assert [(k["kind"], k["revoked_at"]) for k in listed] == [(kind, None)]
    assert key.startswith(listed[0]["prefix"])
    assert key not in (await settings_page(browser)).text, "shown once"
    sent = await client.post("/v1/events", json=PAGE_VIEW, headers=bearer(key))
    assert sent.status_code == 200, sent.text
    reads = await client.get("/v1/keys", headers=bearer(key))
    assert reads.status_code == (200 if kind == "secret" else 403)


async def test_a_bad_create_form_is_a_clear_400_and_creates_nothing(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await signed_in(browser, tenant)
    before = len(await keys_of(client, tenant))
    for form, message in (
        ({"kind": "root"}, "Choose the key&#39;s kind: secret or public."),
        ({}, "Choose the key&#39;s kind"),
        ({"kind": "secret", "name": "x" * 201}, "at most 200 characters"),
        ({"kind": "secret", "name": "a\x00b"}, "printable characters only"),
    ):
        response = await create(browser, **form)
        assert response.status_code == 400, form
        assert message in response.text, form
        assert KEY.search(response.text) is None
    assert len(await keys_of(client, tenant)) == before


async def test_a_revoked_secret_key_is_refused_at_the_api_at_once(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    spare = (await client.post("/v1/keys", headers=tenant.secret)).json()
    assert (await client.get("/v1/keys", headers=bearer(spare["secret_key"]))).status_code == 200
    await signed_in(browser, tenant)
    revoked = await revoke(browser, spare["id"])
    assert revoked.status_code == 200, revoked.text[:300]
    assert "Revoked the secret key." in revoked.text
    assert "revoked " in row_of(revoked.text, spare["id"])
    assert (await client.get("/v1/keys", headers=bearer(spare["secret_key"]))).status_code == 401
    again = await revoke(browser, spare["id"])
    assert again.status_code == 200, "revoking a revoked key changes nothing"
    assert KEY.search(again.text) is None


async def test_revoking_the_public_key_shows_its_replacement_once(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await signed_in(browser, tenant)
    revoked = await revoke(browser, await key_id_of(client, tenant, "public"))
    assert revoked.status_code == 200, revoked.text[:300]
    replacement = shown_key(revoked)
    assert replacement.startswith("pk_")
    old = await client.post("/v1/events", json=PAGE_VIEW, headers=tenant.public)
    assert old.status_code == 401
    sent = await client.post("/v1/events", json=PAGE_VIEW, headers=bearer(replacement))
    assert sent.status_code == 200


async def test_the_last_secret_key_is_refused_with_the_apis_409(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await signed_in(browser, tenant)
    refused = await revoke(browser, await key_id_of(client, tenant, "secret"))
    assert refused.status_code == 409
    assert "last live secret key: create another before revoking it" in refused.text
    assert 'role="alert"' in refused.text
    assert (await client.get("/v1/keys", headers=tenant.secret)).status_code == 200
    assert (await browser.get("/app/overview")).status_code == 200, "still signed in"


async def test_revoking_the_sessions_own_key_signs_it_out(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    own = await key_id_of(client, tenant, "secret")
    spare = (await client.post("/v1/keys", headers=tenant.secret)).json()
    await signed_in(browser, tenant)
    ended = await revoke(browser, own)
    assert ended.status_code == 303
    assert ended.headers["location"] == "/app/sign-in?ended=key-revoked"
    assert 'journeyline_session=""' in ended.headers["set-cookie"]
    assert (await browser.get("/app/settings")).status_code == 303
    told = await browser.get(ended.headers["location"])
    assert "The key this session signed in with was revoked" in told.text
    assert (await client.get("/v1/keys", headers=tenant.secret)).status_code == 401
    assert (await client.get("/v1/keys", headers=bearer(spare["secret_key"]))).status_code == 200


async def test_forms_without_the_csrf_token_change_nothing(
    client: httpx.AsyncClient, browser: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    spare = (await client.post("/v1/keys", headers=tenant.secret)).json()
    await signed_in(browser, tenant)
    before = await keys_of(client, tenant)
    for csrf in ("", "forged"):
        made = await browser.post("/app/settings/keys", data={"csrf": csrf, "kind": "secret"})
        assert made.status_code == 403
        assert KEY.search(made.text) is None
        assert (await revoke(browser, spare["id"], csrf=csrf)).status_code == 403
    assert await keys_of(client, tenant) == before


async def test_another_tenants_keys_are_not_shown_and_cannot_be_revoked(
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    tenant: TenantKeys,
    other_tenant: TenantKeys,
) -> None:
    theirs = await keys_of(client, other_tenant)
    await signed_in(browser, tenant)
    page = await settings_page(browser)
    for key in theirs:
        assert key["id"] not in page.text
        assert key["prefix"] not in page.text
        response = await revoke(browser, key["id"])
        assert response.status_code == 404
        assert "No such key." in response.text
    assert [k["revoked_at"] for k in await keys_of(client, other_tenant)] == [None, None]
    for unknown in ("00000000-0000-0000-0000-000000000000", "not-a-uuid", "%00"):
        assert (await revoke(browser, unknown)).status_code == 404, unknown


async def test_a_key_revoked_on_the_dashboard_is_evicted_from_the_key_cache(
    settings: Settings,
) -> None:
    """With a key cache that never expires on its own (its clock stands still), the key still
    answers 401 right after the revocation: the dashboard evicted it, as the API's route does."""
    cached = settings.model_copy(update={"key_cache_seconds": 5.0})
    async with another_process(cached) as (http, state):
        state.keys.clock = lambda: 1000.0
        tenant = await make_tenant(http, "evicted")
        spare = (await http.post("/v1/keys", headers=tenant.secret)).json()
        assert (await http.get("/v1/keys", headers=bearer(spare["secret_key"]))).status_code == 200
        assert state.keys.get(hash_key(spare["secret_key"])) is not None, "cached"
        await signed_in(http, tenant)
        assert (await revoke(http, spare["id"])).status_code == 200
        assert state.keys.get(hash_key(spare["secret_key"])) is None
        assert (await http.get("/v1/keys", headers=bearer(spare["secret_key"]))).status_code == 401
