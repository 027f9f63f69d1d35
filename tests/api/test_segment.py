"""The Segment dialect through HTTP: the captured requests of the real SDKs replayed (gzip
included), every call type's effect on profiles, events and the CRM, auth by Basic or writeKey,
limits, bad input, and the other tenant's key."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.conftest import TenantKeys

FIXTURES = Path(__file__).parents[1] / "fixtures" / "analytics_clients"


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def captured(name: str) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text())
    return requests


def replayed_body(request: dict[str, Any], key: str) -> tuple[bytes, dict[str, str]]:
    """The captured body with this tenant's key for the capture's test key, compressed when the
    SDK compressed it; the SDK's own headers otherwise."""
    document = dict(request["body"])
    if "writeKey" in document:
        document["writeKey"] = key
    body = orjson.dumps(document)
    headers = {
        name: value
        for name, value in request["headers"].items()
        if name.lower() in ("user-agent", "content-type", "content-encoding", "accept")
    }
    if request["headers"].get("Content-Encoding") == "gzip":
        body = gzip.compress(body)
    return body, {**headers, **basic(key)}


async def profile_by(
    client: httpx.AsyncClient, tenant: TenantKeys, **query: str
) -> dict[str, Any] | None:
    response = await client.get("/v1/profiles", params=query, headers=tenant.secret)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found[0] if found else None


async def events_of(
    client: httpx.AsyncClient, tenant: TenantKeys, profile_id: str
) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/profiles/{profile_id}/events", headers=tenant.secret)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["data"]
    return events


@pytest.mark.parametrize(
    "capture", ["segment_captured_requests.json", "rudder_captured_requests.json"]
)
async def test_the_captured_sdk_requests_are_taken_as_sent(
    client: httpx.AsyncClient, tenant: TenantKeys, capture: str
) -> None:
    for request in captured(capture):
        body, headers = replayed_body(request, tenant.secret_key)
        response = await client.post(request["path"], content=body, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json() == {"success": True}
    user = await profile_by(client, tenant, external_id="u1")
    assert user is not None
    assert user["attributes"]["email"] == "a@b.com"
    types = {event["event_type"] for event in await events_of(client, tenant, user["id"])}
    assert {"identified", "purchase_completed"} <= types
    # The replay of the same requests is all duplicates: nothing new.
    before = len(await events_of(client, tenant, user["id"]))
    for request in captured(capture):
        body, headers = replayed_body(request, tenant.secret_key)
        assert (
            await client.post(request["path"], content=body, headers=headers)
        ).status_code == 200
    assert len(await events_of(client, tenant, user["id"])) == before


async def test_each_call_type_through_its_own_route(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    auth = basic(tenant.secret_key)
    calls = [
        ("identify", {"userId": "seg-1", "traits": {"email": "seg@acme-corp.io", "name": "Seg"}}),
        (
            "track",
            {"userId": "seg-1", "event": "Product Viewed", "properties": {"product_id": "P1"}},
        ),
        (
            "page",
            {"anonymousId": "seg-anon", "name": "Pricing", "properties": {"path": "/pricing"}},
        ),
        ("screen", {"userId": "seg-1", "name": "Home"}),
        (
            "group",
            {
                "userId": "seg-1",
                "groupId": "g-9",
                "traits": {"name": "Acme Corp", "domain": "acme-corp.io"},
            },
        ),
        ("alias", {"userId": "seg-1", "previousId": "seg-anon"}),
    ]
    for kind, message in calls:
        response = await client.post(f"/v1/{kind}", json=message, headers=auth)
        assert response.status_code == 200, (kind, response.text)
        assert response.json() == {"success": True}
    user = await profile_by(client, tenant, external_id="seg-1")
    assert user is not None
    types = [event["event_type"] for event in await events_of(client, tenant, user["id"])]
    assert {"identified", "product_viewed", "screen_viewed", "group_joined", "aliased"} <= set(
        types
    )
    assert user["attributes"]["company"]["name"] == "Acme Corp"
    # The alias collapsed the anonymous page view's shadow into the user.
    assert "page_viewed" in types
    assert {"kind": "anonymous_id", "value": "seg-anon"} in user["identities"]
    persons = (await client.get("/v1/crm/persons", headers=tenant.secret)).json()["data"]
    [person] = [p for p in persons if p["profile_id"] == user["id"]]
    companies = (await client.get("/v1/crm/companies", headers=tenant.secret)).json()["data"]
    [company] = [c for c in companies if c["id"] == person["company_id"]]
    assert (company["name"], company["domain"]) == ("Acme Corp", "acme-corp.io")


async def test_write_key_in_the_body_and_a_public_key_work(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    for key in (tenant.public_key, tenant.secret_key):
        message = {"writeKey": key, "anonymousId": f"wk-{key[:2]}", "event": "Clicked"}
        response = await client.post("/v1/track", json=message)
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic " + base64.b64encode(b"sk_nope:").decode()},
        {"Authorization": "Basic %%%not-base64"},
        {"Authorization": "Bearer sk_whatever"},
    ],
)
async def test_bad_auth_is_401(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.post("/v1/track", json={"userId": "x", "event": "Y"}, headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["error"]["code"] == body["code"] == "unauthorized"
    assert body["message"] == body["error"]["message"]


async def test_the_other_tenants_key_writes_only_into_its_own_tenant(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    message = {"userId": "iso-1", "event": "Signed Up"}
    response = await client.post("/v1/track", json=message, headers=basic(other_tenant.secret_key))
    assert response.status_code == 200
    assert await profile_by(client, tenant, external_id="iso-1") is None
    assert await profile_by(client, other_tenant, external_id="iso-1") is not None


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/track", b"{not json", 400),
        ("/v1/track", b"", 400),
        ("/v1/track", b"[1, 2]", 400),
        ("/v1/track", orjson.dumps({"userId": "u"}), 400),  # no event
        ("/v1/track", orjson.dumps({"event": "E"}), 400),  # no identifier
        ("/v1/track", orjson.dumps({"userId": ["u"], "event": "E"}), 400),  # wrong type
        ("/v1/group", orjson.dumps({"userId": "u"}), 400),
        ("/v1/alias", orjson.dumps({"userId": "u"}), 400),
        ("/v1/batch", orjson.dumps({"batch": []}), 400),
        ("/v1/batch", orjson.dumps({"batch": "no"}), 400),
        ("/v1/batch", orjson.dumps({"batch": [{"type": "track", "event": "E"}]}), 400),
        (
            "/v1/track",
            orjson.dumps({"userId": "u", "event": "E", "properties": {"x": "a" * 33_000}}),
            400,
        ),
        (
            "/v1/batch",
            orjson.dumps(
                {
                    "batch": [
                        {
                            "type": "track",
                            "userId": "u",
                            "event": "E",
                            "properties": {"x": "a" * 33_000},
                        }
                    ]
                }
            ),
            400,
        ),
    ],
)
async def test_bad_input_is_a_clear_4xx(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str, body: bytes, status: int
) -> None:
    response = await client.post(path, content=body, headers=basic(tenant.secret_key))
    assert response.status_code == status, response.text
    assert "message" in response.json()["error"]


async def test_oversized_and_bomb_bodies_are_413(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    big = orjson.dumps(
        {
            "batch": [
                {"type": "track", "userId": "u", "event": "E", "properties": {"x": "a" * 30_000}}
            ]
            * 20
        }
    )
    response = await client.post("/v1/batch", content=big, headers=basic(tenant.secret_key))
    assert response.status_code == 413
    bomb = gzip.compress(b'{"batch": [' + b" " * 5_000_000 + b"]}")
    headers = {**basic(tenant.secret_key), "Content-Encoding": "gzip"}
    response = await client.post("/v1/batch", content=bomb, headers=headers)
    assert response.status_code == 413
    broken = await client.post("/v1/batch", content=b"not gzip at all", headers=headers)
    assert broken.status_code == 400


async def test_a_batch_keeps_its_valid_messages_and_names_the_others(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = {
        "batch": [
            {"type": "track", "userId": "mixed-1", "event": "Kept"},
            {"type": "track", "event": "No identifier"},
            {"type": "identify", "userId": "mixed-1", "traits": {"plan": "pro"}},
        ]
    }
    response = await client.post("/v1/batch", json=body, headers=basic(tenant.secret_key))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["success"] is True
    assert [r["index"] for r in answer["rejected"]] == [1]
    user = await profile_by(client, tenant, external_id="mixed-1")
    assert user is not None
    assert user["attributes"]["plan"] == "pro"


async def test_clock_skew_is_corrected_by_sent_at(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    # The client's clock is a day fast; sentAt is 2 s after the event by that clock.
    body = {
        "batch": [
            {
                "type": "track",
                "userId": "skew-1",
                "event": "Skewed",
                "timestamp": "2030-01-02T00:00:00Z",
            }
        ],
        "sentAt": "2030-01-02T00:00:02Z",
    }
    response = await client.post("/v1/batch", json=body, headers=basic(tenant.secret_key))
    assert response.status_code == 200
    user = await profile_by(client, tenant, external_id="skew-1")
    assert user is not None
    [event] = await events_of(client, tenant, user["id"])
    assert event["occurred_at"] < "2030"


async def test_alias_of_another_anchors_id_is_a_recorded_conflict_not_a_merge(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    auth = basic(tenant.secret_key)
    for user in ("alias-a", "alias-b"):
        identify = {"userId": user, "traits": {"email": f"{user}@x.io"}}
        assert (await client.post("/v1/identify", json=identify, headers=auth)).status_code == 200
    alias = {"userId": "alias-a", "previousId": "alias-b"}
    assert (await client.post("/v1/alias", json=alias, headers=auth)).status_code == 200
    a = await profile_by(client, tenant, external_id="alias-a")
    b = await profile_by(client, tenant, external_id="alias-b")
    assert a is not None
    assert b is not None
    assert a["id"] != b["id"], "two anchors are never merged by an alias"
    assert {"kind": "anonymous_id", "value": "alias-b"} not in a["identities"]
    conflicts = (await client.get("/v1/identity-conflicts", headers=tenant.secret)).json()["data"]
    assert any(
        c["kind"] == "external_id"
        and c["value"] == "alias-b"
        and c["owner_profile_id"] == b["id"]
        and c["attempted_profile_id"] == a["id"]
        for c in conflicts
    ), conflicts


async def test_alias_of_the_users_own_id_changes_nothing(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    auth = basic(tenant.secret_key)
    await client.post("/v1/identify", json={"userId": "self-1"}, headers=auth)
    response = await client.post(
        "/v1/alias", json={"userId": "self-1", "previousId": "self-1"}, headers=auth
    )
    assert response.status_code == 200
    user = await profile_by(client, tenant, external_id="self-1")
    assert user is not None
    assert user["identities"] == [{"kind": "external_id", "value": "self-1"}]


async def test_a_rejected_message_is_named_in_the_whole_error_shape(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = {
        "batch": [
            {"type": "track", "userId": "whole-1", "event": "Kept"},
            {"type": "track", "event": "No identifier"},
        ]
    }
    response = await client.post("/v1/batch", json=body, headers=basic(tenant.secret_key))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "success": True,
        "rejected": [
            {
                "index": 1,
                "code": "invalid_payload",
                "message": "a message needs a userId or an anonymousId",
                "field": "userId",
            }
        ],
    }
