"""Keystone /ingest and /api/ingest through HTTP: identity, idempotency, validation, batches."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import TenantKeys


async def ingest(
    client: httpx.AsyncClient, keys: dict[str, str], body: object, path: str = "/ingest"
) -> httpx.Response:
    return await client.post(path, json=body, headers=keys)


async def test_identify_with_email_creates_an_anchor_profile(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await ingest(
        client,
        tenant.public,
        {"event_type": "identify", "identity": " Jane@Example.com ", "payload": {"name": "Jane"}},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["duplicate"] is False
    profile = (await client.get(f"/v1/profiles/{body['profile_id']}", headers=tenant.secret)).json()
    assert profile["status"] == "anchor"
    assert profile["attributes"] == {"name": "Jane"}
    assert {"kind": "email", "value": "jane@example.com"} in profile["identities"]


async def test_alias_path_behaves_like_ingest(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await ingest(
        client,
        tenant.public,
        {"event_type": "page", "anonymous_id": "anon-alias"},
        path="/api/ingest",
    )
    assert response.status_code == 200
    assert response.json()["profile_id"]


async def test_anonymous_events_share_one_shadow_profile(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    first = (
        await ingest(client, tenant.public, {"event_type": "page", "anonymous_id": "a-1"})
    ).json()
    second = (
        await ingest(
            client,
            tenant.public,
            {
                "event_type": "track",
                "event_name": "Added to Cart",
                "anonymous_id": "a-1",
                "payload": {"price": 10},
            },
        )
    ).json()
    assert first["profile_id"] == second["profile_id"]
    profile = (
        await client.get(f"/v1/profiles/{first['profile_id']}", headers=tenant.secret)
    ).json()
    assert profile["status"] == "shadow"
    assert profile["event_count"] == 2


async def test_identity_with_anonymous_id_promotes_the_shadow(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    shadow = (
        await ingest(client, tenant.public, {"event_type": "page", "anonymous_id": "a-2"})
    ).json()
    identified = (
        await ingest(
            client,
            tenant.public,
            {"event_type": "identify", "anonymous_id": "a-2", "identity": "p@x.io"},
        )
    ).json()
    assert identified["profile_id"] == shadow["profile_id"]
    assert identified["merged_profile_ids"] == []
    profile = (
        await client.get(f"/v1/profiles/{shadow['profile_id']}", headers=tenant.secret)
    ).json()
    assert profile["status"] == "anchor"


async def test_shadow_collapses_into_existing_anchor(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    anchor = (
        await ingest(
            client,
            tenant.secret,
            {"event_type": "identify", "identity": "c@x.io", "payload": {"plan": "pro"}},
        )
    ).json()
    shadow = (
        await ingest(
            client,
            tenant.public,
            {"event_type": "identify", "anonymous_id": "a-3", "payload": {"city": "Rio"}},
        )
    ).json()
    assert shadow["profile_id"] != anchor["profile_id"]
    both = (
        await ingest(
            client,
            tenant.public,
            {
                "event_type": "track",
                "event_name": "Signed In",
                "anonymous_id": "a-3",
                "identity": "c@x.io",
            },
        )
    ).json()
    assert both["profile_id"] == anchor["profile_id"]
    assert both["merged_profile_ids"] == [shadow["profile_id"]]
    merged = (
        await client.get(f"/v1/profiles/{shadow['profile_id']}", headers=tenant.secret)
    ).json()
    assert merged["id"] == anchor["profile_id"]
    assert merged["attributes"] == {"plan": "pro", "city": "Rio"}
    assert shadow["profile_id"] in merged["merged_from"]
    events = (
        await client.get(f"/v1/profiles/{anchor['profile_id']}/events", headers=tenant.secret)
    ).json()
    assert len(events["data"]) == 3
    # No event row was rewritten: the shadow's event still names the shadow.
    assert {e["profile_id"] for e in events["data"]} == {anchor["profile_id"], shadow["profile_id"]}


async def test_phone_identity_is_normalized_to_e164(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = (
        await ingest(
            client, tenant.public, {"event_type": "identify", "identity": "(415) 555-0100"}
        )
    ).json()
    found = (
        await client.get("/v1/profiles", params={"phone": "+1 415 555 0100"}, headers=tenant.secret)
    ).json()
    assert [p["id"] for p in found["data"]] == [body["profile_id"]]
    assert {"kind": "phone", "value": "+14155550100"} in found["data"][0]["identities"]


async def test_other_identity_is_an_external_id(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = (
        await ingest(client, tenant.public, {"event_type": "identify", "identity": "crm-42"})
    ).json()
    found = (
        await client.get("/v1/profiles", params={"external_id": "crm-42"}, headers=tenant.secret)
    ).json()
    assert [p["id"] for p in found["data"]] == [body["profile_id"]]


async def test_message_id_makes_a_redelivery_a_duplicate(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    event = {
        "event_type": "track",
        "event_name": "Clicked",
        "anonymous_id": "a-4",
        "message_id": "m-1",
    }
    first = (await ingest(client, tenant.public, event)).json()
    again = (await ingest(client, tenant.public, event)).json()
    assert again["duplicate"] is True
    assert again["conflicting_duplicate"] is False
    assert again["event_id"] == first["event_id"]
    events = (
        await client.get(f"/v1/profiles/{first['profile_id']}/events", headers=tenant.secret)
    ).json()
    assert len(events["data"]) == 1


async def test_same_id_with_other_payload_is_a_conflicting_duplicate(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    event = {
        "event_type": "track",
        "event_name": "Clicked",
        "anonymous_id": "a-5",
        "message_id": "m-2",
    }
    first = (await ingest(client, tenant.public, event)).json()
    changed = (await ingest(client, tenant.public, {**event, "payload": {"x": 1}})).json()
    assert changed["duplicate"] is True
    assert changed["conflicting_duplicate"] is True
    assert changed["event_id"] == first["event_id"]


async def test_timestamped_event_without_id_gets_a_derived_id(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    event = {
        "event_type": "track",
        "event_name": "Clicked",
        "anonymous_id": "a-6",
        "timestamp": "2026-11-22T10:00:00Z",
    }
    first = (await ingest(client, tenant.public, event)).json()
    again = (await ingest(client, tenant.public, event)).json()
    assert again["duplicate"] is True
    assert again["event_id"] == first["event_id"]


async def test_event_without_id_or_timestamp_is_never_deduplicated(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    event = {"event_type": "track", "event_name": "Clicked", "anonymous_id": "a-7"}
    first = (await ingest(client, tenant.public, event)).json()
    again = (await ingest(client, tenant.public, event)).json()
    assert again["duplicate"] is False
    assert again["event_id"] != first["event_id"]


async def test_batch_reports_each_event_in_its_slot(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await ingest(
        client,
        tenant.public,
        {
            "batch": [
                {"event_type": "page", "anonymous_id": "a-8"},
                {"event_type": "track", "anonymous_id": "a-8"},
                {
                    "event_type": "track",
                    "event_name": "Order Completed",
                    "anonymous_id": "a-8",
                    "payload": {"amount": "12"},
                },
                {"event_type": "identify", "anonymous_id": "a-8", "identity": "b@x.io"},
            ]
        },
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["profile_id"]
    assert results[1]["error"]["field"] == "event_name"
    assert results[1]["error"]["index"] == 1
    assert results[2]["error"]["field"] == "payload.amount"
    assert results[3]["profile_id"] == results[0]["profile_id"]


async def test_known_type_payload_is_type_checked(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await ingest(
        client,
        tenant.public,
        {
            "event_type": "track",
            "event_name": "purchase",
            "anonymous_id": "a-9",
            "payload": {"amount": True},
        },
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "payload.amount"


async def test_custom_event_names_become_snake_case(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = (
        await ingest(
            client,
            tenant.public,
            {"event_type": "track", "event_name": "Payment Processed", "anonymous_id": "a-10"},
        )
    ).json()
    events = (
        await client.get(f"/v1/profiles/{body['profile_id']}/events", headers=tenant.secret)
    ).json()
    assert events["data"][0]["event_type"] == "payment_processed"
    assert events["data"][0]["event_name"] == "Payment Processed"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Order Completed", "purchase_completed"),
        ("Added to Cart", "product_added"),
        ("add_to_cart", "product_added"),
    ],
)
async def test_aliases_map_to_the_taxonomy(
    client: httpx.AsyncClient, tenant: TenantKeys, name: str, expected: str
) -> None:
    body = (
        await ingest(
            client,
            tenant.public,
            {"event_type": "track", "event_name": name, "anonymous_id": f"alias-{name}"},
        )
    ).json()
    events = (
        await client.get(f"/v1/profiles/{body['profile_id']}/events", headers=tenant.secret)
    ).json()
    assert events["data"][0]["event_type"] == expected


async def test_blocked_identity_is_a_warning_and_a_conflict(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = (
        await ingest(
            client,
            tenant.public,
            {"event_type": "identify", "identity": "undefined", "anonymous_id": "a-11"},
        )
    ).json()
    assert body["warnings"][0]["code"] == "blocked_identifier"
    profile = (await client.get(f"/v1/profiles/{body['profile_id']}", headers=tenant.secret)).json()
    assert profile["status"] == "shadow"
    conflicts = (await client.get("/v1/identity-conflicts", headers=tenant.secret)).json()["data"]
    assert [(c["kind"], c["value"], c["reason"]) for c in conflicts] == [
        ("external_id", "undefined", "blocked")
    ]


async def test_event_without_any_identifier_is_rejected(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await ingest(client, tenant.public, {"event_type": "track", "event_name": "x"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "no_identifiers"


async def test_key_may_come_on_the_query_string(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await client.post(
        f"/api/ingest?key={tenant.public_key}", json={"event_type": "page", "anonymous_id": "q"}
    )
    assert response.status_code == 200


async def test_a_blocked_identity_warning_is_its_whole_shape(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = (
        await ingest(
            client,
            tenant.public,
            {"event_type": "identify", "identity": "undefined", "anonymous_id": "a-12"},
        )
    ).json()
    assert body["warnings"] == [
        {
            "code": "blocked_identifier",
            "kind": "external_id",
            "value": "undefined",
            "message": "external_id 'undefined' was ignored (blocked)",
        }
    ]


async def test_an_event_without_identifiers_answers_the_whole_error_shape(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    single = await ingest(client, tenant.public, {"event_type": "track", "event_name": "x"})
    batch = await ingest(
        client,
        tenant.public,
        {"batch": [{"event_type": "page", "anonymous_id": "a-13"}, {"event_type": "page"}]},
    )
    refused = {"code": "no_identifiers", "message": "the event carries no usable identifier"}
    assert (single.status_code, single.json()) == (422, {"error": refused})
    assert batch.status_code == 200, batch.text
    assert batch.json()["results"][1] == {"error": refused}


async def test_a_broken_email_says_why_it_is_unusable(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    answer = await ingest(
        client, tenant.public, {"event_type": "identify", "identity": "jane@@example"}
    )
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "no_identifiers"
    assert error["message"] == (
        "the event carries no usable identifier: email 'jane@@example' cannot be used: it has "
        "2 @ signs; an email address has one, as in jane@example.com"
    )
