"""TrackMate through HTTP (seeds/003): session events, identify back-linking, the three binding
methods of server events, the complete timeline, CORS, bad input and tenant isolation."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import orjson
import pytest

from tests.conftest import TenantKeys


def at(minute: str) -> str:
    return f"2026-11-22T10:{minute}:00Z"


async def session_events(
    client: httpx.AsyncClient, tenant: TenantKeys, session: str, *events: dict[str, Any]
) -> httpx.Response:
    body = {"company_id": tenant.public_key, "sessionId": session, "events": list(events)}
    return await client.post("/api/events", json=body)


async def identify(
    client: httpx.AsyncClient, tenant: TenantKeys, session: str | None, **traits: Any
) -> httpx.Response:
    body: dict[str, Any] = {"company_id": tenant.public_key, **traits}
    if session is not None:
        body["sessionId"] = session
    return await client.post("/api/profile", json=body)


async def server_event(
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    identifier: dict[str, str],
    event_type: str,
    *,
    header: str = "X-TrackMate-API-Key",
    **fields: Any,
) -> httpx.Response:
    body = {
        "company_id": tenant.public_key,
        "identifier": identifier,
        "eventType": event_type,
        **fields,
    }
    return await client.post("/api/webhooks/events", json=body, headers={header: tenant.secret_key})


async def timeline(
    client: httpx.AsyncClient, tenant: TenantKeys, profile_id: str, **params: Any
) -> httpx.Response:
    return await client.get(
        f"/api/profiles/{profile_id}/timeline", params=params, headers=tenant.secret
    )


async def test_the_seeds_complete_timeline(client: httpx.AsyncClient, tenant: TenantKeys) -> None:
    """seeds/003 "Complete User Timeline": 7 events, client and server, on one profile."""
    session = "session_123abc"
    browsing = await session_events(
        client,
        tenant,
        session,
        {"eventType": "page_view", "eventData": {"address": "/pricing"}, "timestamp": at("00")},
        {"eventType": "add_to_cart", "eventData": {"product_id": "P-1"}, "timestamp": at("05")},
    )
    assert browsing.status_code == 200, browsing.text
    assert browsing.json() == {"stored": 2, "duplicates": 0, "profileId": None}

    identified = await identify(
        client, tenant, session, email="john@example.com", name="John", timestamp=at("08")
    )
    assert identified.status_code == 200, identified.text
    profile_id = identified.json()["profileId"]
    assert identified.json()["linkedEvents"] == 2

    checkout = await session_events(
        client, tenant, session, {"eventType": "checkout_started", "timestamp": at("10")}
    )
    assert checkout.json() == {"stored": 1, "duplicates": 0, "profileId": profile_id}

    for event_type, minute, data in (
        ("payment_processed", "12", {"amount": 99.99}),
        ("order_shipped", "15", {"carrier": "UPS"}),
        ("email_sent", "16", {"template": "shipped"}),
    ):
        sent = await server_event(
            client,
            tenant,
            {"email": "john@example.com"},
            event_type,
            eventData=data,
            timestamp=at(minute),
        )
        assert sent.status_code == 200, sent.text
        assert sent.json()["profileId"] == profile_id
        assert sent.json()["duplicate"] is False

    response = await timeline(client, tenant, profile_id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["profile"]["id"] == profile_id
    assert body["profile"]["email"] == "john@example.com"
    assert body["profile"]["name"] == "John"
    events = body["events"]
    assert [(e["eventType"], e["occurredAt"][11:16]) for e in events] == [
        ("page_viewed", "10:00"),
        ("product_added", "10:05"),
        ("identified", "10:08"),
        ("checkout_started", "10:10"),
        ("payment_processed", "10:12"),
        ("order_shipped", "10:15"),
        ("email_sent", "10:16"),
    ]
    assert [e["eventName"] for e in events][:2] == ["page_view", "add_to_cart"]
    assert {(e["source"], e["sourceType"]) for e in events[:4]} == {("web", "direct")}
    assert {(e["source"], e["sourceType"]) for e in events[4:]} == {("webhook", "internal")}
    assert all(e["sessionId"] == session for e in events[:4])
    assert events[0]["data"] == {"address": "/pricing"}
    assert events[4]["data"] == {"amount": 99.99}
    assert body["next_cursor"] is None


async def test_identify_with_a_known_email_joins_the_session_to_that_person(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    known = await server_event(client, tenant, {"email": "ann@example.com"}, "signed_up")
    person = known.json()["profileId"]
    await session_events(
        client, tenant, "s-known", {"eventType": "page_view"}, {"eventType": "page_view"}
    )
    identified = await identify(client, tenant, "s-known", email="ANN@example.com ")
    assert identified.json() == {"profileId": person, "linkedEvents": 2}
    events = (await timeline(client, tenant, person)).json()["events"]
    assert [e["eventType"] for e in events] == [
        "signed_up",
        "page_viewed",
        "page_viewed",
        "identified",
    ]


async def test_identify_merges_traits_and_counts_only_earlier_session_events(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await session_events(client, tenant, "s-twice", {"eventType": "page_view"})
    first = await identify(client, tenant, "s-twice", email="bo@example.com", plan="free")
    assert first.json()["linkedEvents"] == 1
    await session_events(client, tenant, "s-twice", {"eventType": "page_view"})
    again = await identify(client, tenant, "s-twice", email="bo@example.com", plan="pro")
    # The page view, the first identify and the second page view came before it.
    assert again.json() == {"profileId": first.json()["profileId"], "linkedEvents": 3}
    profile = (
        await client.get(f"/v1/profiles/{first.json()['profileId']}", headers=tenant.secret)
    ).json()
    assert profile["attributes"] == {"email": "bo@example.com", "plan": "pro"}


async def test_identify_without_a_session_creates_the_person(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await identify(client, tenant, None, phone="+1 415 555 0100", name="Cy")
    assert response.status_code == 200, response.text
    assert response.json()["linkedEvents"] == 0
    found = await client.get(
        "/v1/profiles", params={"phone": "+14155550100"}, headers=tenant.secret
    )
    assert found.json()["data"][0]["id"] == response.json()["profileId"]


async def test_server_event_by_unknown_email_creates_the_anchor(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await server_event(client, tenant, {"email": "new@example.com"}, "invoice_sent")
    profile = (
        await client.get(f"/v1/profiles/{response.json()['profileId']}", headers=tenant.secret)
    ).json()
    assert profile["status"] == "anchor"
    assert {"kind": "email", "value": "new@example.com"} in profile["identities"]


async def test_server_event_by_session_binds_to_the_sessions_profile(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    """Method 2: an anonymous session; the server's event joins it, and the identify that
    follows links both."""
    browsing = await session_events(client, tenant, "s-bind", {"eventType": "page_view"})
    assert browsing.json()["profileId"] is None
    sent = await server_event(client, tenant, {"sessionId": "s-bind"}, "trial_started")
    assert sent.status_code == 200, sent.text
    identified = await identify(client, tenant, "s-bind", email="dee@example.com")
    assert identified.json()["linkedEvents"] == 2
    assert sent.json()["profileId"] == identified.json()["profileId"]


async def test_server_event_by_unknown_session_creates_its_shadow(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    sent = await server_event(client, tenant, {"sessionId": "s-server-first"}, "quote_sent")
    profile = (
        await client.get(f"/v1/profiles/{sent.json()['profileId']}", headers=tenant.secret)
    ).json()
    assert profile["status"] == "shadow"
    assert profile["identities"] == [{"kind": "session_id", "value": "s-server-first"}]
    later = await session_events(client, tenant, "s-server-first", {"eventType": "page_view"})
    assert later.status_code == 200
    events = (await timeline(client, tenant, sent.json()["profileId"])).json()["events"]
    assert [e["eventType"] for e in events] == ["quote_sent", "page_viewed"]


async def test_server_event_by_profile_id(client: httpx.AsyncClient, tenant: TenantKeys) -> None:
    """Method 3: the profileId the identify answered, stored by the tenant's server."""
    person = (await identify(client, tenant, "s-direct", email="eve@example.com")).json()
    sent = await server_event(
        client, tenant, {"userId": person["profileId"]}, "renewal_reminder", header="X-API-Key"
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["profileId"] == person["profileId"]


@pytest.mark.parametrize("user_id", [str(uuid.uuid4()), "671234abc", "0" * 24])
async def test_server_event_for_an_unknown_profile_id_is_404(
    client: httpx.AsyncClient, tenant: TenantKeys, user_id: str
) -> None:
    response = await server_event(client, tenant, {"userId": user_id}, "x")
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "profile_not_found"
    assert response.json()["error"]["field"] == "identifier.userId"


async def test_redelivered_events_are_duplicates(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    event = {"eventType": "page_view", "eventId": "tm-evt-1"}
    first = await session_events(client, tenant, "s-dup", event)
    again = await session_events(client, tenant, "s-dup", event, {"eventType": "scroll"})
    assert first.json()["stored"] == 1
    assert again.json() == {"stored": 1, "duplicates": 1, "profileId": None}

    sent = await server_event(client, tenant, {"email": "f@example.com"}, "paid", eventId="p-1")
    resent = await server_event(client, tenant, {"email": "f@example.com"}, "paid", eventId="p-1")
    assert resent.json() == {**sent.json(), "duplicate": True}


async def test_a_merged_profile_id_answers_with_the_survivors_timeline(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    browsing = await session_events(client, tenant, "s-merge", {"eventType": "page_view"})
    assert browsing.status_code == 200
    shadow = (
        await client.get("/v1/profiles", params={"session_id": "s-merge"}, headers=tenant.secret)
    ).json()["data"][0]["id"]
    known = (await server_event(client, tenant, {"email": "gil@example.com"}, "x")).json()
    await identify(client, tenant, "s-merge", email="gil@example.com")
    response = await timeline(client, tenant, shadow)
    assert response.json()["profile"]["id"] == known["profileId"]
    assert shadow in response.json()["profile"]["merged_from"]
    assert len(response.json()["events"]) == 3


async def test_timeline_pages_oldest_first(client: httpx.AsyncClient, tenant: TenantKeys) -> None:
    events = [{"eventType": f"step_{n}", "timestamp": at(f"{n:02d}")} for n in range(5)]
    await session_events(client, tenant, "s-pages", *events)
    person = (await identify(client, tenant, "s-pages", email="hal@example.com")).json()
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await timeline(client, tenant, person["profileId"], **params)).json()
        seen += [e["eventType"] for e in page["events"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen[:5] == [f"step_{n}" for n in range(5)]
    assert seen[5:] == ["identified"]


# --- CORS and text/plain: the browser calls the public routes without a preflight --------


async def test_public_routes_accept_json_sent_as_text_plain_and_answer_cors(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = {"company_id": tenant.public_key, "sessionId": "s-cors", "events": [{"eventType": "x"}]}
    response = await client.post(
        "/api/events",
        content=orjson.dumps(body),
        headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": "https://shop.example"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert "Retry-After" in response.headers["access-control-expose-headers"]


@pytest.mark.parametrize("path", ["/api/events", "/api/profile", "/ingest", "/api/ingest"])
async def test_public_routes_answer_a_preflight(client: httpx.AsyncClient, path: str) -> None:
    response = await client.options(
        path,
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "Content-Type" in response.headers["access-control-allow-headers"]


async def test_public_errors_carry_cors_so_the_page_can_read_them(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/events", json={"company_id": "pk_nope"}, headers={"Origin": "https://a.example"}
    )
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == "*"


async def test_secret_key_routes_send_no_cors_headers(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    origin = {"Origin": "https://evil.example"}
    sent = await client.post(
        "/api/webhooks/events",
        json={"company_id": tenant.public_key, "identifier": {"email": "a@b.co"}, "eventType": "x"},
        headers={"X-TrackMate-API-Key": tenant.secret_key, **origin},
    )
    assert sent.status_code == 200
    read = await client.get(
        f"/api/profiles/{sent.json()['profileId']}/timeline", headers={**tenant.secret, **origin}
    )
    preflight = await client.options(
        "/api/webhooks/events", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    for response in (sent, read, preflight):
        assert "access-control-allow-origin" not in response.headers


# --- bad input: a clear 4xx in the error shape, never a 500 -------------------------------


def valid_bodies(tenant: TenantKeys) -> dict[str, dict[str, Any]]:
    return {
        "/api/events": {
            "company_id": tenant.public_key,
            "sessionId": "s-bad",
            "events": [{"eventType": "page_view"}],
        },
        "/api/profile": {
            "company_id": tenant.public_key,
            "sessionId": "s-bad",
            "email": "bad@example.com",
        },
        "/api/webhooks/events": {
            "company_id": tenant.public_key,
            "identifier": {"email": "bad@example.com"},
            "eventType": "paid",
        },
    }


def headers_for(path: str, tenant: TenantKeys) -> dict[str, str]:
    return {"X-TrackMate-API-Key": tenant.secret_key} if "webhooks" in path else {}


ROUTES = ["/api/events", "/api/profile", "/api/webhooks/events"]


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize(
    "raw", [b'{"company_id": "pk_', b"\xff\xfe\x00garbage", b"", b"[1, 2]", b'"text"']
)
async def test_malformed_bodies_are_400(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str, raw: bytes
) -> None:
    response = await client.post(
        path, content=raw, headers={**headers_for(path, tenant), "Content-Type": "text/plain"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "malformed_json"


WRONG: list[tuple[str, dict[str, Any], str]] = [
    ("/api/events", {"sessionId": 12}, "sessionId"),
    ("/api/events", {"events": {"eventType": "x"}}, "events"),
    ("/api/events", {"events": []}, "events"),
    ("/api/events", {"events": [{"eventType": "ok"}, {"eventType": 5}]}, "events[1].eventType"),
    ("/api/events", {"events": [{"eventData": {}}]}, "events[0].eventType"),
    ("/api/events", {"events": [{"eventType": "x", "eventData": [1]}]}, "events[0].eventData"),
    ("/api/events", {"events": [{"eventType": "x", "timestamp": "soon"}]}, "events[0].timestamp"),
    (
        "/api/events",
        {"events": [{"eventType": "purchase", "eventData": {"amount": "ten"}}]},
        "events[0].eventData.amount",
    ),
    ("/api/profile", {"email": 42}, "email"),
    ("/api/profile", {"email": None}, "email"),
    ("/api/profile", {"sessionId": ["s"]}, "sessionId"),
    ("/api/webhooks/events", {"identifier": {}}, "identifier"),
    ("/api/webhooks/events", {"identifier": {"email": "a@b.co", "sessionId": "s"}}, "identifier"),
    ("/api/webhooks/events", {"identifier": "a@b.co"}, "identifier"),
    ("/api/webhooks/events", {"identifier": {"phone": "+14155550100"}}, "identifier.phone"),
    ("/api/webhooks/events", {"eventType": None}, "eventType"),
    ("/api/webhooks/events", {"eventData": "x"}, "eventData"),
]


@pytest.mark.parametrize(("path", "change", "field"), WRONG)
async def test_wrong_or_missing_fields_are_422_naming_the_field(
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    path: str,
    change: dict[str, Any],
    field: str,
) -> None:
    body = {**valid_bodies(tenant)[path], **change}
    if path == "/api/profile" and "email" in change and change["email"] is None:
        body.pop("email")
    response = await client.post(path, json=body, headers=headers_for(path, tenant))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


async def test_nothing_of_a_rejected_session_request_is_stored(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await session_events(
        client, tenant, "s-atomic", {"eventType": "page_view"}, {"eventType": ""}
    )
    assert response.status_code == 422
    assert response.json()["error"]["index"] == 1
    found = await client.get(
        "/v1/profiles", params={"session_id": "s-atomic"}, headers=tenant.secret
    )
    assert found.json()["data"] == []


@pytest.mark.parametrize("path", ROUTES)
async def test_oversized_bodies_are_413(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str
) -> None:
    body = {**valid_bodies(tenant)[path], "padding": "x" * 600_000}
    response = await client.post(path, json=body, headers=headers_for(path, tenant))
    assert response.status_code == 413, response.text


async def test_an_event_over_32_kb_is_413(client: httpx.AsyncClient, tenant: TenantKeys) -> None:
    big = {"eventType": "x", "eventData": {"blob": "y" * 40_000}}
    response = await session_events(client, tenant, "s-big", big)
    assert response.status_code == 413
    assert response.json()["error"]["field"] == "events[0]"


async def test_too_many_session_events_are_rejected(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    events = [{"eventType": "x"}] * 101
    response = await session_events(client, tenant, "s-many", *events)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "events"


# --- keys: company_id is the public key; the server route needs the key's own tenant -------


@pytest.mark.parametrize("path", ["/api/events", "/api/profile"])
@pytest.mark.parametrize("company_id", [None, "", 42, "pk_unknown", "TM-ABC", "secret"])
async def test_public_routes_refuse_an_unknown_or_malformed_company_id(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str, company_id: object
) -> None:
    body = dict(valid_bodies(tenant)[path])
    if company_id is None:
        body.pop("company_id")
    else:
        body["company_id"] = tenant.secret_key if company_id == "secret" else company_id
    response = await client.post(path, json=body)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthorized"


async def test_server_route_needs_a_secret_key(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = valid_bodies(tenant)["/api/webhooks/events"]
    missing = await client.post("/api/webhooks/events", json=body)
    wrong = await client.post(
        "/api/webhooks/events", json=body, headers={"X-TrackMate-API-Key": "sk_wrong"}
    )
    public = await client.post(
        "/api/webhooks/events", json=body, headers={"X-TrackMate-API-Key": tenant.public_key}
    )
    assert (missing.status_code, wrong.status_code, public.status_code) == (401, 401, 403)


async def test_server_route_refuses_a_company_id_of_another_tenant(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    body = {**valid_bodies(tenant)["/api/webhooks/events"], "company_id": other_tenant.public_key}
    response = await client.post(
        "/api/webhooks/events", json=body, headers={"X-TrackMate-API-Key": tenant.secret_key}
    )
    assert response.status_code == 403
    unknown = await client.post(
        "/api/webhooks/events",
        json={**body, "company_id": "pk_unknown"},
        headers={"X-TrackMate-API-Key": tenant.secret_key},
    )
    assert unknown.status_code == 403
    missing = await client.post(
        "/api/webhooks/events",
        json={k: v for k, v in body.items() if k != "company_id"},
        headers={"X-TrackMate-API-Key": tenant.secret_key},
    )
    assert missing.status_code == 422
    assert missing.json()["error"]["field"] == "company_id"


# --- tenant isolation ------------------------------------------------------------------------


async def test_the_same_session_in_two_tenants_is_two_people(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    await session_events(client, tenant, "s-shared", {"eventType": "page_view"})
    await session_events(client, other_tenant, "s-shared", {"eventType": "page_view"})
    mine = await identify(client, tenant, "s-shared", email="same@example.com")
    theirs = await identify(client, other_tenant, "s-shared", email="same@example.com")
    assert mine.json()["linkedEvents"] == theirs.json()["linkedEvents"] == 1
    assert mine.json()["profileId"] != theirs.json()["profileId"]


async def test_other_tenant_cannot_read_a_timeline_or_bind_to_a_profile(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    person = (await identify(client, tenant, "s-iso", email="iso@example.com")).json()
    read = await timeline(client, other_tenant, person["profileId"])
    assert read.status_code == 404
    bound = await server_event(client, other_tenant, {"userId": person["profileId"]}, "x")
    assert bound.status_code == 404
    by_session = await server_event(client, other_tenant, {"sessionId": "s-iso"}, "x")
    assert by_session.json()["profileId"] != person["profileId"]
    events = (await timeline(client, tenant, person["profileId"])).json()["events"]
    assert [e["eventType"] for e in events] == ["identified"]


async def test_timeline_needs_a_secret_key(client: httpx.AsyncClient, tenant: TenantKeys) -> None:
    person = (await identify(client, tenant, "s-pk", email="pk@example.com")).json()
    public = await client.get(
        f"/api/profiles/{person['profileId']}/timeline", headers=tenant.public
    )
    missing = await client.get(f"/api/profiles/{person['profileId']}/timeline")
    unknown = await timeline(client, tenant, str(uuid.uuid4()))
    bad = await timeline(client, tenant, "not-a-uuid")
    bad_cursor = await timeline(client, tenant, person["profileId"], cursor="%%%")
    assert (public.status_code, missing.status_code, unknown.status_code) == (403, 401, 404)
    assert (bad.status_code, bad_cursor.status_code) == (422, 422)
