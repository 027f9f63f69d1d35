"""Native MarketingEvent API (/v1/events): matching, confidence, per-event failures."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import TenantKeys


async def send(client: httpx.AsyncClient, keys: dict[str, str], body: object) -> httpx.Response:
    return await client.post("/v1/events", json=body, headers=keys)


async def test_new_email_creates_a_customer(client: httpx.AsyncClient, tenant: TenantKeys) -> None:
    response = await send(
        client, tenant.secret, {"type": "track", "action": "email_opened", "email": "n@x.io"}
    )
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["created_customer"] is True
    assert result["matched_by"] is None
    assert result["confidence"] is None
    assert result["duplicate"] is False


@pytest.mark.parametrize(
    ("field", "value", "matched_by", "confidence"),
    [
        ("email", "m@x.io", "email", 1.0),
        ("phone", "+14155550199", "phone", 0.9),
        ("externalId", "crm-7", "external_id", 0.8),
        ("anonymousId", "anon-7", "anonymous_id", None),
    ],
)
async def test_match_reports_kind_and_confidence(
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    field: str,
    value: str,
    matched_by: str,
    confidence: float | None,
) -> None:
    first = (
        await send(client, tenant.secret, {"type": "track", "action": "a", field: value})
    ).json()["results"][0]
    second = (
        await send(client, tenant.secret, {"type": "track", "action": "b", field: value})
    ).json()["results"][0]
    assert second["customer_id"] == first["customer_id"]
    assert second["matched_by"] == matched_by
    assert second["confidence"] == confidence
    assert second["created_customer"] is False


async def test_email_outranks_phone_and_external_id(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    by_email = (
        await send(client, tenant.secret, {"type": "track", "action": "a", "email": "rank@x.io"})
    ).json()["results"][0]
    by_ext = (
        await send(client, tenant.secret, {"type": "track", "action": "a", "externalId": "rank-1"})
    ).json()["results"][0]
    both = (
        await send(
            client,
            tenant.secret,
            {"type": "track", "action": "a", "email": "rank@x.io", "externalId": "rank-1"},
        )
    ).json()["results"][0]
    assert both["customer_id"] == by_email["customer_id"] != by_ext["customer_id"]
    assert both["matched_by"] == "email"
    # The external id belongs to another anchor: not moved, not merged, reported.
    assert both["warnings"][0]["code"] == "owned_by_other_anchor"
    conflicts = (await client.get("/v1/identity-conflicts", headers=tenant.secret)).json()["data"]
    assert conflicts[0]["owner_profile_id"] == by_ext["customer_id"]
    assert conflicts[0]["attempted_profile_id"] == by_email["customer_id"]


async def test_customer_id_targets_the_profile(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    first = (
        await send(client, tenant.secret, {"type": "track", "action": "a", "email": "cid@x.io"})
    ).json()["results"][0]
    again = (
        await send(
            client,
            tenant.secret,
            {"type": "track", "action": "b", "customerId": first["customer_id"]},
        )
    ).json()["results"][0]
    assert again["customer_id"] == first["customer_id"]
    assert again["matched_by"] == "customer_id"


async def test_unknown_customer_id_is_a_404(client: httpx.AsyncClient, tenant: TenantKeys) -> None:
    response = await send(
        client, tenant.secret, {"type": "track", "action": "a", "customerId": str(uuid.uuid4())}
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "profile_not_found"


async def test_identify_merges_properties_into_attributes(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    result = (
        await send(
            client,
            tenant.secret,
            {
                "type": "identify",
                "email": "id@x.io",
                "properties": {"address": {"city": "Chicago"}},
            },
        )
    ).json()["results"][0]
    await send(
        client,
        tenant.secret,
        {"type": "identify", "email": "id@x.io", "properties": {"address": {"city": "Miami"}}},
    )
    lineage = (
        await client.get(f"/v1/profiles/{result['customer_id']}/lineage", headers=tenant.secret)
    ).json()["data"]
    assert [(row["path"], row["old_value"], row["new_value"]) for row in lineage] == [
        ("address.city", "Chicago", "Miami"),
        ("address.city", None, "Chicago"),
    ]


async def test_list_keeps_failures_in_their_slot(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await send(
        client,
        tenant.secret,
        {
            "events": [
                {"type": "track", "action": "a", "email": "slot@x.io"},
                {"type": "track", "action": "a", "customerId": str(uuid.uuid4())},
                {"type": "bogus", "action": "a", "email": "slot@x.io"},
            ]
        },
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["customer_id"]
    assert results[1]["error"]["code"] == "profile_not_found"
    assert results[2]["error"]["field"] == "type"
    assert results[2]["error"]["index"] == 2


async def test_message_id_dedupes(client: httpx.AsyncClient, tenant: TenantKeys) -> None:
    event = {"type": "track", "action": "a", "email": "dd@x.io", "messageId": "msg-1"}
    first = (await send(client, tenant.secret, event)).json()["results"][0]
    again = (await send(client, tenant.secret, event)).json()["results"][0]
    assert again["duplicate"] is True
    assert again["event_id"] == first["event_id"]


async def test_provider_customer_ids_do_not_use_up_the_external_id_limit(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    """Counted from the database across requests: namespaced provider ids are exempt."""

    async def send(external_id: str) -> dict[str, Any]:
        response = await client.post(
            "/v1/events",
            json={"type": "track", "action": "x", "email": "lim@x.io", "externalId": external_id},
            headers=tenant.secret,
        )
        result: dict[str, Any] = response.json()["results"][0]
        return result

    for external_id in ("crm-1", "stripe:cus_1", "stripe:cus_2", "shopify:9007199254740993"):
        assert (await send(external_id))["warnings"] == []
    refused = await send("crm-2")
    assert [w["code"] for w in refused["warnings"]] == ["limit_exceeded"]


async def test_an_unknown_customer_id_answers_the_whole_error_shape(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    event = {"type": "track", "action": "a", "customerId": str(uuid.uuid4())}
    single = await send(client, tenant.secret, event)
    listed = await send(client, tenant.secret, {"events": [event, {"type": "bogus"}]})
    refused = {
        "code": "profile_not_found",
        "message": "no profile has this id",
        "field": "customerId",
    }
    assert (single.status_code, single.json()) == (404, {"error": refused})
    first, second = listed.json()["results"]
    assert first == {"error": refused}
    assert (second["error"]["code"], second["error"]["field"], second["error"]["index"]) == (
        "invalid_payload",
        "type",
        1,
    )
