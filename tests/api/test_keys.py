"""GET, POST /v1/keys and DELETE /v1/keys/{id}: naming, listing, revoking and rotating keys."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from journeyline.api.state import AppState
from journeyline.app import create_app
from journeyline.config import Settings
from journeyline.store.db import Database
from tests.conftest import TenantKeys, make_tenant

PAGE = {"event_type": "page", "anonymous_id": "visitor-1"}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def keys_of(client: httpx.AsyncClient, tenant: TenantKeys) -> list[dict[str, Any]]:
    response = await client.get("/v1/keys", headers=tenant.secret)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def key_id_of(client: httpx.AsyncClient, tenant: TenantKeys, kind: str) -> str:
    live = [k for k in await keys_of(client, tenant) if k["kind"] == kind and not k["revoked_at"]]
    assert len(live) == 1
    return str(live[0]["id"])


@asynccontextmanager
async def another_process(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, AppState]]:
    """A second app on the same database, with a database object and key cache of its own: what
    another API process is."""
    database = Database.from_settings(settings)
    application = create_app(settings, database=database)
    try:
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://other") as http:
                yield http, application.state.journeyline
    finally:
        await database.dispose()


async def test_a_new_tenant_lists_its_public_and_secret_key_without_the_keys(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    keys = await keys_of(client, tenant)
    assert sorted(k["kind"] for k in keys) == ["public", "secret"]
    for key in keys:
        assert set(key) >= {"id", "name", "kind", "prefix", "created_at", "last_used_at"}
        assert key["revoked_at"] is None
    text = (await client.get("/v1/keys", headers=tenant.secret)).text
    assert tenant.secret_key not in text
    assert tenant.public_key not in text
    assert "key_hash" not in text
    prefixes = {k["kind"]: k["prefix"] for k in keys}
    assert tenant.public_key.startswith(str(prefixes["public"]))
    assert tenant.secret_key.startswith(str(prefixes["secret"]))


async def test_a_named_secret_key_is_shown_once_and_listed_by_its_name(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await client.post("/v1/keys", json={"name": "checkout"}, headers=tenant.secret)
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) >= {"id", "name", "prefix", "secret_key"}
    assert created["name"] == "checkout"
    assert created["secret_key"].startswith(created["prefix"])
    listed = {k["id"]: k for k in await keys_of(client, tenant)}
    assert listed[created["id"]]["name"] == "checkout"
    assert listed[created["id"]]["kind"] == "secret"
    works = await client.get("/v1/keys", headers=bearer(created["secret_key"]))
    assert works.status_code == 200


async def test_a_key_may_be_created_without_a_body(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await client.post("/v1/keys", headers=tenant.secret)
    assert response.status_code == 201, response.text
    assert response.json()["name"] is None


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, None),
        (b"[1, 2]", 400, None),
        (b'{"name": 42}', 422, "name"),
        (b'{"name": ""}', 422, "name"),
        (b'{"name": "' + b"x" * 201 + b'"}', 422, "name"),
        (b'{"label": "x"}', 422, "label"),
    ],
)
async def test_a_bad_key_body_is_a_clear_error(
    client: httpx.AsyncClient, tenant: TenantKeys, body: bytes, status: int, field: str | None
) -> None:
    response = await client.post(
        "/v1/keys", content=body, headers={**tenant.secret, "Content-Type": "application/json"}
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"]
    assert error.get("field") == field


async def test_a_public_key_cannot_manage_keys(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    key_id = await key_id_of(client, tenant, "secret")
    for method, path in (
        ("GET", "/v1/keys"),
        ("POST", "/v1/keys"),
        ("DELETE", f"/v1/keys/{key_id}"),
    ):
        response = await client.request(method, path, headers=tenant.public)
        assert response.status_code == 403, (method, response.text)
    assert len(await keys_of(client, tenant)) == 2


async def test_a_revoked_secret_key_answers_401_at_once(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    spare = (await client.post("/v1/keys", json={"name": "spare"}, headers=tenant.secret)).json()
    assert (await client.get("/v1/keys", headers=bearer(spare["secret_key"]))).status_code == 200
    revoked = await client.delete(f"/v1/keys/{spare['id']}", headers=tenant.secret)
    assert revoked.status_code == 204
    assert revoked.content == b""
    after = await client.get("/v1/keys", headers=bearer(spare["secret_key"]))
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "unauthorized"
    listed = {k["id"]: k for k in await keys_of(client, tenant)}
    assert listed[spare["id"]]["revoked_at"] is not None


async def test_a_key_may_revoke_itself_when_another_secret_key_lives(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    spare = (await client.post("/v1/keys", headers=tenant.secret)).json()
    original = next(
        k["id"]
        for k in await keys_of(client, tenant)
        if k["kind"] == "secret" and k["id"] != spare["id"]
    )
    response = await client.delete(f"/v1/keys/{original}", headers=tenant.secret)
    assert response.status_code == 204
    assert (await client.get("/v1/keys", headers=tenant.secret)).status_code == 401
    assert (await client.get("/v1/keys", headers=bearer(spare["secret_key"]))).status_code == 200


async def test_the_last_live_secret_key_cannot_be_revoked(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    key_id = await key_id_of(client, tenant, "secret")
    response = await client.delete(f"/v1/keys/{key_id}", headers=tenant.secret)
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "last_secret_key"
    assert (await client.get("/v1/keys", headers=tenant.secret)).status_code == 200


async def test_of_two_secret_keys_only_one_can_be_revoked(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    spare = (await client.post("/v1/keys", headers=tenant.secret)).json()
    first = await client.delete(f"/v1/keys/{spare['id']}", headers=tenant.secret)
    assert first.status_code == 204
    last = await key_id_of(client, tenant, "secret")
    second = await client.delete(f"/v1/keys/{last}", headers=tenant.secret)
    assert second.status_code == 409


async def test_revoking_the_public_key_issues_a_new_one(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    old_id = await key_id_of(client, tenant, "public")
    assert (await client.post("/ingest", json=PAGE, headers=tenant.public)).status_code == 200
    response = await client.delete(f"/v1/keys/{old_id}", headers=tenant.secret)
    assert response.status_code == 200, response.text
    new_key = response.json()["public_key"]
    assert new_key.startswith("pk_")
    assert new_key != tenant.public_key
    refused = await client.post("/ingest", json=PAGE, headers=tenant.public)
    assert refused.status_code == 401
    accepted = await client.post("/ingest", json=PAGE, headers={"X-API-Key": new_key})
    assert accepted.status_code == 200, accepted.text
    keys = await keys_of(client, tenant)
    publics = [k for k in keys if k["kind"] == "public"]
    assert len(publics) == 2
    assert [k["id"] for k in publics if k["revoked_at"] is None] == [response.json()["id"]]


async def test_revoking_a_revoked_key_changes_nothing(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    old_id = await key_id_of(client, tenant, "public")
    assert (await client.delete(f"/v1/keys/{old_id}", headers=tenant.secret)).status_code == 200
    again = await client.delete(f"/v1/keys/{old_id}", headers=tenant.secret)
    assert again.status_code == 204
    publics = [k for k in await keys_of(client, tenant) if k["kind"] == "public"]
    assert len(publics) == 2


async def test_an_unknown_key_id_is_404(client: httpx.AsyncClient, tenant: TenantKeys) -> None:
    response = await client.delete(f"/v1/keys/{uuid.uuid4()}", headers=tenant.secret)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "key_not_found"


async def test_a_malformed_key_id_is_422_naming_it(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await client.delete("/v1/keys/not-a-uuid", headers=tenant.secret)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "key_id"


async def test_another_tenants_key_cannot_be_listed_or_revoked(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    spare = (await client.post("/v1/keys", json={"name": "a-only"}, headers=tenant.secret)).json()
    theirs = await keys_of(client, other_tenant)
    assert spare["id"] not in {k["id"] for k in theirs}
    assert "a-only" not in str(theirs)
    public_a = await key_id_of(client, tenant, "public")
    for key_id in (spare["id"], public_a):
        response = await client.delete(f"/v1/keys/{key_id}", headers=other_tenant.secret)
        assert response.status_code == 404, response.text
    assert (await client.get("/v1/keys", headers=bearer(spare["secret_key"]))).status_code == 200
    assert (await client.post("/ingest", json=PAGE, headers=tenant.public)).status_code == 200


async def test_last_used_at_is_set_once_a_key_is_used(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    before = {k["kind"]: k["last_used_at"] for k in await keys_of(client, tenant)}
    # Listing used the secret key: its use is noted, and flushed before the list is read.
    assert before["secret"] is not None
    assert before["public"] is None
    assert (await client.post("/ingest", json=PAGE, headers=tenant.public)).status_code == 200
    after = {k["kind"]: k["last_used_at"] for k in await keys_of(client, tenant)}
    assert after["public"] is not None


async def test_last_used_at_is_written_at_most_once_per_interval(
    client: httpx.AsyncClient, tenant: TenantKeys, app_state: AppState
) -> None:
    await keys_of(client, tenant)
    for _ in range(5):
        assert (await client.post("/ingest", json=PAGE, headers=tenant.public)).status_code == 200
    # The five uses were noted once (the first); nothing is pending after that flush.
    await keys_of(client, tenant)
    for _ in range(5):
        assert (await client.post("/ingest", json=PAGE, headers=tenant.public)).status_code == 200
    assert await app_state.usage.flush(app_state.database) == 0


async def test_another_process_refuses_a_revoked_key_once_its_cache_entry_ends(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """This process evicts the key at once; another trusts its cache for key_cache_seconds (at
    most 5 s), then looks the key up again and finds it revoked."""
    now = [1000.0]
    with_cache = settings.model_copy(update={"key_cache_seconds": 5.0})
    async with another_process(with_cache) as (other, state):
        state.keys.clock = lambda: now[0]
        tenant = await make_tenant(client, "two processes")
        spare = (await client.post("/v1/keys", headers=tenant.secret)).json()
        assert (await other.get("/v1/keys", headers=bearer(spare["secret_key"]))).status_code == 200
        revoked = await client.delete(f"/v1/keys/{spare['id']}", headers=tenant.secret)
        assert revoked.status_code == 204
        assert (
            await client.get("/v1/keys", headers=bearer(spare["secret_key"]))
        ).status_code == 401
        # Still cached over there (the cache is real), until its entry ends.
        now[0] += 4.9
        assert (await other.get("/v1/keys", headers=bearer(spare["secret_key"]))).status_code == 200
        now[0] += 0.1
        assert (await other.get("/v1/keys", headers=bearer(spare["secret_key"]))).status_code == 401


def test_the_key_cache_cannot_outlive_the_five_seconds_the_contract_allows() -> None:
    with pytest.raises(ValueError, match="key_cache_seconds"):
        Settings(key_cache_seconds=30)


async def test_two_concurrent_revocations_cannot_take_the_last_two_secret_keys(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    spare = (await client.post("/v1/keys", headers=tenant.secret)).json()
    original = next(
        k["id"]
        for k in await keys_of(client, tenant)
        if k["kind"] == "secret" and k["id"] != spare["id"]
    )
    answers = await asyncio.gather(
        client.delete(f"/v1/keys/{original}", headers=bearer(spare["secret_key"])),
        client.delete(f"/v1/keys/{spare['id']}", headers=tenant.secret),
    )
    assert sorted(a.status_code for a in answers) == [204, 409]
    live = [
        k
        for k in await keys_of_any(client, (tenant.secret_key, spare["secret_key"]))
        if k["kind"] == "secret" and not k["revoked_at"]
    ]
    assert len(live) == 1


async def keys_of_any(client: httpx.AsyncClient, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    for key in keys:
        response = await client.get("/v1/keys", headers=bearer(key))
        if response.status_code == 200:
            data: list[dict[str, Any]] = response.json()["data"]
            return data
    raise AssertionError("no key of the tenant is live")
