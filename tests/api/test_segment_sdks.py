"""The real SDKs, unchanged but for their host: `segment-analytics-python` and
`rudder-sdk-python` (sync mode) send every call type to a live `journeyline serve` (on the
lane's database kind), then the API shows what journeyline stored. Bad keys are refused."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.databases import Kind, fresh_database
from bench.servers import Server, journeyline_server
from rudderstack.analytics.client import Client as RudderClient
from rudderstack.analytics.request import APIError as RudderAPIError
from segment.analytics.client import Client as SegmentClient
from segment.analytics.request import APIError as SegmentAPIError

SDKS = {"segment": SegmentClient, "rudder": RudderClient}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("sdks")
    requested = os.environ.get("JOURNEYLINE_TEST_DATABASE_URL") or ""
    kind: Kind = "postgres" if requested.startswith("postgresql") else "sqlite"
    with (
        fresh_database(kind, Path(workdir), "sdks") as url,
        journeyline_server(url, workdir, name=f"sdk-server-{kind}") as live,
    ):
        yield live


def read(server: Server, path: str, **params: str) -> Any:
    response = httpx.get(
        server.base_url + path,
        params=params,
        headers={"Authorization": f"Bearer {server.secret_key}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def client(sdk: str, server: Server, key: str) -> Any:
    return SDKS[sdk](write_key=key, host=server.base_url, sync_mode=True, max_retries=0)


@pytest.mark.parametrize("sdk", sorted(SDKS))
def test_every_call_type_of_the_sdk_lands(server: Server, sdk: str) -> None:
    user, anon = f"{sdk}-user", f"{sdk}-anon"
    analytics = client(sdk, server, server.secret_key)
    analytics.page(
        anonymous_id=anon,
        name="Pricing",
        properties={"path": "/pricing"},
        context={"campaign": {"name": "fall", "medium": "cpc"}},
    )
    analytics.identify(user, {"email": f"{sdk}@contoso.com", "name": f"{sdk} user"})
    analytics.track(
        user, "Product Added", {"product_id": "P-1", "price": 10, "order_id": f"{sdk}-o1"}
    )
    analytics.track(
        user, "Order Completed", {"order_id": f"{sdk}-o1", "total": 10, "currency": "USD"}
    )
    analytics.screen(user, name="Home")
    analytics.group(user, f"{sdk}-g", {"name": "Contoso", "domain": "contoso.com"})
    analytics.alias(anon, user)

    [profile] = read(server, "/v1/profiles", external_id=user)["data"]
    assert profile["attributes"]["email"] == f"{sdk}@contoso.com"
    assert profile["attributes"]["company"]["name"] == "Contoso"
    identities = {(i["kind"], i["value"]) for i in profile["identities"]}
    assert {
        ("external_id", user),
        ("email", f"{sdk}@contoso.com"),
        ("anonymous_id", anon),
    } <= identities
    events = read(server, f"/v1/profiles/{profile['id']}/events")["data"]
    assert {e["event_type"] for e in events} >= {
        "page_viewed",
        "identified",
        "product_added",
        "purchase_completed",
        "screen_viewed",
        "group_joined",
        "aliased",
    }
    merges = read(server, f"/v1/profiles/{profile['id']}/merges")["data"]
    assert merges, "the alias collapsed the anonymous page view's shadow into the user"
    [order] = read(server, "/v1/orders", profile_id=profile["id"])["data"]
    assert (order["order_id"], order["status"]) == (f"{sdk}-o1", "completed")
    persons = read(server, "/v1/crm/persons")["data"]
    [person] = [p for p in persons if p["profile_id"] == profile["id"]]
    companies = {c["id"]: c for c in read(server, "/v1/crm/companies")["data"]}
    assert companies[person["company_id"]]["domain"] == "contoso.com"


@pytest.mark.parametrize("sdk", sorted(SDKS))
def test_a_wrong_write_key_is_refused(server: Server, sdk: str) -> None:
    analytics = client(sdk, server, "sk_not_a_key")
    with pytest.raises((SegmentAPIError, RudderAPIError)) as refused:
        analytics.track("nobody", "Nothing")
    assert refused.value.status == 401
    assert refused.value.code == "unauthorized"
