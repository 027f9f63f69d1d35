"""Bad input on every route of the core: a clear 4xx in the error shape, never a 500."""

from __future__ import annotations

import os
import uuid

import httpx
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
