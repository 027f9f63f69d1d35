"""The browser SDKs' routes on both lanes (decision 62): the requests analytics.js 2.0 and
RudderStack's JavaScript SDK v3 really sent (captured from their npm bundles in Chromium by
tests/e2e/sdk/capture.py), replayed with a tenant's public key, preflights included; then what
journeyline stored. And the answers for a missing, unknown, secret or mismatched key, bad bodies,
a batch with one bad message, and CORS on each new path."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from journeyline.api.cors import SDK_HEADERS
from tests.conftest import TenantKeys

FIXTURES = Path(__file__).parents[1] / "fixtures" / "analytics_clients"
CAPTURE_KEY = "pk_capture"
ORIGIN = "http://shop.example"


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def captured(sdk: str, key: str) -> list[dict[str, Any]]:
    """The capture, with `key` wherever the SDK put the capture's key (path, query, Basic
    credentials, body)."""
    text = (FIXTURES / f"browser_{sdk}_captured_requests.json").read_text()
    text = text.replace(basic(CAPTURE_KEY), basic(key)).replace(CAPTURE_KEY, key)
    requests: list[dict[str, Any]] = json.loads(text)
    return requests


async def replay(client: httpx.AsyncClient, request: dict[str, Any]) -> httpx.Response:
    headers = {"Origin": ORIGIN, **request["headers"]}
    body = orjson.dumps(request["body"]) if request["body"] is not None else None
    return await client.request(request["method"], request["path"], content=body, headers=headers)


async def read(client: httpx.AsyncClient, tenant: TenantKeys, path: str, **query: str) -> Any:
    response = await client.get(path, params=query, headers=tenant.secret)
    assert response.status_code == 200, response.text
    return response.json()


async def replay_all(
    client: httpx.AsyncClient, tenant: TenantKeys, sdk: str, scenario: str
) -> list[tuple[dict[str, Any], httpx.Response]]:
    answered = []
    for request in captured(sdk, tenant.public_key):
        if request["scenario"] != scenario:
            continue
        response = await replay(client, request)
        answered.append((request, response))
        if request["method"] == "OPTIONS":
            assert response.status_code == 204, request["path"]
            allowed = {
                h.strip().lower()
                for h in response.headers["access-control-allow-headers"].split(",")
            }
            asked = request["headers"]["Access-Control-Request-Headers"].split(",")
            assert {h.strip().lower() for h in asked} <= allowed, request["path"]
            continue
        assert response.status_code == 200, f"{request['path']}: {response.text}"
        assert response.headers["access-control-allow-origin"] == "*", request["path"]
    return answered


async def assert_the_journey_landed(client: httpx.AsyncClient, tenant: TenantKeys) -> None:
    """page (anonymous) → alias → identify → Order Completed → group, as the capture did."""
    [profile] = (await read(client, tenant, "/v1/profiles", external_id="capture-user"))["data"]
    assert profile["attributes"]["email"] == "capture@contoso.com"
    assert profile["attributes"]["name"] == "Cap Ture"
    assert profile["attributes"]["company"]["name"] == "Contoso"
    kinds = {identity["kind"] for identity in profile["identities"]}
    assert {"external_id", "email", "anonymous_id"} <= kinds
    events = (await read(client, tenant, f"/v1/profiles/{profile['id']}/events"))["data"]
    types = {event["event_type"] for event in events}
    assert {"page_viewed", "aliased", "identified", "purchase_completed", "group_joined"} <= types
    [order] = (await read(client, tenant, "/v1/orders", profile_id=profile["id"]))["data"]
    assert (order["order_id"], order["status"]) == ("cap-1", "completed")
    persons = (await read(client, tenant, "/v1/crm/persons"))["data"]
    [person] = [p for p in persons if p["profile_id"] == profile["id"]]
    companies = {c["id"]: c for c in (await read(client, tenant, "/v1/crm/companies"))["data"]}
    assert companies[person["company_id"]]["domain"] == "contoso.com"


@pytest.mark.parametrize(
    ("sdk", "scenario"),
    [
        ("segment", "segment"),
        ("segment", "segment-batching"),
        ("rudderstack", "rudderstack"),
        ("rudderstack", "rudderstack-beacon"),
    ],
)
async def test_the_captured_browser_requests_are_taken_as_sent(
    client: httpx.AsyncClient, tenant: TenantKeys, sdk: str, scenario: str
) -> None:
    answered = await replay_all(client, tenant, sdk, scenario)
    paths = {request["path"].split("?")[0] for request, _ in answered}
    expected = {
        "segment": {"/v1/p", "/v1/a", "/v1/i", "/v1/t", "/v1/g", "/v1/s"},
        "segment-batching": {"/v1/b", "/v1/m"},
        "rudderstack": {"/sourceConfig/", "/v1/page", "/v1/identify", "/v1/track"},
        "rudderstack-beacon": {"/sourceConfig/", "/beacon/v1/batch"},
    }[scenario]
    assert expected <= paths
    for request, response in answered:
        if request["method"] == "POST":
            assert response.json() == {"success": True}, request["path"]
    await assert_the_journey_landed(client, tenant)


async def test_segments_settings_send_to_journeyline_with_only_its_own_integration(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await client.get(
        f"/v1/projects/{tenant.public_key}/settings", headers={"Origin": ORIGIN}
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    settings = response.json()
    assert list(settings["integrations"]) == ["Segment.io"]
    sender = settings["integrations"]["Segment.io"]
    assert (sender["apiKey"], sender["apiHost"], sender["protocol"]) == (
        tenant.public_key,
        "testserver/v1",
        "http",
    )
    # Nothing the SDK would fetch from another host, and no metrics to https on plain http.
    assert settings["remotePlugins"] == []
    assert settings["enabledMiddleware"] == {}
    assert settings["legacyVideoPluginsEnabled"] is False
    assert settings["metrics"] == {"host": "testserver/v1", "sampleRate": 0}
    https = await client.get(
        f"https://journeyline.example/v1/projects/{tenant.public_key}/settings"
    )
    assert https.json()["metrics"]["sampleRate"] > 0
    assert https.json()["integrations"]["Segment.io"]["protocol"] == "https"


@pytest.mark.parametrize("path", ["/sourceConfig", "/sourceConfig/"])
async def test_rudderstacks_source_config_has_no_destinations(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str
) -> None:
    by_query = await client.get(path, params={"writeKey": tenant.public_key})
    by_basic = await client.get(path, headers={"Authorization": basic(tenant.public_key)})
    for response in (by_query, by_basic):
        assert response.status_code == 200, response.text
        source = response.json()["source"]
        assert source["id"] == tenant.tenant_id
        assert source["destinations"] == []
        assert source["enabled"] is True
        assert source["config"]["statsCollection"]["errors"]["enabled"] is False


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/projects/{key}/settings"),
        ("GET", "/sourceConfig/?writeKey={key}"),
        ("POST", "/beacon/v1/batch?writeKey={key}"),
        ("POST", "/v1/t?writeKey={key}"),
        ("POST", "/v1/batch?writeKey={key}"),
    ],
)
async def test_a_secret_key_in_a_url_is_403_and_an_unknown_key_401(
    client: httpx.AsyncClient, tenant: TenantKeys, method: str, path: str
) -> None:
    message = {"type": "track", "userId": "u", "event": "E"}
    body = orjson.dumps({"batch": [message]} if "batch" in path else message)
    content = body if method == "POST" else None
    secret = await client.request(method, path.format(key=tenant.secret_key), content=content)
    assert secret.status_code == 403, secret.text
    assert "public key" in secret.json()["error"]["message"]
    unknown = "pk_" + "x" * 32
    refused = await client.request(method, path.format(key=unknown), content=content)
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("path", ["/v1/t", "/v1/b", "/beacon/v1/batch", "/sourceConfig/"])
async def test_no_key_is_401(client: httpx.AsyncClient, path: str) -> None:
    if path == "/sourceConfig/":
        response = await client.get(path)
    else:
        message = {"type": "track", "userId": "u", "event": "E"}
        body = {"batch": [message]} if "batch" in path or path == "/v1/b" else message
        response = await client.post(path, content=orjson.dumps(body))
    assert response.status_code == 401, response.text
    assert "write key" in response.json()["error"]["message"]


async def test_a_secret_key_as_the_beacons_basic_user_is_taken(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    """The rule is about URLs: the same batch with the secret key in a header is a server's."""
    body = orjson.dumps({"batch": [{"type": "track", "userId": "srv", "event": "E"}]})
    response = await client.post(
        "/beacon/v1/batch", content=body, headers={"Authorization": basic(tenant.secret_key)}
    )
    assert response.status_code == 200, response.text


async def test_two_different_keys_for_the_source_config_are_401(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    response = await client.get(
        "/sourceConfig/",
        params={"writeKey": other_tenant.public_key},
        headers={"Authorization": basic(tenant.public_key)},
    )
    assert response.status_code == 401, response.text
    assert "different keys" in response.json()["error"]["message"]


async def test_the_other_tenants_key_writes_only_into_its_own_tenant(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    track = {"type": "track", "userId": "iso-user", "event": "Isolated", "writeKey": ""}
    short = await client.post(
        "/v1/t",
        content=orjson.dumps({**track, "writeKey": other_tenant.public_key}),
        headers={"Content-Type": "text/plain"},
    )
    beacon = await client.post(
        f"/beacon/v1/batch?writeKey={other_tenant.public_key}",
        content=orjson.dumps({"batch": [{**track, "event": "Beaconed"}]}),
        headers={"Content-Type": "text/plain"},
    )
    assert (short.status_code, beacon.status_code) == (200, 200), (short.text, beacon.text)
    mine = await read(client, tenant, "/v1/profiles", external_id="iso-user")
    theirs = await read(client, other_tenant, "/v1/profiles", external_id="iso-user")
    assert mine["data"] == []
    [profile] = theirs["data"]
    events = (await read(client, other_tenant, f"/v1/profiles/{profile['id']}/events"))["data"]
    assert {e["event_name"] for e in events} == {"Isolated", "Beaconed"}
    settings = await client.get(f"/v1/projects/{other_tenant.public_key}/settings")
    source = await client.get("/sourceConfig/", params={"writeKey": other_tenant.public_key})
    assert settings.json()["integrations"]["Segment.io"]["apiKey"] == other_tenant.public_key
    assert source.json()["source"]["id"] == other_tenant.tenant_id


@pytest.mark.parametrize("path", ["/v1/t", "/v1/b", "/beacon/v1/batch", "/v1/m"])
@pytest.mark.parametrize(
    ("body", "status"),
    [(b'{"type": "track", ', 400), (b"[1, 2]", 400), (b"", 400)],
)
async def test_a_bad_text_plain_body_is_400(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str, body: bytes, status: int
) -> None:
    query = f"?writeKey={tenant.public_key}" if path.startswith("/beacon") else ""
    response = await client.post(
        path + query,
        content=body,
        headers={"Content-Type": "text/plain", "Authorization": basic(tenant.public_key)}
        if not query
        else {"Content-Type": "text/plain"},
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]


async def test_an_invalid_message_on_a_short_path_is_a_clear_4xx(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    headers = {"Content-Type": "text/plain", "Authorization": basic(tenant.public_key)}
    no_id = await client.post("/v1/t", content=b'{"event": "E"}', headers=headers)
    assert no_id.status_code == 400, no_id.text
    assert no_id.json()["code"] == no_id.json()["error"]["code"]
    no_group = await client.post("/v1/g", content=b'{"userId": "u"}', headers=headers)
    assert no_group.status_code in (400, 422), no_group.text
    assert "groupId" in no_group.text


@pytest.mark.parametrize("path", ["/v1/b", "/beacon/v1/batch"])
async def test_one_bad_message_in_a_batch_fails_alone_by_its_index(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str
) -> None:
    user = f"batch-{path.count('/')}"
    body = {
        "writeKey": tenant.public_key,
        "batch": [
            {"type": "track", "userId": user, "event": "Kept"},
            {"type": "group", "userId": user},
            {"type": "identify", "userId": user, "traits": {"plan": "pro"}},
        ],
    }
    response = await client.post(
        path + (f"?writeKey={tenant.public_key}" if path.startswith("/beacon") else ""),
        content=orjson.dumps(body),
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 200, response.text
    assert [r["index"] for r in response.json()["rejected"]] == [1]
    [profile] = (await read(client, tenant, "/v1/profiles", external_id=user))["data"]
    assert profile["attributes"]["plan"] == "pro"


async def test_metrics_are_taken_and_discarded_without_a_key(client: httpx.AsyncClient) -> None:
    series = {
        "series": [
            {"type": "Counter", "metric": "analytics_js.invoke", "value": 1, "tags": {"a": "b"}}
        ]
    }
    taken = await client.post(
        "/v1/m", content=orjson.dumps(series), headers={"Content-Type": "text/plain"}
    )
    assert taken.status_code == 200, taken.text
    assert taken.json() == {"success": True}
    wrong = await client.post("/v1/m", content=b'{"series": {"not": "a list"}}')
    assert wrong.status_code == 422, wrong.text
    assert wrong.json()["error"]["field"] == "series"


NEW_PATHS = [
    "/v1/i",
    "/v1/t",
    "/v1/p",
    "/v1/s",
    "/v1/g",
    "/v1/a",
    "/v1/b",
    "/v1/m",
    "/beacon/v1/batch",
    "/sourceConfig",
    "/sourceConfig/",
    "/v1/projects/pk_anything/settings",
    # The long paths RudderStack's SDK posts to, with its headers.
    "/v1/track",
    "/v1/batch",
]
# What the browser sets itself, or Playwright's route handler added to the retry captures.
NOT_THE_SDKS = {"accept", "accept-encoding", "content-length", "cache-control", "pragma"}


def headers_the_sdks_sent() -> set[str]:
    """Every request header the captured SDKs set (first deliveries and retries)."""
    return {
        name.lower()
        for sdk in ("segment", "rudderstack")
        for request in captured(sdk, "pk_any")
        if request["method"] != "OPTIONS"
        for name in request["headers"]
    } - NOT_THE_SDKS


def test_the_captures_hold_the_sdks_own_headers() -> None:
    sent = headers_the_sdks_sent()
    assert {"anonymousid", "sentat", "x-retry-count", "rsa-retry-attempt"} <= sent
    assert sent <= {name.lower() for name in ("Authorization", "Content-Type", *SDK_HEADERS)}


@pytest.mark.parametrize("path", NEW_PATHS)
async def test_the_preflight_allows_every_header_the_sdks_send(
    client: httpx.AsyncClient, path: str
) -> None:
    sent = headers_the_sdks_sent()
    response = await client.options(
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": ",".join(sorted(sent)),
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    allowed = response.headers["access-control-allow-headers"].split(",")
    assert sent <= {h.strip().lower() for h in allowed}


async def test_a_secret_route_next_to_them_still_sends_no_cors(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await client.get("/v1/profiles", headers={"Origin": ORIGIN, **tenant.secret})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    nested = await client.options("/v1/projects/x/settings/more", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in nested.headers
