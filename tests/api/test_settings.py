"""GET and PATCH /v1/settings: validated, isolated per tenant, and applied by the pipeline."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from journeyline.api.state import AppState
from journeyline.orders.abandonment import sweep_abandoned
from tests.conftest import TenantKeys


async def settings_of(client: httpx.AsyncClient, tenant: TenantKeys) -> dict[str, Any]:
    response = await client.get("/v1/settings", headers=tenant.secret)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def patch(client: httpx.AsyncClient, tenant: TenantKeys, body: object) -> httpx.Response:
    return await client.patch("/v1/settings", json=body, headers=tenant.secret)


async def test_a_new_tenant_has_the_defaults(client: httpx.AsyncClient, tenant: TenantKeys) -> None:
    body = await settings_of(client, tenant)
    assert body["phone_region"] == "US"
    assert body["identifier_limits"] == {"email": 5, "phone": 5, "external_id": 1}
    assert body["blocklist"] == []
    assert "undefined" in body["default_blocklist"]
    assert body["abandon_after_seconds"] == 3600.0
    rate = body["rate_limit"]
    assert (rate["requests_per_second"], rate["burst"]) == (None, None)
    assert rate["public"] == {"requests_per_second": 1000.0, "burst": 2000}
    assert rate["secret"] == {"requests_per_second": 5000.0, "burst": 10_000}


async def test_a_patch_changes_only_what_it_names_and_answers_the_effective_settings(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await patch(
        client,
        tenant,
        {
            "phone_region": "gb",
            "identifier_limits": {"email": 2},
            "blocklist": [" Nobody@Example.com "],
            "abandon_after_seconds": 600,
            "rate_limit": {"requests_per_second": 50, "burst": 80},
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["phone_region"] == "GB"
    assert body["identifier_limits"] == {"email": 2, "phone": 5, "external_id": 1}
    assert body["blocklist"] == ["nobody@example.com"]
    assert body["abandon_after_seconds"] == 600.0
    assert body["rate_limit"]["public"] == {"requests_per_second": 50.0, "burst": 80}
    assert body["rate_limit"]["secret"] == {"requests_per_second": 50.0, "burst": 80}
    assert await settings_of(client, tenant) == body
    again = (await patch(client, tenant, {"identifier_limits": {"phone": 1}})).json()
    assert again["identifier_limits"] == {"email": 2, "phone": 1, "external_id": 1}
    assert again["phone_region"] == "GB"


async def test_null_restores_a_default(client: httpx.AsyncClient, tenant: TenantKeys) -> None:
    await patch(client, tenant, {"phone_region": "BR", "identifier_limits": {"email": 1}})
    body = (
        await patch(client, tenant, {"phone_region": None, "identifier_limits": {"email": None}})
    ).json()
    assert body["phone_region"] == "US"
    assert body["identifier_limits"]["email"] == 5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone_region": "XX"}, "phone_region"),
        ({"phone_region": 44}, "phone_region"),
        ({"identifier_limits": {"email": -1}}, "identifier_limits.email"),
        ({"identifier_limits": {"email": "3"}}, "identifier_limits.email"),
        ({"identifier_limits": {"email": True}}, "identifier_limits.email"),
        ({"identifier_limits": {"fax": 1}}, "identifier_limits.fax"),
        ({"identifier_limits": [1]}, "identifier_limits"),
        ({"blocklist": "junk"}, "blocklist"),
        ({"blocklist": [1]}, "blocklist[0]"),
        ({"abandon_after_seconds": 0}, "abandon_after_seconds"),
        ({"abandon_after_seconds": "soon"}, "abandon_after_seconds"),
        ({"rate_limit": {"requests_per_second": 0}}, "rate_limit.requests_per_second"),
        ({"rate_limit": {"requests_per_second": 10, "burst": 5}}, "rate_limit.burst"),
        ({"rate_limit": {"burst": 5}}, "rate_limit.requests_per_second"),
        (
            {"rate_limit": {"requests_per_second": 1e-9, "burst": 10}},
            "rate_limit.requests_per_second",
        ),
        ({"rate_limit": {"batch_burst": 1.5}}, "rate_limit.batch_burst"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_a_bad_value_is_422_naming_the_field_and_changes_nothing(
    client: httpx.AsyncClient, tenant: TenantKeys, body: dict[str, Any], field: str
) -> None:
    before = await settings_of(client, tenant)
    response = await patch(client, tenant, body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert await settings_of(client, tenant) == before


@pytest.mark.parametrize(("content", "status"), [(b"{nope", 400), (b"[]", 400), (b"", 400)])
async def test_a_malformed_body_is_400(
    client: httpx.AsyncClient, tenant: TenantKeys, content: bytes, status: int
) -> None:
    response = await client.patch(
        "/v1/settings",
        content=content,
        headers={**tenant.secret, "Content-Type": "application/json"},
    )
    assert response.status_code == status
    assert response.json()["error"]["code"] == "malformed_json"


async def test_a_public_key_can_neither_read_nor_change_settings(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    assert (await client.get("/v1/settings", headers=tenant.public)).status_code == 403
    response = await client.patch(
        "/v1/settings", json={"phone_region": "GB"}, headers=tenant.public
    )
    assert response.status_code == 403
    assert (await settings_of(client, tenant))["phone_region"] == "US"


async def test_one_tenants_settings_are_not_anothers(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    await patch(client, tenant, {"phone_region": "GB", "blocklist": ["a-only@x.io"]})
    theirs = await settings_of(client, other_tenant)
    assert theirs["phone_region"] == "US"
    assert theirs["blocklist"] == []
    await patch(client, other_tenant, {"phone_region": "BR"})
    assert (await settings_of(client, tenant))["phone_region"] == "GB"


async def test_the_phone_region_applies_to_the_next_event(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await patch(client, tenant, {"phone_region": "GB"})
    body = {"type": "identify", "phone": "07400 123456"}
    result = (await client.post("/v1/events", json=body, headers=tenant.secret)).json()
    profile_id = result["results"][0]["customer_id"]
    profile = (await client.get(f"/v1/profiles/{profile_id}", headers=tenant.secret)).json()
    assert {"kind": "phone", "value": "+447400123456"} in profile["identities"]


async def test_identifier_limits_apply_to_the_next_event(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await patch(client, tenant, {"identifier_limits": {"external_id": 2}})
    for external_id in ("u-1", "u-2", "u-3"):
        body = {"type": "identify", "email": "limits@x.io", "externalId": external_id}
        result = (await client.post("/v1/events", json=body, headers=tenant.secret)).json()
    warnings = result["results"][0].get("warnings") or []
    assert [w["code"] for w in warnings] == ["limit_exceeded"]
    profile_id = result["results"][0]["customer_id"]
    profile = (await client.get(f"/v1/profiles/{profile_id}", headers=tenant.secret)).json()
    kept = sorted(i["value"] for i in profile["identities"] if i["kind"] == "external_id")
    assert kept == ["u-1", "u-2"]


async def test_the_block_list_applies_to_the_next_event(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await patch(client, tenant, {"blocklist": ["Shared@Front-Desk.io"]})
    response = await client.post(
        "/ingest",
        json={"event_type": "identify", "identity": "shared@front-desk.io", "anonymous_id": "d-1"},
        headers=tenant.public,
    )
    body = response.json()
    assert body["warnings"][0]["code"] == "blocked_identifier"
    profile = (await client.get(f"/v1/profiles/{body['profile_id']}", headers=tenant.secret)).json()
    assert profile["status"] == "shadow"


async def test_abandon_after_applies_to_the_sweep(
    client: httpx.AsyncClient, tenant: TenantKeys, app_state: AppState
) -> None:
    await patch(client, tenant, {"abandon_after_seconds": 60})
    cart = {
        "event_type": "track",
        "event_name": "Added to Cart",
        "identity": "cart@x.io",
        "payload": {"order_id": f"o-{uuid.uuid4().hex[:6]}", "products": [{"product_id": "p1"}]},
    }
    assert (await client.post("/ingest", json=cart, headers=tenant.secret)).status_code == 200
    tenant_id = uuid.UUID(tenant.tenant_id)
    soon = datetime.now(UTC) + timedelta(seconds=30)
    later = datetime.now(UTC) + timedelta(seconds=120)
    early = await sweep_abandoned(
        app_state.database, app_state.settings, now=soon, tenant_id=tenant_id
    )
    assert early.abandoned == 0
    due = await sweep_abandoned(
        app_state.database, app_state.settings, now=later, tenant_id=tenant_id
    )
    assert due.abandoned == 1
