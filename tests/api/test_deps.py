"""Who the caller is, as a newcomer gets it wrong: a key without its `Bearer` scheme, a wrong
admin token. Each 401 says what to send instead, in the error shape (issue 17)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, TenantKeys


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("get", "/v1/profiles", "secret"),
        ("post", "/ingest", "public"),
        ("get", "/v1/keys", "secret"),
    ],
)
async def test_a_key_without_bearer_is_told_the_header_to_send(
    client: httpx.AsyncClient, tenant: TenantKeys, method: str, path: str, kind: str
) -> None:
    key = tenant.secret_key if kind == "secret" else tenant.public_key
    prefix = key[:3]
    answer = await client.request(method, path, headers={"Authorization": key}, json={})
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert error["code"] == "unauthorized"
    assert f"`Authorization: Bearer {prefix}…`" in error["message"]
    assert key not in error["message"]


async def test_the_same_key_with_bearer_is_taken(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    answer = await client.get(
        "/v1/profiles", headers={"Authorization": f"Bearer {tenant.secret_key}"}
    )
    assert answer.status_code == 200


async def test_a_key_elsewhere_wins_over_an_unschemed_authorization(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    # A proxy's own Authorization beside a good X-API-Key is no error of the caller's.
    answer = await client.get(
        "/v1/profiles", headers={"Authorization": "sk_whatever", "X-API-Key": tenant.secret_key}
    )
    assert answer.status_code == 200


async def test_no_key_at_all_names_the_ways_to_send_one(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v1/profiles", headers={"Authorization": "Token abc"})
    assert answer.status_code == 401
    assert "Authorization: Bearer, X-API-Key or ?key=" in answer.json()["error"]["message"]


async def test_an_admin_token_without_bearer_is_told_the_header_to_send(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post(
        "/admin/tenants", json={"name": "Acme"}, headers={"Authorization": ADMIN_TOKEN}
    )
    assert answer.status_code == 401
    assert "`Authorization: Bearer`" in answer.json()["error"]["message"]
    assert "JOURNEYLINE_ADMIN_TOKEN" in answer.json()["error"]["message"]
