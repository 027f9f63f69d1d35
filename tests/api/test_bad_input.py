"""Bad input on every route of the core: a clear 4xx in the error shape, never a 500."""

from __future__ import annotations

import base64
import json
import os
import uuid
from typing import Any

import httpx
import orjson
import pytest

from tests.conftest import ADMIN_TOKEN, TenantKeys

PROFILE = "00000000-0000-4000-8000-000000000000"
# (path, auth, a valid-looking body with a wrong type, a body missing a required field)
BODY_ROUTES = [
    (
        "/ingest",
        "public",
        {"event_type": "track", "event_name": 5, "anonymous_id": "x"},
        {"anonymous_id": "x"},
    ),
    ("/api/ingest", "public", {"event_type": "page", "anonymous_id": ["x"]}, {"payload": {}}),
    ("/v1/events", "secret", {"type": "track", "action": "a", "email": 42}, {"action": "a"}),
    ("/admin/tenants", "admin", {"name": 7}, {}),
    (f"/v1/profiles/{PROFILE}/merge", "secret", {"profile_id": 12}, {}),
    (f"/v1/profiles/{PROFILE}/unmerge", "secret", {"profile_id": "not-a-uuid"}, {}),
]


def headers_for(auth: str, tenant: TenantKeys) -> dict[str, str]:
    if auth == "admin":
        return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    return tenant.public if auth == "public" else tenant.secret


def assert_error_shape(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)


@pytest.mark.parametrize(("path", "auth", "wrong", "missing"), BODY_ROUTES)
async def test_malformed_json_is_400(
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    path: str,
    auth: str,
    wrong: object,
    missing: object,
) -> None:
    response = await client.post(
        path,
        content=b'{"event_type": "track",',
        headers={**headers_for(auth, tenant), "Content-Type": "application/json"},
    )
    assert_error_shape(response, 400)
    assert response.json()["error"]["code"] == "malformed_json"


@pytest.mark.parametrize(("path", "auth", "wrong", "missing"), BODY_ROUTES)
async def test_random_bytes_are_400(
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    path: str,
    auth: str,
    wrong: object,
    missing: object,
) -> None:
    response = await client.post(
        path, content=os.urandom(256) + b"\xff", headers=headers_for(auth, tenant)
    )
    assert_error_shape(response, 400)


@pytest.mark.parametrize(("path", "auth", "wrong", "missing"), BODY_ROUTES)
async def test_empty_body_is_400(
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    path: str,
    auth: str,
    wrong: object,
    missing: object,
) -> None:
    response = await client.post(path, content=b"", headers=headers_for(auth, tenant))
    assert_error_shape(response, 400)


@pytest.mark.parametrize(("path", "auth", "wrong", "missing"), BODY_ROUTES)
async def test_wrong_types_are_422_naming_the_field(
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    path: str,
    auth: str,
    wrong: object,
    missing: object,
) -> None:
    response = await client.post(path, json=wrong, headers=headers_for(auth, tenant))
    assert_error_shape(response, 422)
    assert response.json()["error"].get("field")


@pytest.mark.parametrize(("path", "auth", "wrong", "missing"), BODY_ROUTES)
async def test_missing_fields_are_422(
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    path: str,
    auth: str,
    wrong: object,
    missing: object,
) -> None:
    response = await client.post(path, json=missing, headers=headers_for(auth, tenant))
    assert_error_shape(response, 422)


@pytest.mark.parametrize(("path", "auth", "wrong", "missing"), BODY_ROUTES)
@pytest.mark.parametrize("body", [[1, 2], "text", 3, None])
async def test_non_object_json_is_rejected(
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    path: str,
    auth: str,
    wrong: object,
    missing: object,
    body: object,
) -> None:
    response = await client.post(path, json=body, headers=headers_for(auth, tenant))
    assert response.status_code in {400, 422}, response.text
    assert_error_shape(response, response.status_code)


@pytest.mark.parametrize(("path", "auth", "wrong", "missing"), BODY_ROUTES)
async def test_oversized_body_is_413(
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    path: str,
    auth: str,
    wrong: object,
    missing: object,
) -> None:
    big = {"event_type": "page", "anonymous_id": "x", "payload": {"blob": "x" * (600 * 1024)}}
    response = await client.post(path, json=big, headers=headers_for(auth, tenant))
    assert_error_shape(response, 413)


@pytest.mark.parametrize("path", ["/ingest", "/v1/events"])
async def test_single_event_over_32_kb_is_413(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str
) -> None:
    big = {
        "event_type": "page",
        "type": "track",
        "action": "a",
        "anonymous_id": "x",
        "payload": {"blob": "x" * (40 * 1024)},
    }
    response = await client.post(path, json=big, headers=tenant.secret)
    assert_error_shape(response, 413)


async def test_too_many_events_in_a_sync_batch_is_413(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    batch = [{"event_type": "page", "anonymous_id": "x"}] * 101
    response = await client.post("/ingest", json={"batch": batch}, headers=tenant.public)
    assert_error_shape(response, 413)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/profiles", {"limit": "abc"}),
        ("/v1/profiles", {"limit": "0"}),
        ("/v1/profiles", {"email": "not-an-email"}),
        ("/v1/profiles", {"email": "a@x.io", "phone": "+14155550100"}),
        ("/v1/profiles/not-a-uuid", {}),
        (f"/v1/profiles/{PROFILE}/events", {"cursor": "garbage"}),
        ("/v1/identity-conflicts", {"limit": "9999"}),
    ],
)
async def test_bad_query_and_path_values_are_422(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str, params: dict[str, str]
) -> None:
    response = await client.get(path, params=params, headers=tenant.secret)
    assert_error_shape(response, 422)


async def test_unknown_route_is_a_json_404(client: httpx.AsyncClient) -> None:
    assert_error_shape(await client.get(f"/v1/nothing/{uuid.uuid4()}"), 404)


async def test_wrong_method_is_a_json_405(client: httpx.AsyncClient) -> None:
    assert_error_shape(await client.get("/ingest"), 405)


@pytest.mark.parametrize(("path", "auth", "wrong", "missing"), BODY_ROUTES)
async def test_missing_key_is_401(
    client: httpx.AsyncClient, path: str, auth: str, wrong: object, missing: object
) -> None:
    response = await client.post(path, json=missing)
    assert_error_shape(response, 401)


@pytest.mark.parametrize(("path", "auth", "wrong", "missing"), BODY_ROUTES)
@pytest.mark.parametrize("key", ["sk_" + "x" * 32, "pk_" + "y" * 32, "garbage", "sk_"])
async def test_unknown_key_is_401(
    client: httpx.AsyncClient, path: str, auth: str, wrong: object, missing: object, key: str
) -> None:
    response = await client.post(
        path, json=missing, headers={"Authorization": f"Bearer {key}", "X-API-Key": key}
    )
    assert_error_shape(response, 401)


# --- JSON nested too deep, and text no database may store (decision 39) -----------------------

DEPTHS = [255, 1023, 10_000, 100_000]
DEEP = "@deep@"
SEGMENT_ROUTES = [f"/v1/{kind}" for kind in ("identify", "track", "page", "screen", "group")]
EVENT_ROUTES = [
    "/ingest",
    "/api/ingest",
    "/v1/events",
    "/api/events",
    "/api/profile",
    "/api/webhooks/events",
    *SEGMENT_ROUTES,
    "/v1/alias",
]
# NUL, then a lone high surrogate: PostgreSQL's TEXT and JSONB refuse the first, JSONB the second.
BAD = "\x00\ud800"
STORED = "\ufffd\ufffd"


def probe(path: str, tenant: TenantKeys, value: object, text: str = "probe") -> Any:
    """(body, headers) of one valid event for `path` carrying `value` in its payload, traits or
    properties, and `text` in its name and weak identifier."""
    email = "probe@x.io"
    if path in ("/ingest", "/api/ingest"):
        body: dict[str, Any] = {
            "event_type": "track",
            "event_name": f"Probe {text}",
            "identity": email,
            "anonymous_id": f"{text}-anon",
            "payload": {"probe": value},
        }
        return body, tenant.public
    if path == "/v1/events":
        body = {
            "type": "track",
            "action": f"probe {text}",
            "email": email,
            "anonymousId": f"{text}-anon",
            "properties": {"probe": value},
        }
        return body, tenant.secret
    if path == "/api/events":
        body = {
            "company_id": tenant.public_key,
            "sessionId": f"{text}-session",
            "events": [{"eventType": f"page_view {text}", "eventData": {"probe": value}}],
        }
        return body, {}
    if path == "/api/profile":
        body = {
            "company_id": tenant.public_key,
            "sessionId": f"{text}-session",
            "email": email,
            "probe": value,
        }
        return body, {}
    if path == "/api/webhooks/events":
        body = {
            "company_id": tenant.public_key,
            "identifier": {"email": email},
            "eventType": f"payment_processed {text}",
            "eventData": {"probe": value},
        }
        return body, {"X-API-Key": tenant.secret_key}
    kind = path.removeprefix("/v1/")
    message: dict[str, Any] = {"userId": "probe-user", "anonymousId": f"{text}-anon"}
    if kind in ("identify", "group"):
        message["traits"] = {"probe": value}
    elif kind == "alias":
        message["previousId"] = f"{text}-anon"
        message["context"] = {"probe": value}
    else:
        message["properties"] = {"probe": value}
    message.update(
        {"track": {"event": f"Probe {text}"}, "group": {"groupId": f"g-{text}"}}.get(kind, {})
    )
    if kind in ("page", "screen"):
        message["name"] = f"Home {text}"
    return message, basic_auth(tenant.secret_key)


def basic_auth(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def nested_inside(document: object, levels: int) -> bytes:
    """`document` as JSON with `levels` nested lists where it holds the string DEEP."""
    return orjson.dumps(document).replace(orjson.dumps(DEEP), b"[" * levels + b"]" * levels, 1)


def too_deep_status(path: str) -> int:
    # The Segment dialect refuses a message with Segment's 400 (decision 36).
    return 400 if path.startswith("/v1/") and path != "/v1/events" else 422


@pytest.mark.parametrize("levels", DEPTHS)
@pytest.mark.parametrize("path", EVENT_ROUTES)
async def test_an_event_nested_too_deep_is_a_clear_too_deep_never_a_500(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str, levels: int
) -> None:
    body, headers = probe(path, tenant, DEEP)
    response = await client.post(path, content=nested_inside(body, levels), headers=headers)
    assert_error_shape(response, too_deep_status(path))
    assert response.json()["error"]["code"] == "too_deep"


@pytest.mark.parametrize("path", EVENT_ROUTES)
async def test_an_event_at_the_depth_limit_is_taken(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str
) -> None:
    body, headers = probe(path, tenant, DEEP)
    # The event's own levels above the probe (a session's events are each measured from
    # themselves), then lists down to the limit (64) exactly.
    above = 1 if path == "/api/profile" else 2
    response = await client.post(path, content=nested_inside(body, 64 - above), headers=headers)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("levels", [255, 10_000])
@pytest.mark.parametrize(
    ("path", "list_key", "auth"),
    [("/ingest", "batch", "public"), ("/v1/events", "events", "secret"), ("/v1/batch", "", "")],
)
async def test_one_event_too_deep_in_a_list_fails_alone_by_its_index(
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    path: str,
    list_key: str,
    auth: str,
    levels: int,
) -> None:
    single = "/v1/track" if path == "/v1/batch" else path
    items = [probe(single, tenant, value)[0] for value in ("first", DEEP, "last")]
    if path == "/v1/batch":
        for item in items:
            item["type"] = "track"
        document: dict[str, Any] = {"batch": items}
        headers = basic_auth(tenant.secret_key)
    else:
        document = {list_key: items}
        headers = headers_for(auth, tenant)
    response = await client.post(path, content=nested_inside(document, levels), headers=headers)
    assert response.status_code == 200, response.text
    answer = response.json()
    if path == "/v1/batch":
        [rejected] = answer["rejected"]
        assert (rejected["index"], rejected["code"]) == (1, "too_deep")
    else:
        first, deep, last = answer["results"]
        assert deep["error"]["code"] == "too_deep"
        assert deep["error"]["index"] == 1
        assert "error" not in first
        assert "error" not in last
    events = await stored_events(client, tenant, path)
    assert len(events) == 2
    stored = orjson.dumps(events).decode()
    assert '"first"' in stored
    assert '"last"' in stored


async def stored_events(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str, text: str = "probe"
) -> list[dict[str, Any]]:
    """The events `probe` sent to `path` left on their profile, and the profile."""
    profile = await stored_profile(client, tenant, path, text)
    response = await client.get(f"/v1/profiles/{profile['id']}/events", headers=tenant.secret)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["data"]
    return events


async def stored_profile(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str, text: str
) -> dict[str, Any]:
    if path == "/api/events":
        query = {"session_id": f"{text}-session"}
    elif path.startswith("/v1/") and path != "/v1/events":
        query = {"external_id": "probe-user"}
    else:
        query = {"email": "probe@x.io"}
    response = await client.get("/v1/profiles", params=query, headers=tenant.secret)
    assert response.status_code == 200, response.text
    [profile] = response.json()["data"]
    return dict(profile)


UNSTORABLE = {f"key{BAD}": f"value{BAD}", "low": "\udc00", "list": [f"x{BAD}", {BAD: BAD}]}
AS_STORED = {
    f"key{STORED}": f"value{STORED}",
    "low": "\ufffd",
    "list": [f"x{STORED}", {STORED: STORED}],
}


@pytest.mark.parametrize("path", EVENT_ROUTES)
async def test_nul_and_lone_surrogates_are_stored_as_the_replacement_character(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str
) -> None:
    """In keys and values, names and identifiers, on SQLite and PostgreSQL alike: PostgreSQL
    refused NUL with a 500, and orjson the whole request for a lone surrogate."""
    body, headers = probe(path, tenant, UNSTORABLE, text=f"probe{BAD}")
    # The standard library writes lone surrogates as \\ud800 escapes, as browsers do.
    response = await client.post(path, content=json.dumps(body).encode(), headers=headers)
    assert response.status_code == 200, response.text
    profile = await stored_profile(client, tenant, path, f"probe{STORED}")
    events = await stored_events(client, tenant, path, f"probe{STORED}")
    stored = orjson.dumps([profile, events]).decode()
    assert "\\u0000" not in stored
    assert f"probe{STORED}" in stored
    if path != "/v1/alias":  # an alias carries no properties or traits
        assert holds([profile, events], AS_STORED)


def holds(tree: object, wanted: object) -> bool:
    """Whether `wanted` is `tree` or any value inside it (object key order aside: JSONB
    sorts keys)."""
    if tree == wanted:
        return True
    if isinstance(tree, dict):
        return any(holds(value, wanted) for value in tree.values())
    if isinstance(tree, list):
        return any(holds(value, wanted) for value in tree)
    return False


async def test_a_connection_closed_mid_body_is_a_400_not_an_unhandled_error(
    app: Any, tenant: TenantKeys, caplog: pytest.LogCaptureFixture
) -> None:
    """The soak found it (decision 70): a keep-alive connection closed as a request arrived on
    it reached the route as Starlette's ClientDisconnect, logged as an unhandled error with a
    traceback and counted as a 500. Now it is a 400 in the error shape, and nothing logged."""
    first = json.dumps({"event_type": "track", "event_name": "Cut", "anonymous_id": "a"}).encode()
    incoming: list[dict[str, Any]] = [
        {"type": "http.request", "body": first[:10], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/ingest",
        "raw_path": b"/ingest",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(first)).encode()),
            (b"x-api-key", tenant.public_key.encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert start["status"] == 400
    assert json.loads(body)["error"]["code"] == "malformed_json"
    assert not [record for record in caplog.records if record.message == "unhandled error"]
