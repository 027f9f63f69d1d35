"""What a newcomer's browser lands on: `/` leads to the dashboard, and /docs is Swagger UI from
journeyline's own files, referencing no other host (issue 17)."""

from __future__ import annotations

import re

import httpx

ATTRIBUTE_URL = re.compile(r"""(?:src|href)=["']([^"']+)["']""")
SCRIPT_URL = re.compile(r"""\burl:\s*["']([^"']+)["']""")


async def test_the_root_leads_to_the_dashboard(client: httpx.AsyncClient) -> None:
    answer = await client.get("/", follow_redirects=False)
    assert answer.status_code == 307
    assert answer.headers["location"] == "/app"
    followed = await client.get("/", follow_redirects=True)
    assert followed.status_code == 200
    assert "<title>" in followed.text


async def test_docs_load_only_journeylines_own_files(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    urls = ATTRIBUTE_URL.findall(page.text) + SCRIPT_URL.findall(page.text)
    assert {"/openapi.json", "/docs/static/swagger-ui-bundle.js"} <= set(urls)
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert "http://" not in page.text
    assert "https://" not in page.text
    # Swagger UI's validator badge would send the document to validator.swagger.io.
    assert '"validatorUrl": null' in page.text


async def test_every_file_the_docs_page_names_is_served(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    kinds = {"js": "javascript", "css": "text/css", "png": "image/png"}
    for url in ATTRIBUTE_URL.findall(page.text):
        answer = await client.get(url)
        assert answer.status_code == 200, url
        assert kinds[url.rsplit(".", 1)[1]] in answer.headers["content-type"], url
        assert len(answer.content) > 100, url


async def test_redoc_is_not_served_from_a_cdn(client: httpx.AsyncClient) -> None:
    # FastAPI's ReDoc page loads its bundle and fonts from CDNs: not served at all.
    assert (await client.get("/redoc")).status_code == 404
