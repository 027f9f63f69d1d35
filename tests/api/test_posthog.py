"""PostHog's capture routes through HTTP (decision 66): posthog-python's and posthog-js's
captured requests replayed as they were sent (gzip, gzip as text/plain, `data=` forms; decision
69), the body shapes posthog-js sends (gzip as text/plain, base64, `data=`
forms, a bare list with `properties.token`), PostHog's identity semantics through the read API,
idempotency, clock skew, the batch lane, bad input and the other tenant's key."""

from __future__ import annotations

import base64
import gzip
import json
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from journeyline.api.state import AppState
from tests.conftest import TenantKeys

FIXTURES = Path(__file__).parents[1] / "fixtures" / "analytics_clients"
PATHS = ["/batch/", "/batch", "/capture/", "/capture", "/e/", "/e", "/i/v0/e/", "/i/v0/e"]


def captured() -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = json.loads(
        (FIXTURES / "posthog_captured_requests.json").read_text()
    )
    return requests


def replayed(request: dict[str, Any], key: str) -> tuple[bytes, dict[str, str]]:
    document = {**request["body"], "api_key": key}
    body = orjson.dumps(document)
    headers = {
        name: value
        for name, value in request["headers"].items()
        if name.lower() in ("user-agent", "content-type", "content-encoding", "accept")
    }
    if request["headers"].get("Content-Encoding") == "gzip":
        body = gzip.compress(body)
    return body, headers


CAPTURE_KEY = "pk_capture"


def recorded(name: str) -> list[dict[str, Any]]:
    """A capture of tests/e2e/sdk/capture.py: each request as the SDK sent it."""
    requests: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text())
    return requests


def as_sent(request: dict[str, Any], key: str) -> tuple[str, bytes, dict[str, str]]:
    """The request again, with `key` where the capture's key was, its body encoded the way it
    was on the wire (gzip by its magic bytes, a base64 `data=` form, or JSON)."""
    path = request["path"].replace(CAPTURE_KEY, key)
    headers = {
        name: value
        for name, value in request["headers"].items()
        if name.lower() in ("content-type", "content-encoding", "accept")
    }
    if request["body"] is None:
        return path, b"", headers
    document = orjson.dumps(request["body"]).replace(CAPTURE_KEY.encode(), key.encode())
    if "body_base64" not in request:
        return path, document, headers
    raw = base64.b64decode(request["body_base64"])
    if raw[:2] == b"\x1f\x8b":
        return path, gzip.compress(document), headers
    form = urllib.parse.urlencode({"data": base64.b64encode(document).decode()})
    return path, form.encode(), headers


async def replay(
    client: httpx.AsyncClient, requests: list[dict[str, Any]], key: str
) -> list[httpx.Response]:
    answers = []
    for request in requests:
        path, body, headers = as_sent(request, key)
        answers.append(
            await client.request(request["method"], path, content=body or None, headers=headers)
        )
    return answers


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


def event(name: str, distinct_id: str, **extra: Any) -> dict[str, Any]:
    return {"event": name, "distinct_id": distinct_id, **extra}


async def send(
    client: httpx.AsyncClient, key: str, *events: dict[str, Any], path: str = "/batch/"
) -> httpx.Response:
    return await client.post(path, json={"api_key": key, "batch": list(events)})


async def describe_group(
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    who: str,
    email: str,
    key: str,
    described: dict[str, Any],
) -> None:
    """`who` (with `email`) identified, then a `$groupidentify` of company `key` as `described`."""
    group = {"$group_type": "company", "$group_key": key, "$group_set": described}
    response = await send(
        client,
        tenant.secret_key,
        event("$identify", who, **{"$set": {"email": email}}),
        event("$groupidentify", who, properties=group),
    )
    assert response.json() == {"status": 1}, response.text


async def test_the_captured_sdk_requests_are_taken_as_sent(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    for request in captured():
        body, headers = replayed(request, tenant.secret_key)
        response = await client.post(request["path"], content=body, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json() == {"status": 1}
    user = await profile_by(client, tenant, external_id="u1")
    assert user is not None
    assert user["attributes"]["email"] == "a@b.com"
    assert user["attributes"]["plan"] == "pro"
    # The alias (anon1 → u1) put the anonymous id on the user.
    assert {"kind": "anonymous_id", "value": "anon1"} in user["identities"]
    types = {e["event_type"] for e in await events_of(client, tenant, user["id"])}
    assert {"purchase_completed", "identified", "aliased"} <= types
    assert await profile_by(client, tenant, external_id="u2") is not None
    # A redelivery (same uuids) is all duplicates.
    before = len(await events_of(client, tenant, user["id"]))
    for request in captured():
        body, headers = replayed(request, tenant.secret_key)
        response = await client.post(request["path"], content=body, headers=headers)
        assert response.status_code == 200, response.text
    assert len(await events_of(client, tenant, user["id"])) == before


async def test_posthog_js_captured_requests_are_taken_as_sent(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    # posthog-js 1.449.2 in Chromium, default and batching delivery (tests/e2e/sdk/capture.py):
    # its remote config, /flags as a base64 `data=` form, events gzip-compressed as text/plain.
    requests = recorded("browser_posthog_captured_requests.json")
    assert any("body_base64" in r and r["path"].startswith("/flags") for r in requests)
    assert any(r["headers"].get("content-type") == "text/plain" for r in requests)
    answers = await replay(client, requests, tenant.public_key)
    assert [a.status_code for a in answers] == [200] * len(requests), [a.text for a in answers]
    captures = [a for r, a in zip(requests, answers, strict=True) if r["path"].startswith("/e/")]
    assert all(a.json() == {"status": 1} for a in captures)
    user = await profile_by(client, tenant, external_id="capture-user")
    assert user is not None
    attributes = user["attributes"]
    assert (attributes["email"], attributes["name"]) == ("capture@contoso.com", "Cap Ture")
    assert (attributes["tier"], attributes["signup"], attributes["first_seen"]) == (
        "gold",
        "web",
        "pricing",
    )
    assert attributes["company"]["name"] == "Contoso"
    # Each scenario's anonymous page view collapsed into the user ($identify).
    devices = {
        e["properties"]["$device_id"]
        for r in requests
        if isinstance(r["body"], dict)
        for e in r["body"].get("batch", [])
        if "$device_id" in e.get("properties", {})
    }
    assert len(devices) == 2
    for device in devices:
        found = await profile_by(client, tenant, anonymous_id=device)
        assert found is not None
        assert found["id"] == user["id"]
    history = await events_of(client, tenant, user["id"])
    types = {e["event_type"] for e in history}
    assert {"page_viewed", "identified", "group_joined", "purchase_completed"} <= types
    # Sent again (same uuids): nothing new.
    await replay(client, requests, tenant.public_key)
    assert len(await events_of(client, tenant, user["id"])) == len(history)


async def test_posthog_python_captured_requests_are_taken_as_sent(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    # posthog-python 7.91.1, plain and gzip=True (tests/e2e/sdk/capture.py).
    requests = recorded("posthog_python_captured_requests.json")
    assert {r["headers"].get("Content-Encoding") for r in requests} == {None, "gzip"}
    answers = await replay(client, requests, tenant.secret_key)
    assert [a.json() for a in answers] == [{"status": 1}] * len(requests)
    user = await profile_by(client, tenant, external_id="capture-user")
    assert user is not None
    assert (user["attributes"]["email"], user["attributes"]["plan"]) == (
        "capture@contoso.com",
        "pro",
    )
    assert user["attributes"]["first_seen"] == "pricing"
    # The page view's visitor ($identify) and the aliased device are the user.
    for device in ("anon-py", "device-py"):
        anonymous = await profile_by(client, tenant, anonymous_id=device)
        assert anonymous is not None
        assert anonymous["id"] == user["id"], device
    history = await events_of(client, tenant, user["id"])
    types = [e["event_type"] for e in history]
    # Plain then gzip: the same calls twice, each with its own uuid.
    assert types.count("purchase_completed") == 2
    assert types.count("aliased") == 2
    # set_once() is an attribute change, not an event named "set_once".
    assert "set_once" not in types
    await replay(client, requests, tenant.secret_key)
    assert len(await events_of(client, tenant, user["id"])) == len(history)


@pytest.mark.parametrize("path", PATHS)
async def test_every_capture_path_takes_one_event_with_the_key_anywhere(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str
) -> None:
    slug = path.strip("/").replace("/", "-")
    one = event("signed up", f"p-{slug}", api_key=tenant.public_key)
    assert (await client.post(path, json=one)).json() == {"status": 1}
    listed = [event("clicked", f"p-{slug}", properties={"token": tenant.public_key})]
    assert (await client.post(path, json=listed)).json() == {"status": 1}
    query = await client.post(
        path, params={"api_key": tenant.public_key}, json=[event("viewed", f"p-{slug}")]
    )
    assert query.json() == {"status": 1}, query.text
    user = await profile_by(client, tenant, external_id=f"p-{slug}")
    assert user is not None
    types = {e["event_type"] for e in await events_of(client, tenant, user["id"])}
    assert {"signed_up", "clicked", "viewed"} <= types


async def test_posthog_js_bodies_gzip_as_text_plain_base64_and_forms(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    def batch(name: str) -> bytes:
        return orjson.dumps(
            [event(name, "js-1", properties={"token": tenant.public_key, "$is_identified": True})]
        )

    gzipped = await client.post(
        "/e/",
        params={"compression": "gzip-js", "ver": "1.200.0"},
        content=gzip.compress(batch("gz")),
        headers={"Content-Type": "text/plain"},
    )
    assert gzipped.json() == {"status": 1}, gzipped.text
    encoded = base64.b64encode(batch("b64")).decode()
    form = await client.post(
        "/e/",
        params={"compression": "base64"},
        content="data=" + urllib.parse.quote(encoded),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.json() == {"status": 1}, form.text
    bare = await client.post(
        "/e/",
        params={"compression": "base64"},
        content=encoded.encode(),
        headers={"Content-Type": "text/plain"},
    )
    assert bare.json() == {"status": 1}, bare.text
    user = await profile_by(client, tenant, external_id="js-1")
    assert user is not None
    types = {e["event_type"] for e in await events_of(client, tenant, user["id"])}
    assert {"gz", "b64"} <= types


async def test_identify_collapses_the_anonymous_shadow_and_set_once_never_overwrites(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    anon = "0190-anon-device"
    browser = {"$device_id": anon, "$is_identified": False}
    response = await send(
        client,
        tenant.public_key,
        event("$pageview", anon, properties={**browser, "$current_url": "https://a.test/"}),
        event("$set", anon, properties={**browser, "$set_once": {"first_visit": "home"}}),
    )
    assert response.json() == {"status": 1}, response.text
    shadow = await profile_by(client, tenant, anonymous_id=anon)
    assert shadow is not None
    assert shadow["attributes"] == {"first_visit": "home"}
    response = await send(
        client,
        tenant.public_key,
        event(
            "$identify",
            "user-7",
            properties={
                "$anon_distinct_id": anon,
                "$device_id": anon,
                "$set": {"email": "seven@acme.io", "plan": "pro"},
                "$set_once": {"first_visit": "pricing", "signup": "2026-01"},
            },
        ),
        event("$set", "user-7", **{"$set": {"plan": "team"}, "$set_once": {"plan": "free"}}),
    )
    assert response.json() == {"status": 1}, response.text
    user = await profile_by(client, tenant, external_id="user-7")
    assert user is not None
    assert {"kind": "anonymous_id", "value": anon} in user["identities"]
    assert user["attributes"]["first_visit"] == "home"
    assert user["attributes"]["signup"] == "2026-01"
    assert user["attributes"]["plan"] == "team"
    assert user["attributes"]["email"] == "seven@acme.io"
    types = [e["event_type"] for e in await events_of(client, tenant, user["id"])]
    assert {"page_viewed", "identified"} <= set(types)


async def test_group_identify_is_the_persons_crm_company(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    described = {"name": "Acme Co", "domain": "acme-co.io"}
    await describe_group(client, tenant, "g-user", "g@acme-co.io", "acme-co", described)
    user = await profile_by(client, tenant, external_id="g-user")
    assert user is not None
    assert user["attributes"]["company"]["name"] == "Acme Co"
    persons = (await client.get("/v1/crm/persons", headers=tenant.secret)).json()["data"]
    [person] = [p for p in persons if p["profile_id"] == user["id"]]
    companies = (await client.get("/v1/crm/companies", headers=tenant.secret)).json()["data"]
    [company] = [c for c in companies if c["id"] == person["company_id"]]
    assert (company["name"], company["domain"]) == ("Acme Co", "acme-co.io")


async def test_groups_on_a_captured_event_make_the_persons_crm_company(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    # The company is described once by $groupidentify; a colleague's events only carry
    # `$groups` (posthog-js adds it to every event after `group()`). The CRM keys companies by
    # domain or name: the colleague's email at globex.io names the same one (decision 69).
    described = {"name": "Globex", "domain": "globex.io"}
    await describe_group(client, tenant, "h-first", "h1@globex.io", "globex", described)
    groups = {"$groups": {"company": "globex"}}
    response = await send(
        client,
        tenant.secret_key,
        event("$identify", "h-second", **{"$set": {"email": "h2@globex.io"}}),
        event("clicked", "h-second", uuid="h-2-1", properties={**groups, "button": "buy"}),
        event("clicked", "h-second", uuid="h-2-2", properties=groups),
    )
    assert response.json() == {"status": 1}, response.text
    second = await profile_by(client, tenant, external_id="h-second")
    assert second is not None
    assert second["attributes"]["company"] == {"id": "globex"}
    persons = (await client.get("/v1/crm/persons", headers=tenant.secret)).json()["data"]
    by_profile = {p["profile_id"]: p for p in persons}
    first = await profile_by(client, tenant, external_id="h-first")
    assert first is not None
    assert by_profile[second["id"]]["company_id"] == by_profile[first["id"]]["company_id"]
    # Both clicks are stored as themselves; the company patch came once for the request.
    names = [e["event_name"] for e in await events_of(client, tenant, second["id"])]
    assert names.count("clicked") == 2
    assert names.count("identify") == 2
    again = await send(
        client, tenant.secret_key, event("clicked", "h-second", uuid="h-2-1", properties=groups)
    )
    assert again.json() == {"status": 1}
    names_after = [e["event_name"] for e in await events_of(client, tenant, second["id"])]
    assert names_after == names, "a redelivery (patch included) is a duplicate"


async def test_a_bare_group_key_joins_the_crm_company_described_with_it(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    """`$groups` alone, from people whose email names no company (free mail, or none): the
    group key joins them to the company a `$groupidentify` described with it, whoever sent
    that and in whichever request; a key never described makes no company (decision 73)."""
    await describe_group(
        client, tenant, "k-admin", "admin@gmail.com", "initech", {"name": "Initech"}
    )
    response = await send(
        client,
        tenant.secret_key,
        event("$identify", "k-member", **{"$set": {"email": "member@gmail.com"}}),
        event("clicked", "k-member", properties={"$groups": {"company": "initech"}}),
        event("clicked", "k-anon", properties={"$groups": {"company": "initech"}}),
        event("clicked", "k-lone", properties={"$groups": {"company": "never-described"}}),
    )
    assert response.json() == {"status": 1}, response.text
    persons = (await client.get("/v1/crm/persons", headers=tenant.secret)).json()["data"]
    companies = (await client.get("/v1/crm/companies", headers=tenant.secret)).json()["data"]
    [initech] = [c for c in companies if c["name"] == "Initech"]
    by_profile = {p["profile_id"]: p for p in persons}
    for who in ("k-admin", "k-member", "k-anon"):
        profile = await profile_by(client, tenant, external_id=who)
        assert profile is not None, who
        assert by_profile[profile["id"]]["company_id"] == initech["id"], who
    lone = await profile_by(client, tenant, external_id="k-lone")
    assert lone is not None
    assert lone["attributes"]["company"] == {"id": "never-described"}
    assert by_profile[lone["id"]]["company_id"] is None
    assert [c["name"] for c in companies] == ["Initech"], "a bare key makes no company"


async def test_capture_with_set_keeps_the_event_and_applies_the_patch(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await send(
        client,
        tenant.secret_key,
        event(
            "order completed",
            "buyer-1",
            uuid="0f5a3c1e-0000-4000-8000-000000000001",
            properties={"order_id": "O-1", "revenue": 10, "$set": {"email": "b@x.io"}},
        ),
    )
    assert response.json() == {"status": 1}, response.text
    user = await profile_by(client, tenant, external_id="buyer-1")
    assert user is not None
    assert user["attributes"]["email"] == "b@x.io"
    [order] = [
        e
        for e in await events_of(client, tenant, user["id"])
        if e["event_type"] == "purchase_completed"
    ]
    assert order["payload"]["order_id"] == "O-1"
    assert "$set" not in order["payload"]


async def test_clock_skew_is_corrected_by_sent_at(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    # The client's clock is a day ahead; it stamped the event 10 s before it sent the batch.
    ahead = datetime.now(UTC) + timedelta(days=1)
    response = await client.post(
        "/batch/",
        json={
            "api_key": tenant.secret_key,
            "sent_at": ahead.isoformat(),
            "batch": [
                event("skewed", "skew-1", timestamp=(ahead - timedelta(seconds=10)).isoformat())
            ],
        },
    )
    assert response.json() == {"status": 1}, response.text
    user = await profile_by(client, tenant, external_id="skew-1")
    assert user is not None
    [stored] = await events_of(client, tenant, user["id"])
    at = datetime.fromisoformat(stored["occurred_at"].replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - timedelta(seconds=10) - at).total_seconds()) < 60


async def test_one_bad_event_fails_alone_and_is_named(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await send(
        client,
        tenant.secret_key,
        event("fine", "bad-batch"),
        {"event": "no distinct id"},
        event("", "bad-batch"),
        event("also fine", "bad-batch"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == 1
    assert [item["index"] for item in body["rejected"]] == [1, 2]
    user = await profile_by(client, tenant, external_id="bad-batch")
    assert user is not None
    assert len(await events_of(client, tenant, user["id"])) == 2
    all_bad = await send(client, tenant.secret_key, {"event": "x"})
    assert all_bad.status_code == 400


async def test_historical_migration_goes_to_the_batch_lane(
    client: httpx.AsyncClient, app_state: AppState, tenant: TenantKeys
) -> None:
    document = {
        "api_key": tenant.secret_key,
        "historical_migration": True,
        "batch": [
            event("imported", "hist-1", timestamp="2024-03-01T10:00:00+00:00", uuid=f"h-{i}")
            for i in range(3)
        ],
    }
    response = await client.post("/batch/", json=document)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == 1
    await app_state.queue.drain()  # type: ignore[attr-defined]  # the embedded worker's
    job = (await client.get(f"/tenant/ingest/jobs/{body['job_id']}", headers=tenant.secret)).json()
    assert (job["status"], job["stored"]) == ("completed", 3), job
    user = await profile_by(client, tenant, external_id="hist-1")
    assert user is not None
    stored = await events_of(client, tenant, user["id"])
    assert {e["occurred_at"][:10] for e in stored} == {"2024-03-01"}
    public = await client.post("/batch/", json={**document, "api_key": tenant.public_key})
    assert public.status_code == 403


@pytest.mark.parametrize(
    ("content", "headers", "params"),
    [
        (b"", {}, {}),
        (b"not json", {}, {}),
        (b"\x1f\x8b\x08garbage", {"Content-Type": "text/plain"}, {}),
        (b"!!!", {}, {"compression": "base64"}),
        (b"data=", {"Content-Type": "application/x-www-form-urlencoded"}, {}),
        (b"12", {}, {}),
        (b'{"batch": {}}', {}, {}),
        (b'{"batch": []}', {}, {}),
        (b"x", {"Content-Encoding": "br"}, {}),
    ],
)
async def test_bad_bodies_are_a_clear_4xx(
    client: httpx.AsyncClient, content: bytes, headers: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.post("/batch/", content=content, headers=headers, params=params)
    assert 400 <= response.status_code < 500, response.text
    assert "error" in response.json()


async def test_bad_keys_are_401_and_a_secret_key_in_the_url_403(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    one = [event("x", "k-1")]
    assert (await client.post("/batch/", json=one)).status_code == 401
    wrong = await client.post("/batch/", json={"api_key": "phc_nope", "batch": one})
    assert wrong.status_code == 401
    in_url = await client.post("/e/", params={"api_key": tenant.secret_key}, json=one)
    assert in_url.status_code == 403


async def test_a_gzip_bomb_is_413(client: httpx.AsyncClient, tenant: TenantKeys) -> None:
    bomb = gzip.compress(b"[" + b" " * (6 * 1024 * 1024) + b"]")
    response = await client.post("/e/", content=bomb, headers={"Content-Type": "text/plain"})
    assert response.status_code == 413


async def test_the_other_tenants_key_writes_only_into_its_own_tenant(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    response = await send(client, other_tenant.secret_key, event("$identify", "iso-ph"))
    assert response.json() == {"status": 1}
    assert await profile_by(client, tenant, external_id="iso-ph") is None
    assert await profile_by(client, other_tenant, external_id="iso-ph") is not None
