"""/docs in real Chromium with the network closed to every other host: Swagger UI renders the
operations from journeyline's own files, and its Authorize dialog offers each key kind; a key
given there is sent as its scheme says (issue 17)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from bench.servers import Server
from playwright.sync_api import Browser, Route

pytestmark = pytest.mark.browser


def test_docs_work_offline_with_an_authorize_button_for_each_key_kind(
    api: Server, browser: Browser
) -> None:
    context = browser.new_context()
    elsewhere: list[str] = []
    errors: list[str] = []
    own = urlsplit(api.base_url).netloc

    def offline(route: Route) -> None:
        # Anything not journeyline's is refused, as a machine without internet would.
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", offline)
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{api.base_url}/docs")
        page.wait_for_selector(".opblock-summary-path[data-path='/ingest']", timeout=30_000)
        page.click("button.authorize")
        dialog = page.wait_for_selector(".auth-container", timeout=10_000)
        assert dialog is not None
        text = page.inner_text(".modal-ux")
        for scheme in ("SecretKey", "PublicKey", "AdminToken", "WriteKey"):
            assert scheme in text, text
        # A secret key given to SecretKey is what "Try it out" sends as Bearer.
        page.fill(".auth-container:has-text('SecretKey') input", api.secret_key)
        page.click(".auth-container:has-text('SecretKey') button.authorize")
        page.click("button.close-modal")
        # "Try it out" on GET /v1/keys sends it as `Authorization: Bearer`, and is answered.
        page.click(".opblock-summary-path[data-path='/v1/keys']")
        operation = page.locator(".opblock.is-open")
        operation.locator("button.try-out__btn").click()
        with page.expect_request(lambda r: urlsplit(r.url).path == "/v1/keys") as sent:
            operation.locator("button.execute").click()
        assert sent.value.headers["authorization"] == f"Bearer {api.secret_key}"
        answer = sent.value.response()
        assert answer is not None
        assert answer.status == 200
    finally:
        context.close()
    assert elsewhere == []
    assert errors == []
