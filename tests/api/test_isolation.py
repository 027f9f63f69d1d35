"""Tenant isolation, route by route: tenant B's keys never read or change tenant A's data."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import TenantKeys


async def seed(client: httpx.AsyncClient, tenant: TenantKeys) -> dict[str, str]:
    """Tenant A's data: an anchor with lineage, a merged shadow, a conflict."""
    shadow = (
        await client.post(
            "/ingest",
            json={"event_type": "identify", "anonymous_id": "iso-a", "payload": {"x": 1}},
            headers=tenant.public,
        )
    ).json()
    anchor = (
        await client.post(
            "/v1/events",
            json={
                "type": "identify",
                "email": "same@x.io",
                "externalId": "iso-ext",
                "properties": {"y": 2},
            },
            headers=tenant.secret,
        )
    ).json()["results"][0]
    await client.post(
        "/v1/events",
        json={"type": "track", "action": "join", "email": "same@x.io", "anonymousId": "iso-a"},
        headers=tenant.secret,
    )
    await client.post(
        "/v1/events",
        json={"type": "track", "action": "c", "email": "same@x.io", "externalId": "iso-ext-2"},
        headers=tenant.secret,
    )
    return {"anchor": anchor["customer_id"], "shadow": shadow["profile_id"]}


async def test_other_tenant_cannot_read_profiles(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    ids = await seed(client, tenant)
    for suffix in ("", "/events", "/lineage", "/merges"):
        response = await client.get(
            f"/v1/profiles/{ids['anchor']}{suffix}", headers=other_tenant.secret
        )
        assert response.status_code == 404, (suffix, response.text)
    for params in (
        {"email": "same@x.io"},
        {"external_id": "iso-ext"},
        {"anonymous_id": "iso-a"},
        {},
    ):
        listed = (
            await client.get("/v1/profiles", params=params, headers=other_tenant.secret)
        ).json()
        assert listed["data"] == [], params
    assert (await client.get("/v1/identity-conflicts", headers=other_tenant.secret)).json()[
        "data"
    ] == []
    # ...while tenant A sees all of it.
    assert (await client.get("/v1/identity-conflicts", headers=tenant.secret)).json()["data"]


async def test_other_tenant_cannot_merge_or_unmerge(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    ids = await seed(client, tenant)
    own = (
        await client.post(
            "/v1/events",
            json={"type": "track", "action": "a", "email": "b-own@x.io"},
            headers=other_tenant.secret,
        )
    ).json()["results"][0]
    attempts = [
        (f"/v1/profiles/{ids['anchor']}/merge", {"profile_id": own["customer_id"]}),
        (f"/v1/profiles/{own['customer_id']}/merge", {"profile_id": ids["anchor"]}),
        (f"/v1/profiles/{ids['anchor']}/unmerge", {"profile_id": ids["shadow"]}),
    ]
    for path, body in attempts:
        response = await client.post(path, json=body, headers=other_tenant.secret)
        assert response.status_code == 404, (path, response.text)
    still = (
        await client.get(f"/v1/profiles/{ids['anchor']}/merges", headers=tenant.secret)
    ).json()["data"]
    assert len(still) == 1


async def test_same_email_in_two_tenants_is_two_people(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    ids = await seed(client, tenant)
    theirs = (
        await client.post(
            "/v1/events",
            json={"type": "identify", "email": "same@x.io", "properties": {"z": 3}},
            headers=other_tenant.secret,
        )
    ).json()["results"][0]
    assert theirs["created_customer"] is True
    assert theirs["customer_id"] != ids["anchor"]
    mine = (await client.get(f"/v1/profiles/{ids['anchor']}", headers=tenant.secret)).json()
    assert "z" not in mine["attributes"]


@pytest.mark.parametrize("path", ["/v1/events", "/ingest"])
async def test_other_tenant_cannot_write_to_a_profile_by_id(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys, path: str
) -> None:
    ids = await seed(client, tenant)
    response = await client.post(
        "/v1/events",
        json={"type": "track", "action": "a", "customerId": ids["anchor"]},
        headers=other_tenant.secret,
    )
    assert response.status_code == 404
    events = (
        await client.get(f"/v1/profiles/{ids['anchor']}/events", headers=tenant.secret)
    ).json()["data"]
    assert all(e["event_name"] != "a" for e in events)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/profiles",
        "/v1/profiles/{id}",
        "/v1/profiles/{id}/events",
        "/v1/profiles/{id}/lineage",
        "/v1/profiles/{id}/merges",
        "/v1/identity-conflicts",
    ],
)
async def test_public_key_cannot_read(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str
) -> None:
    ids = await seed(client, tenant)
    response = await client.get(path.format(id=ids["anchor"]), headers=tenant.public)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    "path", ["/v1/profiles/{id}/merge", "/v1/profiles/{id}/unmerge", "/v1/keys"]
)
async def test_public_key_cannot_change(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str
) -> None:
    ids = await seed(client, tenant)
    response = await client.post(
        path.format(id=ids["anchor"]), json={"profile_id": ids["shadow"]}, headers=tenant.public
    )
    assert response.status_code == 403


async def test_tenant_keys_cannot_create_tenants(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await client.post("/admin/tenants", json={"name": "x"}, headers=tenant.secret)
    assert response.status_code == 401


async def test_new_secret_key_works_for_its_own_tenant_only(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    ids = await seed(client, tenant)
    created = await client.post("/v1/keys", json={}, headers=tenant.secret)
    assert created.status_code == 201
    key = created.json()["secret_key"]
    assert key.startswith("sk_")
    assert (
        await client.get(f"/v1/profiles/{ids['anchor']}", headers={"X-API-Key": key})
    ).status_code == 200
    other = (await client.post("/v1/keys", json={}, headers=other_tenant.secret)).json()[
        "secret_key"
    ]
    assert (
        await client.get(f"/v1/profiles/{ids['anchor']}", headers={"X-API-Key": other})
    ).status_code == 404
