"""The tracker as a browser gets it: cross-origin, gzipped, within its size budget."""

from __future__ import annotations

import gzip

import httpx
import pytest
from bench.servers import Server
from playwright.sync_api import Browser

from tests.e2e.conftest import Site

pytestmark = pytest.mark.browser

BUDGET = 5 * 1024


def test_tracker_is_served_gzipped_within_its_budget(api: Server) -> None:
    response = httpx.get(
        api.base_url + "/v1/js/tracker.js", headers={"Accept-Encoding": "gzip"}, timeout=10
    )
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-type"].startswith("application/javascript")
    served = int(response.headers["content-length"])
    assert served <= BUDGET, f"tracker.js is {served} bytes gzipped; the budget is {BUDGET}"
    assert gzip.decompress(gzip.compress(response.content)) == response.content


def test_a_page_on_another_origin_loads_the_tracker(
    api: Server, site: Site, browser: Browser
) -> None:
    url = site.add(
        "/serving.html",
        f'<html><body><script src="{api.base_url}/v1/js/tracker.js" data-key="{api.public_key}"'
        " async></script></body></html>",
    )
    page = browser.new_page()
    with page.expect_response(lambda r: r.url.endswith("/v1/js/tracker.js")) as loaded:
        page.goto(url)
    assert loaded.value.status == 200
    page.close()
