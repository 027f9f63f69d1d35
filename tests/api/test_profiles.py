"""Read API: lookups, merged ids, timelines with cursors, lineage, merges, merge and unmerge."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import TenantKeys


async def event(client: httpx.AsyncClient, tenant: TenantKeys, **fields: object) -> dict[str, Any]:
    body = {"type": "track", "action": "seen", **fields}
    response = await client.post("/v1/events", json=body, headers=tenant.secret)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["results"][0]
    return result


@pytest.mark.parametrize(
    ("field", "value", "query", "lookup"),
    [
        ("email", "Look@X.io", "email", " look@x.io"),
        ("phone", "+1 (415) 555-0142", "phone", "+14155550142"),
        ("externalId", "ext-1", "external_id", "ext-1"),
        ("anonymousId", "anon-lookup", "anonymous_id", "anon-lookup"),
        ("sessionId", "sess-lookup", "session_id", "sess-lookup"),
    ],
)
async def test_lookup_by_each_identifier_kind(
    client: httpx.AsyncClient, tenant: TenantKeys, field: str, value: str, query: str, lookup: str
) -> None:
    created = await event(client, tenant, **{field: value})
    found = (await client.get("/v1/profiles", params={query: lookup}, headers=tenant.secret)).json()
    assert [p["id"] for p in found["data"]] == [created["customer_id"]]


async def test_lookup_of_unknown_identifier_is_empty(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    found = (
        await client.get("/v1/profiles", params={"email": "nobody@x.io"}, headers=tenant.secret)
    ).json()
    assert found == {"data": [], "next_cursor": None}


async def test_listing_pages_with_a_cursor(client: httpx.AsyncClient, tenant: TenantKeys) -> None:
    ids = {(await event(client, tenant, email=f"page{i}@x.io"))["customer_id"] for i in range(5)}
    first = (await client.get("/v1/profiles", params={"limit": 3}, headers=tenant.secret)).json()
    second = (
        await client.get(
            "/v1/profiles",
            params={"limit": 3, "cursor": first["next_cursor"]},
            headers=tenant.secret,
        )
    ).json()
    assert len(first["data"]) == 3
    assert second["next_cursor"] is None
    assert {p["id"] for p in first["data"] + second["data"]} == ids


async def test_unknown_profile_is_404(client: httpx.AsyncClient, tenant: TenantKeys) -> None:
    response = await client.get(f"/v1/profiles/{uuid.uuid4()}", headers=tenant.secret)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "profile_not_found"


async def test_events_page_newest_first(client: httpx.AsyncClient, tenant: TenantKeys) -> None:
    for minute in range(5):
        created = await event(
            client,
            tenant,
            email="tl@x.io",
            timestamp=f"2026-11-22T10:0{minute}:00Z",
            action=f"a{minute}",
        )
    profile_id = created["customer_id"]
    first = (
        await client.get(
            f"/v1/profiles/{profile_id}/events", params={"limit": 2}, headers=tenant.secret
        )
    ).json()
    assert [e["event_name"] for e in first["data"]] == ["a4", "a3"]
    rest = (
        await client.get(
            f"/v1/profiles/{profile_id}/events",
            params={"limit": 10, "cursor": first["next_cursor"]},
            headers=tenant.secret,
        )
    ).json()
    assert [e["event_name"] for e in rest["data"]] == ["a2", "a1", "a0"]
    assert rest["next_cursor"] is None


async def test_bad_cursor_is_422(client: httpx.AsyncClient, tenant: TenantKeys) -> None:
    response = await client.get("/v1/profiles", params={"cursor": "!!!"}, headers=tenant.secret)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "cursor"


async def test_manual_merge_and_unmerge_restore_both_profiles(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    a = await event(client, tenant, type="identify", email="a@merge.io", properties={"plan": "pro"})
    b = await event(
        client, tenant, type="identify", email="b@merge.io", properties={"city": "Lima"}
    )
    merged = await client.post(
        f"/v1/profiles/{a['customer_id']}/merge",
        json={"profile_id": b["customer_id"]},
        headers=tenant.secret,
    )
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["attributes"] == {"plan": "pro", "city": "Lima"}
    assert b["customer_id"] in body["merged_from"]
    assert {"kind": "email", "value": "b@merge.io"} in body["identities"]
    # A merged id answers with the survivor; its email now resolves to the survivor too.
    assert (await client.get(f"/v1/profiles/{b['customer_id']}", headers=tenant.secret)).json()[
        "id"
    ] == a["customer_id"]
    later = await event(client, tenant, email="b@merge.io")
    assert later["customer_id"] == a["customer_id"]
    journal = (
        await client.get(f"/v1/profiles/{a['customer_id']}/merges", headers=tenant.secret)
    ).json()["data"]
    assert [(m["from_profile_id"], m["into_profile_id"], m["reason"]) for m in journal] == [
        (b["customer_id"], a["customer_id"], "manual")
    ]

    undone = await client.post(
        f"/v1/profiles/{a['customer_id']}/unmerge",
        json={"profile_id": b["customer_id"]},
        headers=tenant.secret,
    )
    assert undone.status_code == 200, undone.text
    assert undone.json() == {"restored_profile_id": b["customer_id"]}
    restored = (await client.get(f"/v1/profiles/{b['customer_id']}", headers=tenant.secret)).json()
    assert restored["id"] == b["customer_id"]
    assert restored["status"] == "anchor"
    assert restored["attributes"] == {"city": "Lima"}
    assert {"kind": "email", "value": "b@merge.io"} in restored["identities"]
    survivor = (await client.get(f"/v1/profiles/{a['customer_id']}", headers=tenant.secret)).json()
    assert survivor["attributes"] == {"plan": "pro"}
    assert survivor["merged_from"] == []
    assert (await event(client, tenant, email="b@merge.io"))["customer_id"] == b["customer_id"]


async def test_merge_into_itself_is_a_conflict(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    a = await event(client, tenant, email="self@merge.io")
    response = await client.post(
        f"/v1/profiles/{a['customer_id']}/merge",
        json={"profile_id": a["customer_id"]},
        headers=tenant.secret,
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "merge_conflict"


async def test_unmerge_of_a_profile_not_merged_is_a_conflict(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    a = await event(client, tenant, email="u1@merge.io")
    b = await event(client, tenant, email="u2@merge.io")
    response = await client.post(
        f"/v1/profiles/{a['customer_id']}/unmerge",
        json={"profile_id": b["customer_id"]},
        headers=tenant.secret,
    )
    assert response.status_code == 409


async def test_unmerge_restores_a_collapsed_shadow(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    shadow = await event(
        client, tenant, anonymousId="dev-1", type="identify", properties={"theme": "dark"}
    )
    anchor = await event(
        client, tenant, email="col@x.io", type="identify", properties={"plan": "free"}
    )
    joined = await event(client, tenant, email="col@x.io", anonymousId="dev-1")
    assert joined["merged_profile_ids"] == [shadow["customer_id"]]
    assert (
        await client.get(f"/v1/profiles/{anchor['customer_id']}", headers=tenant.secret)
    ).json()["attributes"] == {"plan": "free", "theme": "dark"}
    journal = (
        await client.get(f"/v1/profiles/{anchor['customer_id']}/merges", headers=tenant.secret)
    ).json()["data"]
    assert journal[0]["reason"] == "identity_collapse"
    assert journal[0]["event_id"] == joined["event_id"]
    undone = await client.post(
        f"/v1/profiles/{anchor['customer_id']}/unmerge",
        json={"profile_id": shadow["customer_id"]},
        headers=tenant.secret,
    )
    assert undone.status_code == 200, undone.text
    restored = (
        await client.get(f"/v1/profiles/{shadow['customer_id']}", headers=tenant.secret)
    ).json()
    assert restored["status"] == "shadow"
    assert restored["attributes"] == {"theme": "dark"}
    assert {"kind": "anonymous_id", "value": "dev-1"} in restored["identities"]
    assert (
        await client.get(f"/v1/profiles/{anchor['customer_id']}", headers=tenant.secret)
    ).json()["attributes"] == {"plan": "free"}


async def test_identifier_limit_is_a_recorded_conflict(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    first = await event(client, tenant, email="lim@x.io", externalId="u-1")
    second = await event(client, tenant, email="lim@x.io", externalId="u-2")
    assert second["customer_id"] == first["customer_id"]
    assert second["warnings"] == [
        {
            "code": "limit_exceeded",
            "kind": "external_id",
            "value": "u-2",
            "owner_profile_id": None,
            "message": "external_id 'u-2' exceeds the profile's identifier limit",
        }
    ]
    conflicts = (await client.get("/v1/identity-conflicts", headers=tenant.secret)).json()["data"]
    assert (conflicts[0]["kind"], conflicts[0]["value"], conflicts[0]["reason"]) == (
        "external_id",
        "u-2",
        "limit_exceeded",
    )


async def test_late_event_never_overwrites_a_newer_value(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    new = await event(
        client,
        tenant,
        type="identify",
        email="late@x.io",
        properties={"plan": "pro"},
        timestamp="2026-11-22T12:00:00Z",
    )
    await event(
        client,
        tenant,
        type="identify",
        email="late@x.io",
        properties={"plan": "free"},
        timestamp="2026-11-22T09:00:00Z",
    )
    profile = (await client.get(f"/v1/profiles/{new['customer_id']}", headers=tenant.secret)).json()
    assert profile["attributes"] == {"plan": "pro"}
    assert profile["event_count"] == 2


async def test_unset_removes_attributes_and_null_never_erases(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    created = await event(
        client,
        tenant,
        type="identify",
        email="unset@x.io",
        properties={"plan": "pro", "address": {"city": "Rio", "zip": "1"}},
    )
    await event(
        client,
        tenant,
        type="identify",
        email="unset@x.io",
        properties={"plan": None, "$unset": ["address.zip"]},
    )
    profile = (
        await client.get(f"/v1/profiles/{created['customer_id']}", headers=tenant.secret)
    ).json()
    assert profile["attributes"] == {"plan": "pro", "address": {"city": "Rio"}}
    lineage = (
        await client.get(f"/v1/profiles/{created['customer_id']}/lineage", headers=tenant.secret)
    ).json()["data"]
    assert (lineage[0]["path"], lineage[0]["old_value"], lineage[0]["new_value"]) == (
        "address.zip",
        "1",
        None,
    )
    assert len(lineage) == 4


async def test_update_that_changes_nothing_logs_nothing(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    created = await event(
        client, tenant, type="identify", email="same@lineage.io", properties={"plan": "pro"}
    )
    await event(
        client, tenant, type="identify", email="same@lineage.io", properties={"plan": "pro"}
    )
    lineage = (
        await client.get(f"/v1/profiles/{created['customer_id']}/lineage", headers=tenant.secret)
    ).json()["data"]
    assert [row["path"] for row in lineage] == ["plan"]


async def ingest(client: httpx.AsyncClient, tenant: TenantKeys, body: dict[str, Any]) -> str:
    response = await client.post("/ingest", json=body, headers=tenant.public)
    assert response.status_code == 200, response.text
    profile_id: str = response.json()["profile_id"]
    return profile_id


async def test_a_profile_answers_its_funnel_stage(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    """API.md's profile `stage`: the furthest funnel stage the customer reached, in every
    answer that carries a profile (lookup, list, merge)."""
    who = {"identity": "buyer@stage.io"}
    profile_id = await ingest(
        client, tenant, {"event_type": "page", "payload": {"url": "https://s.io/"}, **who}
    )

    async def stage_of(keys: TenantKeys = tenant) -> Any:
        response = await client.get(f"/v1/profiles/{profile_id}", headers=keys.secret)
        return response.json().get("stage") if response.status_code == 200 else None

    assert await stage_of() == "awareness"  # a page view
    await ingest(
        client,
        tenant,
        {
            "event_type": "track",
            "event_name": "Order Completed",
            "payload": {"order_id": "S-1", "total": 12},
            **who,
        },
    )
    assert await stage_of() == "conversion"
    listed = await client.get(
        "/v1/profiles", params={"email": "buyer@stage.io"}, headers=tenant.secret
    )
    assert [p["stage"] for p in listed.json()["data"]] == ["conversion"]
    # Another tenant's key neither sees the profile nor a stage.
    assert await stage_of(other_tenant) is None

    shadow = await ingest(
        client, tenant, {"event_type": "page", "payload": {}, "anonymous_id": "stage-anon"}
    )
    merged = await client.post(
        f"/v1/profiles/{profile_id}/merge", json={"profile_id": shadow}, headers=tenant.secret
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["stage"] == "conversion"
