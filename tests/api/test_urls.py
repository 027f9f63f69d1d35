"""NUL in a URL's path or query string: U+FFFD before any route reads it, as in JSON bodies, so a
read on PostgreSQL (whose TEXT refuses NUL) answers like one on SQLite instead of a 500."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import TenantKeys


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/v1/profiles", {"external_id": "a\x00b"}, 200),
        ("/v1/profiles", {"anonymous_id": "\x00"}, 200),
        ("/v1/profiles", {"session_id": "s\x00"}, 200),
        ("/v1/profiles", {"email": "a\x00b@x.io"}, 200),
        ("/v1/orders/a%00b", {}, 404),
        ("/v1/products/%00", {}, 404),
        ("/v1/orders", {"profile_id": "\x00"}, 422),
        ("/v1/nothing%00here", {}, 404),
    ],
)
async def test_a_nul_in_the_url_is_never_a_500(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str, params: dict[str, str], status: int
) -> None:
    response = await client.get(path, params=params, headers=tenant.secret)
    assert response.status_code == status, response.text


async def test_an_identifier_sent_with_a_nul_is_found_by_the_same_text_in_a_query(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    event = {"event_type": "track", "event_name": "Seen", "identity": "crm\x00-7"}
    sent = await client.post("/ingest", content=json.dumps(event).encode(), headers=tenant.secret)
    assert sent.status_code == 200, sent.text
    found = await client.get(
        "/v1/profiles", params={"external_id": "crm\x00-7"}, headers=tenant.secret
    )
    assert found.status_code == 200, found.text
    [profile] = found.json()["data"]
    assert profile["id"] == sent.json()["profile_id"]
    assert {"kind": "external_id", "value": "crm\ufffd-7"} in profile["identities"]
