"""WS /v1/stream through Starlette's TestClient: keys, the tenant's own mutations only, in
commit order, keepalive pings, and a slow client told to resync."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient, WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from journeyline.app import create_app
from journeyline.config import RealtimeSettings, Settings
from journeyline.tenancy.sessions import COOKIE
from tests.conftest import ADMIN_TOKEN, TenantKeys


def live(settings: Settings, **realtime: Any) -> Iterator[TestClient]:
    tuned = settings.model_copy(update={"realtime": RealtimeSettings(**realtime)})
    with TestClient(create_app(tuned)) as client:
        yield client


@pytest.fixture
def http(settings: Settings) -> Iterator[TestClient]:
    yield from live(settings)


def make_tenant(http: TestClient, name: str) -> TenantKeys:
    response = http.post(
        "/admin/tenants", json={"name": name}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return TenantKeys(body["tenant_id"], body["public_key"], body["secret_key"])


def track(http: TestClient, tenant: TenantKeys, action: str, **fields: Any) -> dict[str, Any]:
    body = {"type": "track", "action": action, **fields}
    response = http.post("/v1/events", json=body, headers=tenant.secret)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["results"][0]
    return result


def until(ws: WebSocketTestSession, kind: str) -> list[dict[str, Any]]:
    """Every message up to and including the first of `kind`."""
    seen: list[dict[str, Any]] = []
    while True:
        item: dict[str, Any] = ws.receive_json()
        seen.append(item)
        if item["type"] == kind:
            return seen


def test_a_client_hears_its_tenants_mutations_in_commit_order(http: TestClient) -> None:
    tenant = make_tenant(http, "stream")
    with http.websocket_connect(f"/v1/stream?key={tenant.secret_key}") as ws:
        assert ws.receive_json() == {"type": "ready", "tenant_id": tenant.tenant_id, "data": {}}
        first = track(http, tenant, "page_view", email="live@stream.io", campaignId="fall")
        second = track(
            http,
            tenant,
            "purchase",
            email="live@stream.io",
            properties={"order_id": "S-1", "total": 9, "currency": "EUR"},
        )
        heard = until(ws, "order.updated")
        heard += until(ws, "crm.deal")
    events = [m["data"] for m in heard if m["type"] == "event.ingested"]
    assert [e["event_id"] for e in events] == [first["event_id"], second["event_id"]]
    assert events[0]["touchpoint_id"] == first["touchpoint_id"]
    assert {m["tenant_id"] for m in heard} == {tenant.tenant_id}
    types = {m["type"] for m in heard}
    assert {"profile.created", "graph.nodes", "graph.edges", "crm.person"} <= types


def test_another_tenants_client_hears_nothing_of_it(http: TestClient) -> None:
    mine, theirs = make_tenant(http, "stream-a"), make_tenant(http, "stream-b")
    with http.websocket_connect(f"/v1/stream?key={theirs.secret_key}") as ws:
        assert ws.receive_json()["type"] == "ready"
        track(http, mine, "page_view", email="a@stream.io")
        # Dispatch follows commit order: the first thing B hears is B's own later event.
        own = track(http, theirs, "page_view", email="b@stream.io")
        heard = until(ws, "event.ingested")
    assert heard[-1]["data"]["event_id"] == own["event_id"]
    assert {m["tenant_id"] for m in heard} == {theirs.tenant_id}


def test_an_operator_merge_is_heard(http: TestClient) -> None:
    tenant = make_tenant(http, "stream-merge")
    kept = track(http, tenant, "page_view", email="kept@stream.io")
    gone = track(http, tenant, "page_view", email="gone@stream.io")
    with http.websocket_connect(f"/v1/stream?key={tenant.secret_key}") as ws:
        ws.receive_json()
        response = http.post(
            f"/v1/profiles/{kept['customer_id']}/merge",
            json={"profile_id": gone["customer_id"]},
            headers=tenant.secret,
        )
        assert response.status_code == 200, response.text
        [*_, merged] = until(ws, "profile.merged")
    assert merged["data"] == {
        "from_profile_id": gone["customer_id"],
        "into_profile_id": kept["customer_id"],
        "reason": "manual",
    }


@pytest.mark.parametrize("key", [None, "sk_not_a_key", "public"])
def test_a_missing_invalid_or_public_key_is_refused(http: TestClient, key: str | None) -> None:
    tenant = make_tenant(http, "stream-refused")
    presented = tenant.public_key if key == "public" else key
    path = "/v1/stream" if presented is None else f"/v1/stream?key={presented}"
    with pytest.raises(WebSocketDisconnect) as refused, http.websocket_connect(path) as ws:
        ws.receive_json()
    assert refused.value.code == 1008
    assert refused.value.reason


def test_silence_is_broken_by_pings(settings: Settings) -> None:
    for http in live(settings, ping_seconds=0.05):
        tenant = make_tenant(http, "stream-ping")
        with http.websocket_connect(f"/v1/stream?key={tenant.secret_key}") as ws:
            assert ws.receive_json()["type"] == "ready"
            assert ws.receive_json() == {"type": "ping", "tenant_id": tenant.tenant_id, "data": {}}


def test_a_client_that_falls_behind_is_told_to_resync(settings: Settings) -> None:
    """A queue of 2 cannot hold one identify's mutations (event, profile, person, graph): the
    client gets `resync`, then whatever came after the overflow."""
    for http in live(settings, client_queue=2):
        tenant = make_tenant(http, "stream-slow")
        with http.websocket_connect(f"/v1/stream?key={tenant.secret_key}") as ws:
            assert ws.receive_json()["type"] == "ready"
            track(http, tenant, "page_view", email="slow@stream.io", campaignId="fall")
            heard = until(ws, "resync")
        assert heard[-1]["data"]["reason"] == "the client fell behind"


def own_origin() -> dict[str, str]:
    """A fresh dict each time (the test client adds its handshake headers to the one given)."""
    return {"origin": "http://testserver"}


def sign_in(http: TestClient, tenant: TenantKeys) -> str:
    """Sign in through the dashboard's form (its CSRF token and nonce cookie); the session
    cookie's value."""
    page = http.get("/app/sign-in")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    signed = http.post(
        "/app/sign-in",
        data={"key": tenant.secret_key, "csrf": found.group(1)},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    return signed.cookies[COOKIE]


def refused(http: TestClient, path: str, headers: dict[str, str] | None = None) -> str:
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        http.websocket_connect(path, headers=headers or {}) as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 1008
    reason: str = closed.value.reason
    return reason


def test_the_dashboard_session_signs_the_socket_in(http: TestClient) -> None:
    tenant = make_tenant(http, "stream-session")
    sign_in(http, tenant)
    with http.websocket_connect("/v1/stream", headers=own_origin()) as ws:
        assert ws.receive_json()["tenant_id"] == tenant.tenant_id
    http.cookies.clear()
    http.cookies.set(COOKIE, "forged.1.token")
    refused(http, "/v1/stream", own_origin())


@pytest.mark.parametrize(
    "origin",
    [
        None,  # no browser of ours
        "http://testserver:8001",  # another port of the same host: same site, other origin
        "https://testserver",  # another scheme
        "http://evil.example",
        "null",  # a sandboxed frame or a file: page
    ],
)
def test_the_session_cookie_opens_the_stream_from_the_dashboards_origin_only(
    http: TestClient, origin: str | None
) -> None:
    """Cross-site WebSocket hijacking: a browser sends the cookie with a handshake from any
    page of the same site; the server's own origin is the only one the cookie works from."""
    tenant = make_tenant(http, "stream-origin")
    sign_in(http, tenant)
    reason = refused(http, "/v1/stream", {"origin": origin} if origin else None)
    assert "origin" in reason


def test_a_configured_origin_may_use_the_session(settings: Settings) -> None:
    dashboard = settings.dashboard.model_copy(
        update={"allowed_origins": ["https://dash.example.com/"]}
    )
    with TestClient(create_app(settings.model_copy(update={"dashboard": dashboard}))) as http:
        tenant = make_tenant(http, "stream-allowed")
        sign_in(http, tenant)
        with http.websocket_connect(
            "/v1/stream", headers={"origin": "https://DASH.example.com"}
        ) as ws:
            assert ws.receive_json()["tenant_id"] == tenant.tenant_id
        refused(http, "/v1/stream", {"origin": "https://other.example.com"})


def test_a_key_opens_the_stream_from_any_origin(http: TestClient) -> None:
    """A key is no ambient credential (a page must hold it to send it): never origin-checked,
    even with a session cookie beside it."""
    tenant = make_tenant(http, "stream-key-origin")
    sign_in(http, tenant)
    headers = {"origin": "http://evil.example"}
    with http.websocket_connect(f"/v1/stream?key={tenant.secret_key}", headers=headers) as ws:
        assert ws.receive_json()["tenant_id"] == tenant.tenant_id


def test_a_signed_out_cookie_no_longer_opens_the_stream(http: TestClient) -> None:
    tenant = make_tenant(http, "stream-signed-out")
    cookie = sign_in(http, tenant)
    page = http.get("/app/overview")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    out = http.post("/app/sign-out", data={"csrf": found.group(1)}, follow_redirects=False)
    assert out.status_code == 303
    http.cookies.set(COOKIE, cookie)  # replayed, as a copied cookie would be
    assert "key is required" in refused(http, "/v1/stream", own_origin())


def test_a_binary_frame_is_ignored_and_the_stream_goes_on(http: TestClient) -> None:
    tenant = make_tenant(http, "stream-binary")
    with http.websocket_connect(f"/v1/stream?key={tenant.secret_key}") as ws:
        assert ws.receive_json()["type"] == "ready"
        ws.send_bytes(b"\x00\xffnot text")
        ws.send_text("and some text")
        sent = track(http, tenant, "page_view", email="binary@stream.io")
        heard = until(ws, "event.ingested")
        assert heard[-1]["data"]["event_id"] == sent["event_id"]
