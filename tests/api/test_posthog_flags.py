"""What posthog-js fetches at load (decision 66): the remote config (JSON and script) and the
flags answer, with no flags and capture pointed at journeyline; public key only, in CORS."""

from __future__ import annotations

import gzip
import json

import httpx
import orjson
import pytest

from tests.conftest import TenantKeys

ORIGIN = "https://shop.example"


async def test_the_remote_config_names_no_flags_and_journeylines_capture_endpoint(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await client.get(f"/array/{tenant.public_key}/config", headers={"Origin": ORIGIN})
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["token"] == tenant.public_key
    assert document["hasFeatureFlags"] is False
    assert document["analytics"]["endpoint"] == "/i/v0/e/"
    assert document["siteApps"] == []
    assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)


async def test_the_config_script_sets_the_config_on_window(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await client.get(f"/array/{tenant.public_key}/config.js")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/javascript")
    script = response.text
    prefix = f"window._POSTHOG_REMOTE_CONFIG[{json.dumps(tenant.public_key)}]="
    assert prefix in script
    literal = script.split(prefix, 1)[1].rsplit(";})();", 1)[0]
    assert json.loads(literal)["config"]["token"] == tenant.public_key


@pytest.mark.parametrize("path", ["/flags", "/flags/", "/decide", "/decide/"])
async def test_flags_are_none_for_anyone(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str
) -> None:
    body = {"token": tenant.public_key, "distinct_id": "someone", "groups": {}}
    plain = await client.post(path, params={"v": "2", "config": "true"}, json=body)
    assert plain.status_code == 200, plain.text
    assert (plain.json()["flags"], plain.json()["featureFlags"]) == ({}, {})
    zipped = await client.post(
        path,
        params={"compression": "gzip-js"},
        content=gzip.compress(orjson.dumps(body)),
        headers={"Content-Type": "text/plain"},
    )
    assert zipped.status_code == 200, zipped.text


async def test_keys_are_checked_public_only(client: httpx.AsyncClient, tenant: TenantKeys) -> None:
    for path in ("/array/phc_nope/config", "/array/phc_nope/config.js"):
        assert (await client.get(path)).status_code == 401
    for path in (f"/array/{tenant.secret_key}/config", f"/array/{tenant.secret_key}/config.js"):
        assert (await client.get(path)).status_code == 403
    assert (await client.post("/flags", json={"distinct_id": "x"})).status_code == 401
    secret = await client.post("/flags", json={"token": tenant.secret_key})
    assert secret.status_code == 403
    bad = await client.post("/flags", content=b"{not json")
    assert bad.status_code == 400
