"""The real posthog-python, unchanged but for its host and key (decision 66): capture, identify
(`$identify` with `$anon_distinct_id`), alias, set / set_once and group_identify sent to a live
`journeyline serve` (on the lane's database kind), gzip and not, then the API shows what
journeyline stored. A historical migration goes to the batch lane; a wrong key is refused."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.databases import Kind, fresh_database
from bench.servers import Server, journeyline_server
from posthog import Posthog
from posthog.request import APIError


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("posthog")
    requested = os.environ.get("JOURNEYLINE_TEST_DATABASE_URL") or ""
    kind: Kind = "postgres" if requested.startswith("postgresql") else "sqlite"
    with (
        fresh_database(kind, Path(workdir), "posthog") as url,
        journeyline_server(url, workdir, name=f"posthog-server-{kind}") as live,
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


def client(server: Server, key: str, **options: Any) -> Posthog:
    # debug: a refused request raises instead of being logged, so no call can fail unseen.
    return Posthog(key, host=server.base_url, sync_mode=True, max_retries=0, debug=True, **options)


@pytest.mark.parametrize("gzip", [False, True])
def test_every_call_of_the_sdk_lands(server: Server, gzip: bool) -> None:
    tag = "gz" if gzip else "plain"
    user, anon = f"ph-{tag}-user", f"ph-{tag}-anon"
    posthog = client(server, server.secret_key, gzip=gzip)
    # A server SDK's distinct_id is the user's id unless the event says it is anonymous.
    anonymous = {"$is_identified": False}
    posthog.capture("$pageview", distinct_id=anon, properties=anonymous)
    posthog.capture(
        "$set", distinct_id=anon, properties={**anonymous, "$set_once": {"first_page": "/pricing"}}
    )
    posthog.capture(
        "$identify",
        distinct_id=user,
        properties={"$anon_distinct_id": anon, "$set": {"email": f"{tag}@contoso.com"}},
    )
    posthog.set(distinct_id=user, properties={"plan": "pro"})
    posthog.set_once(distinct_id=user, properties={"first_page": "/home", "plan": "free"})
    posthog.capture(
        "order completed",
        distinct_id=user,
        properties={"order_id": f"{tag}-o1", "total": 10, "currency": "USD"},
    )
    posthog.group_identify(
        "company",
        f"{tag}-contoso",
        {"name": "Contoso", "domain": "contoso.com"},
        distinct_id=user,
    )
    posthog.alias(f"{tag}-legacy", user)

    [profile] = read(server, "/v1/profiles", external_id=user)["data"]
    attributes = profile["attributes"]
    assert attributes["email"] == f"{tag}@contoso.com"
    assert (attributes["plan"], attributes["first_page"]) == ("pro", "/pricing")
    assert attributes["company"]["name"] == "Contoso"
    identities = {(i["kind"], i["value"]) for i in profile["identities"]}
    assert {("external_id", user), ("anonymous_id", anon)} <= identities
    events = read(server, f"/v1/profiles/{profile['id']}/events")["data"]
    assert {e["event_type"] for e in events} >= {
        "page_viewed",
        "identified",
        "purchase_completed",
        "group_joined",
        "aliased",
    }
    # The $identify made the anonymous page view's profile the user's: one profile.
    [shadow] = read(server, "/v1/profiles", anonymous_id=anon)["data"]
    assert shadow["id"] == profile["id"]
    persons = read(server, "/v1/crm/persons")["data"]
    [person] = [p for p in persons if p["profile_id"] == profile["id"]]
    companies = {c["id"]: c for c in read(server, "/v1/crm/companies")["data"]}
    assert companies[person["company_id"]]["domain"] == "contoso.com"


def test_a_historical_migration_goes_to_the_batch_lane(server: Server) -> None:
    posthog = client(server, server.secret_key, historical_migration=True)
    posthog.capture(
        "imported",
        distinct_id="ph-history",
        properties={"n": 1},
        timestamp="2024-03-01T10:00:00+00:00",
    )
    deadline = time.monotonic() + 30
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not found:
        found = read(server, "/v1/profiles", external_id="ph-history")["data"]
        if not found:
            time.sleep(0.2)
    assert found, "the batch lane's job stored the migrated event"
    events = read(server, f"/v1/profiles/{found[0]['id']}/events")["data"]
    assert [e["occurred_at"][:10] for e in events] == ["2024-03-01"]


def test_a_wrong_key_is_refused(server: Server) -> None:
    posthog = client(server, "phc_not_a_key")
    with pytest.raises(APIError) as refused:
        posthog.capture("nothing", distinct_id="nobody")
    assert refused.value.status == 401
