"""Hostile input on every dashboard route (they are not in the OpenAPI document): never a 5xx.

The dashboard answers in its own shapes, which this test holds it to: a page or a refusal in
HTML, a redirect within /app (to sign in, or back to the page), the graph's JSON; only a body
over the form limit is refused by the shared reader, in the API's error shape. Signed in as a
real tenant, with the form's CSRF token, so the forms' fields reach their parsers.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from journeyline.web import keys as key_settings
from journeyline.web import routes as dashboard
from tests.api.test_hostile_input import (
    CHUNK,
    OVERSIZE,
    PARAMETER_VALUES,
    _gzip_bomb,
    _oversize,
)
from tests.conftest import TenantKeys
from tests.web.test_pages import csrf_of, signed_in

ROUTES = sorted(
    (method.lower(), route.path)
    for router in (dashboard.router, key_settings.router)
    for route in router.routes
    if isinstance(route, APIRoute)
    for method in route.methods or ()
)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
async def browser(app: Any) -> Any:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def _filled(path: str, value: str | None) -> str:
    return "/".join(
        (value if value is not None else str(uuid.uuid4()))
        if part.startswith("{") and part.endswith("}")
        else part
        for part in path.split("/")
    )


def forms(csrf: str) -> list[tuple[str, Any, dict[str, str]]]:
    """(name, body, extra headers) for each class of hostile form."""
    token = f"csrf={csrf}"
    return [
        ("nul", f"{token}&key=%00sk_%00&q=%00".encode(), FORM),
        ("surrogate", f"{token}&key=%ED%A0%80&%ED%A0%80=1".encode(), FORM),
        ("number", f"{token}&key=1e309&limit={'9' * 400}".encode(), FORM),
        ("many-fields", ("&".join(f"f{i}=1" for i in range(500)) + f"&{token}").encode(), FORM),
        ("not-utf8", b"\xff\xfe%%%&csrf=" + csrf.encode(), FORM),
        ("json", b'{"csrf": "' + csrf.encode() + b'", "key": [[[[[[]]]]]]}', {}),
        ("deep", b"[" * 10_000 + b"]" * 10_000, {"Content-Type": "application/json"}),
        ("gzip-bomb", _gzip_bomb(), {**FORM, "Content-Encoding": "gzip"}),
        ("empty", b"", FORM),
    ]


def assert_dashboard_shape(response: httpx.Response, what: str) -> None:
    status = response.status_code
    assert status < 500, f"{what}: {status} {response.text[:300]}"
    kind = response.headers.get("content-type", "")
    if 300 <= status < 400:
        assert response.headers["location"].startswith("/app"), what
    elif status == 413:
        error = response.json()["error"]
        assert isinstance(error["code"], str), what
        assert isinstance(error["message"], str), what
    elif status >= 400:
        assert kind.startswith("text/html") or kind.startswith("application/json"), what
        if kind.startswith("application/json"):
            assert isinstance(response.json()["error"]["code"], str), what


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
async def test_hostile_input_on_the_dashboard_is_never_a_5xx(
    browser: httpx.AsyncClient, tenant: TenantKeys, method: str, path: str
) -> None:
    await signed_in(browser, tenant)
    csrf = csrf_of((await browser.get("/app/overview")).text)
    if method == "post":
        for name, body, headers in forms(csrf):
            response = await browser.post(_filled(path, None), content=body, headers=headers)
            assert_dashboard_shape(response, f"POST {path} {name}")
        for declared in (True, False):
            headers = {**FORM}
            if declared:
                headers["Content-Length"] = str(-(-OVERSIZE // CHUNK) * CHUNK)
            response = await browser.post(_filled(path, None), content=_oversize(), headers=headers)
            assert response.status_code == 413, f"POST {path} oversize (declared: {declared})"
            assert_dashboard_shape(response, f"POST {path} oversize")
    for value in PARAMETER_VALUES:
        url = _filled(path, value) if "{" in path and value else _filled(path, None)
        query = "&".join(
            f"{name}={value}"
            for name in ("q", "limit", "cursor", "mode", "after", "before", "merged")
        )
        response = await browser.request(method, f"{url}?{query}", headers=FORM)
        assert_dashboard_shape(response, f"{method.upper()} {url[:80]} {value[:10]}")
