"""The CRM through HTTP: persons per anchor, companies from traits or email domains, deals
through their stages, the pipeline board, merges, tenant isolation and keys."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import orjson
import pytest

from journeyline.config import Settings
from journeyline.demo.signing import stripe_signature
from journeyline.ingest.rebuild import rebuild_tenant
from journeyline.store.db import Database
from journeyline.tenancy.context import build_context
from tests.conftest import TenantKeys
from tests.webhooks.mutation import fixture_document


async def send(
    client: httpx.AsyncClient, tenant: TenantKeys, event: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post("/v1/events", json=event, headers=tenant.secret)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["results"][0]
    return result


async def data(client: httpx.AsyncClient, tenant: TenantKeys, path: str) -> list[dict[str, Any]]:
    response = await client.get(path, headers=tenant.secret)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows


async def test_a_person_per_anchor_with_the_company_of_their_email_domain(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    jane = await send(
        client,
        tenant,
        {
            "type": "identify",
            "email": "jane@acme.io",
            "properties": {"name": "Jane", "title": "CTO"},
        },
    )
    await send(client, tenant, {"type": "identify", "email": "joe@gmail.com"})
    await send(client, tenant, {"type": "track", "action": "page", "anonymousId": "crm-anon"})
    persons = await data(client, tenant, "/v1/crm/persons")
    assert {p["email"] for p in persons} == {"jane@acme.io", "joe@gmail.com"}
    [person] = [p for p in persons if p["email"] == "jane@acme.io"]
    assert (person["profile_id"], person["name"], person["title"]) == (
        jane["customer_id"],
        "Jane",
        "CTO",
    )
    assert person["lifecycle_stage"] == "lead"
    [company] = await data(client, tenant, "/v1/crm/companies")
    assert (company["domain"], company["name"], company["id"]) == (
        "acme.io",
        "Acme",
        person["company_id"],
    )


async def test_deals_move_through_their_stages_and_make_a_customer(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    who = {"email": "buyer@shop.io"}
    cart = {"order_id": "D-1", "products": [{"product_id": "P", "name": "Lamp", "price": 40}]}
    await send(
        client, tenant, {"type": "track", "action": "Added to Cart", **who, "properties": cart}
    )
    [deal] = await data(client, tenant, "/v1/crm/deals")
    assert (deal["key"], deal["stage"], deal["name"]) == ("order:D-1", "open", "Lamp")
    await send(
        client,
        tenant,
        {"type": "track", "action": "Checkout Started", **who, "properties": {"order_id": "D-1"}},
    )
    await send(
        client,
        tenant,
        {
            "type": "track",
            "action": "Order Completed",
            **who,
            "properties": {"order_id": "D-1", "total": 40.0, "currency": "usd"},
        },
    )
    [deal] = await data(client, tenant, "/v1/crm/deals")
    assert (deal["stage"], deal["amount"], deal["currency"]) == ("won", 40.0, "USD")
    [person] = await data(client, tenant, "/v1/crm/persons")
    assert person["lifecycle_stage"] == "customer"
    assert deal["profile_id"] == person["profile_id"]

    await send(
        client,
        tenant,
        {"type": "track", "action": "Refund", **who, "properties": {"order_id": "D-1"}},
    )
    [deal] = await data(client, tenant, "/v1/crm/deals")
    assert deal["stage"] == "refunded"
    [person] = await data(client, tenant, "/v1/crm/persons")
    assert person["lifecycle_stage"] == "churned"


async def test_the_sales_board_counts_and_sums_each_stage(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    for n, (action, total) in enumerate(
        [
            ("Added to Cart", 10.0),
            ("Checkout Started", 20.0),
            ("Order Completed", 30.0),
            ("Order Completed", 5.0),
        ]
    ):
        await send(
            client,
            tenant,
            {
                "type": "track",
                "action": action,
                "email": f"board{n}@shop.io",
                "properties": {"order_id": f"B-{n}", "total": total, "currency": "EUR"},
            },
        )
    response = await client.get("/v1/pipeline", headers=tenant.secret)
    assert response.status_code == 200, response.text
    board = response.json()
    assert board["currency"] == "EUR"
    stages = {s["stage"]: s for s in board["stages"]}
    assert list(stages) == ["open", "checkout", "won", "lost", "refunded"]
    assert (stages["open"]["count"], stages["open"]["amount"]) == (1, 10.0)
    assert (stages["checkout"]["count"], stages["checkout"]["amount"]) == (1, 20.0)
    assert (stages["won"]["count"], stages["won"]["amount"]) == (2, 35.0)
    assert [d["key"] for d in stages["won"]["deals"]] == ["order:B-3", "order:B-2"]
    assert stages["lost"]["count"] == 0


async def test_a_shadows_deals_follow_it_into_the_person_and_back_on_unmerge(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    person = await send(client, tenant, {"type": "identify", "email": "m@crm.io"})
    shadow = await send(
        client,
        tenant,
        {
            "type": "track",
            "action": "Added to Cart",
            "anonymousId": "crm-m",
            "properties": {"order_id": "CM-1"},
        },
    )
    [deal] = await data(client, tenant, "/v1/crm/deals")
    assert deal["profile_id"] == shadow["customer_id"]
    joined = await send(
        client,
        tenant,
        {"type": "track", "action": "x", "email": "m@crm.io", "anonymousId": "crm-m"},
    )
    assert joined["merged_profile_ids"] == [shadow["customer_id"]]
    [deal] = await data(client, tenant, "/v1/crm/deals")
    assert deal["profile_id"] == person["customer_id"]
    undone = await client.post(
        f"/v1/profiles/{person['customer_id']}/unmerge",
        json={"profile_id": shadow["customer_id"]},
        headers=tenant.secret,
    )
    assert undone.status_code == 200, undone.text
    [deal] = await data(client, tenant, "/v1/crm/deals")
    assert deal["profile_id"] == shadow["customer_id"]
    persons = await data(client, tenant, "/v1/crm/persons")
    assert [p["profile_id"] for p in persons] == [person["customer_id"]]


async def test_an_unmerge_gives_back_subscriptions_and_orderless_purchases(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    """Deals without an order follow their basis event's profile back on unmerge; the
    survivor keeps its own."""

    async def sale(email: str, action: str, properties: dict[str, Any]) -> dict[str, Any]:
        event = {"type": "track", "action": action, "email": email, "properties": properties}
        return await send(client, tenant, event)

    kept = await sale("keep@sub.io", "subscription_created", {"subscription_id": "S-KEEP"})
    gone = await sale("gone@sub.io", "subscription_created", {"subscription_id": "S-GONE"})
    await sale("gone@sub.io", "purchase_completed", {"total": 12, "currency": "EUR"})
    merged = await client.post(
        f"/v1/profiles/{kept['customer_id']}/merge",
        json={"profile_id": gone["customer_id"]},
        headers=tenant.secret,
    )
    assert merged.status_code == 200, merged.text
    owners = {d["key"]: d["profile_id"] for d in await data(client, tenant, "/v1/crm/deals")}
    assert set(owners.values()) == {kept["customer_id"]}, owners
    assert len(owners) == 3

    undone = await client.post(
        f"/v1/profiles/{kept['customer_id']}/unmerge",
        json={"profile_id": gone["customer_id"]},
        headers=tenant.secret,
    )
    assert undone.status_code == 200, undone.text
    owners = {d["key"]: d["profile_id"] for d in await data(client, tenant, "/v1/crm/deals")}
    purchase = next(key for key in owners if key.startswith("purchase:"))
    assert owners == {
        "subscription:S-KEEP": kept["customer_id"],
        "subscription:S-GONE": gone["customer_id"],
        purchase: gone["customer_id"],
    }
    persons = {p["email"]: p for p in await data(client, tenant, "/v1/crm/persons")}
    assert persons["gone@sub.io"]["lifecycle_stage"] == "customer"


async def test_an_operator_merge_leaves_one_person_with_both_deals(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    first = await send(
        client,
        tenant,
        {
            "type": "track",
            "action": "Order Completed",
            "email": "a@op.io",
            "properties": {"order_id": "OPC-1"},
        },
    )
    second = await send(
        client,
        tenant,
        {
            "type": "track",
            "action": "Order Completed",
            "email": "b@op.io",
            "properties": {"order_id": "OPC-2"},
        },
    )
    merged = await client.post(
        f"/v1/profiles/{second['customer_id']}/merge",
        json={"profile_id": first["customer_id"]},
        headers=tenant.secret,
    )
    assert merged.status_code == 200, merged.text
    persons = await data(client, tenant, "/v1/crm/persons")
    assert [p["profile_id"] for p in persons] == [second["customer_id"]]
    deals = await data(client, tenant, "/v1/crm/deals")
    assert {d["profile_id"] for d in deals} == {second["customer_id"]}


async def test_another_tenant_sees_nothing(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    await send(
        client,
        tenant,
        {
            "type": "track",
            "action": "Order Completed",
            "email": "iso@acme.io",
            "properties": {"order_id": "ISO"},
        },
    )
    for path in ("/v1/crm/persons", "/v1/crm/companies", "/v1/crm/deals"):
        assert await data(client, other_tenant, path) == []
    board = (await client.get("/v1/pipeline", headers=other_tenant.secret)).json()
    assert all(stage["count"] == 0 for stage in board["stages"])


@pytest.mark.parametrize(
    "path", ["/v1/crm/persons", "/v1/crm/companies", "/v1/crm/deals", "/v1/pipeline"]
)
async def test_crm_routes_need_a_secret_key_and_a_sane_limit(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str
) -> None:
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=tenant.public)).status_code == 403
    assert (await client.get(path, headers={"Authorization": "Bearer sk_x"})).status_code == 401
    for limit in ("0", "x", "100000"):
        bad = await client.get(path, params={"limit": limit}, headers=tenant.secret)
        assert bad.status_code == 422


async def test_a_stripe_subscription_checkout_is_one_won_deal(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    """checkout.session.completed (mode subscription) and customer.subscription.created are
    one sale: one won subscription deal, while the checkout still completes its order."""
    made = await client.post(
        "/v1/connections", json={"provider": "stripe", "secret": "whsec_crm"}, headers=tenant.secret
    )
    assert made.status_code == 201, made.text
    created = fixture_document("stripe", "customer.subscription.created.json")
    subscription = created["data"]["object"]["id"]
    checkout = fixture_document("stripe", "checkout.session.completed.json")
    checkout["data"]["object"].update(mode="subscription", subscription=subscription)
    for document in (checkout, created):
        body = orjson.dumps(document)
        signature = stripe_signature("whsec_crm", body, int(time.time()))
        sent = await client.post(
            made.json()["url"], content=body, headers={"Stripe-Signature": signature}
        )
        assert sent.json()["status"] == "accepted", sent.text
    deals = await data(client, tenant, "/v1/crm/deals")
    assert [(d["key"], d["stage"]) for d in deals] == [(f"subscription:{subscription}", "won")]
    orders = await data(client, tenant, "/v1/orders")
    assert [o["status"] for o in orders] == ["completed"]


@pytest.mark.parametrize("survivor_first", [True, False])
async def test_an_operator_merge_keeps_the_survivors_own_email_on_its_person(
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    database: Database,
    settings: Settings,
    survivor_first: bool,
) -> None:
    """The operator chose the survivor: its person keeps its own email (the merged profile's
    become further identifiers of it), whichever was seen first and however the addresses sort,
    through the merge, a rebuild and the unmerge (decision 55)."""

    async def identify(email: str) -> str:
        result = await send(client, tenant, {"type": "identify", "email": email})
        profile_id: str = result["customer_id"]
        return profile_id

    if survivor_first:
        survivor = await identify("zed@own.io")
        merged = await identify("amy@other.io")
    else:
        merged = await identify("amy@other.io")
        survivor = await identify("zed@own.io")
    response = await client.post(
        f"/v1/profiles/{survivor}/merge", json={"profile_id": merged}, headers=tenant.secret
    )
    assert response.status_code == 200, response.text
    assert {"kind": "email", "value": "amy@other.io"} in response.json()["identities"]

    async def persons() -> dict[str, str]:
        return {p["profile_id"]: p["email"] for p in await data(client, tenant, "/v1/crm/persons")}

    assert await persons() == {survivor: "zed@own.io"}
    context = build_context(uuid.UUID(tenant.tenant_id), "secret", {}, settings)
    await rebuild_tenant(database, context)
    assert await persons() == {survivor: "zed@own.io"}
    response = await client.post(
        f"/v1/profiles/{survivor}/unmerge", json={"profile_id": merged}, headers=tenant.secret
    )
    assert response.status_code == 200, response.text
    assert await persons() == {survivor: "zed@own.io", merged: "amy@other.io"}
