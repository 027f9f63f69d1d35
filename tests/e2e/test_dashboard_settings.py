"""The dashboard's Settings page and the Webhooks page's copy button in real headless Chromium
against a live `journeyline serve`: a key created and shown once (copied to the clipboard),
listed by its prefix, revoked only once the confirmation is accepted and refused by the API at
once; each webhook connection's full inbound URL copied to the clipboard. No console errors.
Screenshots land in test-output/dashboard/ (or $JOURNEYLINE_TEST_OUTPUT/dashboard/)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from bench.servers import Server
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect

from tests.e2e.test_dashboard import Console, console, open_page, shoot

__all__ = ["console"]  # the console watch, a shared fixture

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def signed_in(browser: Browser, api: Server) -> Iterator[BrowserContext]:
    """Signed in, allowed to read and write the clipboard (the copy buttons' test reads it)."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = context.new_page()
    page.goto(api.base_url + "/app/sign-in")
    page.fill("input[name=key]", api.secret_key)
    page.click("button[type=submit]")
    page.wait_for_url("**/app/overview")
    page.close()
    yield context
    context.close()


def call(api: Server, method: str, path: str, key: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(
        method,
        api.base_url + path,
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
        **kwargs,
    )


def clipboard(page: Page) -> str:
    text: str = page.evaluate("() => navigator.clipboard.readText()")
    return text


def answer_dialogs(page: Page, accept: bool, asked: list[str]) -> None:
    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.once("dialog", answer)


def test_a_key_is_created_shown_once_copied_and_revoked_after_a_confirmation(
    signed_in: BrowserContext, api: Server, console: Console
) -> None:
    page = open_page(signed_in, console, api.base_url + "/app/overview")
    page.click("nav a[href='/app/settings']")
    page.wait_for_url("**/app/settings")
    expect(page).to_have_title("Settings · journeyline")
    rows = page.locator("table.keys tbody tr")
    expect(rows.first).to_be_visible()
    assert api.secret_key not in page.content()

    page.select_option("select[name=kind]", "secret")
    page.fill("input[name=name]", "nightly export")
    page.click("button.create")
    shown = page.locator("#new-key")
    expect(shown).to_have_text(re.compile(r"^sk_[A-Za-z0-9_-]{20,}$"))
    key = shown.inner_text()
    page.click(".new-key button.copy")
    expect(page.locator(".new-key button.copy")).to_have_text("Copied")
    assert clipboard(page) == key
    row = page.locator("table.keys tbody tr", has_text="nightly export")
    expect(row.locator("code.prefix")).to_have_text(key[:10] + "…")
    assert call(api, "GET", "/v1/keys", key).status_code == 200
    shoot(page, "settings-keys")

    page.goto(api.base_url + "/app/settings")
    assert key not in page.content(), "shown once"
    row = page.locator("table.keys tbody tr", has_text="nightly export")
    asked: list[str] = []
    answer_dialogs(page, False, asked)
    row.locator("button.revoke").click()
    expect(row.locator("td.state")).to_have_text("live")
    assert len(asked) == 1
    assert asked[0].startswith("Revoke the secret key " + key[:10])
    assert call(api, "GET", "/v1/keys", key).status_code == 200, "dismissed: not revoked"

    answer_dialogs(page, True, asked)
    row.locator("button.revoke").click()
    expect(page.locator("p.notice")).to_have_text(
        "Revoked the secret key. It is refused from now on."
    )
    revoked = page.locator("table.keys tbody tr", has_text="nightly export")
    expect(revoked.locator("td.state")).to_contain_text("revoked")
    assert call(api, "GET", "/v1/keys", key).status_code == 401
    shoot(page, "settings-keys-revoked")


def test_the_webhooks_copy_button_copies_the_full_inbound_url(
    signed_in: BrowserContext, api: Server, console: Console
) -> None:
    made = call(
        api,
        "POST",
        "/v1/connections",
        api.secret_key,
        json={"provider": "stripe", "secret": "whsec_copy"},
    )
    assert made.status_code == 201, made.text
    page = open_page(signed_in, console, api.base_url + "/app/settings")
    page.click("a.connections-link")
    page.wait_for_url("**/app/webhooks")
    connection = page.locator("table.connections tbody tr", has_text=made.json()["id"])
    shown = connection.locator("code.inbound-url").inner_text()
    assert shown == api.base_url + made.json()["url"]
    connection.locator("button.copy").click()
    expect(connection.locator("button.copy")).to_have_text("Copied")
    assert clipboard(page) == shown


def test_revoking_the_key_one_signed_in_with_signs_out_and_says_why(
    browser: Browser, api: Server, console: Console
) -> None:
    spare = call(api, "POST", "/v1/keys", api.secret_key, json={"name": "rotated away"})
    assert spare.status_code == 201, spare.text
    context = browser.new_context()
    page = console.watch(context.new_page())
    page.goto(api.base_url + "/app/sign-in")
    page.fill("input[name=key]", spare.json()["secret_key"])
    page.click("button[type=submit]")
    page.wait_for_url("**/app/overview")
    page.goto(api.base_url + "/app/settings")
    own = page.locator("table.keys tbody tr", has_text="this session's key")
    expect(own).to_contain_text("rotated away")
    asked: list[str] = []
    answer_dialogs(page, True, asked)
    own.locator("button.revoke").click()
    page.wait_for_url("**/app/sign-in?ended=key-revoked")
    expect(page.locator(".error")).to_contain_text(
        "The key this session signed in with was revoked"
    )
    assert "you will be signed out" in asked[0]
    page.goto(api.base_url + "/app/settings")
    page.wait_for_url("**/app/sign-in")
    assert call(api, "GET", "/v1/keys", spare.json()["secret_key"]).status_code == 401
    context.close()
