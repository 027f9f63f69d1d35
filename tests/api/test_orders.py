"""Orders and products through HTTP: order inception from events, forward-only states,
skeleton products, provider purchases, merges, tenant isolation and bad input."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from journeyline.demo.signing import stripe_signature
from tests.conftest import TenantKeys
from tests.webhooks.signing import fixture


async def track(
    client: httpx.AsyncClient,
    tenant: TenantKeys,
    name: str,
    payload: dict[str, Any],
    minute: int,
    **identity: str,
) -> dict[str, Any]:
    body = {
        "event_type": "track",
        "event_name": name,
        "payload": payload,
        "timestamp": f"2026-11-22T10:{minute:02d}:00Z",
        **identity,
    }
    response = await client.post("/ingest", json=body, headers=tenant.public)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def order(client: httpx.AsyncClient, tenant: TenantKeys, order_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/orders/{order_id}", headers=tenant.secret)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_an_order_is_born_from_cart_events_and_completed_by_the_purchase(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    who = {"anonymous_id": "o-anon-1"}
    cart = [{"product_id": "P-1", "name": "Mug", "price": 12.5, "quantity": 2}]
    added = await track(
        client, tenant, "Added to Cart", {"order_id": "A-1", "products": cart}, 0, **who
    )
    assert (await order(client, tenant, "A-1"))["status"] == "incomplete"
    await track(client, tenant, "Checkout Started", {"order_id": "A-1"}, 1, **who)
    bought = [*cart, {"product_id": "P-2", "name": "Tea", "price": 5, "quantity": 1}]
    await track(
        client,
        tenant,
        "Order Completed",
        {"order_id": "A-1", "products": bought, "total": 30.0, "currency": "eur"},
        2,
        **who,
    )
    await track(client, tenant, "Added to Cart", {"order_id": "A-1", "products": []}, 3, **who)
    done = await order(client, tenant, "A-1")
    assert done["status"] == "completed"
    assert [item["product_id"] for item in done["items"]] == ["P-1", "P-2"]
    assert (done["total"], done["currency"]) == (30.0, "EUR")
    assert done["profile_id"] == added["profile_id"]
    assert done["completed_at"].startswith("2026-11-22T10:02")

    skeleton = (await client.get("/v1/products/P-2", headers=tenant.secret)).json()
    assert skeleton == {
        "product_id": "P-2",
        "name": "Tea",
        "category": None,
        "price": 5.0,
        "sku": None,
        "skeleton": True,
    }
    await track(
        client,
        tenant,
        "Product Viewed",
        {"product_id": "P-2", "product_name": "Green Tea", "category": "drinks"},
        4,
        **who,
    )
    enriched = (await client.get("/v1/products/P-2", headers=tenant.secret)).json()
    assert (enriched["name"], enriched["category"], enriched["skeleton"]) == (
        "Green Tea",
        "drinks",
        False,
    )


async def test_refunds_and_cancellations_move_orders_forward_only(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    who = {"identity": "refund@x.io"}
    await track(client, tenant, "Order Completed", {"order_id": "R-1"}, 0, **who)
    await track(client, tenant, "Refund", {"order_id": "R-1"}, 1, **who)
    await track(client, tenant, "Order Completed", {"order_id": "R-1"}, 2, **who)
    assert (await order(client, tenant, "R-1"))["status"] == "refunded"


async def test_a_stripe_checkout_completes_its_order(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    made = (
        await client.post(
            "/v1/connections",
            json={"provider": "stripe", "secret": "whsec_orders"},
            headers=tenant.secret,
        )
    ).json()
    body = fixture("stripe", "checkout.session.completed.json")
    signature = stripe_signature("whsec_orders", body, int(time.time()))
    sent = await client.post(made["url"], content=body, headers={"Stripe-Signature": signature})
    assert sent.json()["status"] == "accepted"
    listed = (await client.get("/v1/orders", headers=tenant.secret)).json()["data"]
    [paid] = [o for o in listed if o["source"] == "stripe"]
    assert (paid["status"], paid["currency"], paid["total"]) == ("completed", "EUR", 9.99)
    assert paid["profile_id"] is not None


async def test_a_shadows_orders_move_to_the_profile_it_collapses_into(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    anchor = await track(client, tenant, "Signed Up", {}, 0, identity="merge-o@x.io")
    shadow = await track(
        client, tenant, "Added to Cart", {"order_id": "M-1"}, 1, anonymous_id="o-anon-m"
    )
    assert (await order(client, tenant, "M-1"))["profile_id"] == shadow["profile_id"]
    joined = await track(
        client, tenant, "Page", {}, 2, identity="merge-o@x.io", anonymous_id="o-anon-m"
    )
    assert joined["merged_profile_ids"] == [shadow["profile_id"]]
    assert (await order(client, tenant, "M-1"))["profile_id"] == anchor["profile_id"]
    for profile_id in (anchor["profile_id"], shadow["profile_id"]):
        mine = await client.get(
            "/v1/orders", params={"profile_id": profile_id}, headers=tenant.secret
        )
        assert [o["order_id"] for o in mine.json()["data"]] == ["M-1"]


async def test_orders_and_products_page_by_cursor(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    for n in range(5):
        items = [{"product_id": f"PG-{n}"}]
        await track(
            client,
            tenant,
            "Added to Cart",
            {"order_id": f"PG-{n}", "products": items},
            n,
            anonymous_id="o-page",
        )
    for path in ("/v1/orders", "/v1/products"):
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get(path, params=params, headers=tenant.secret)).json()
            seen += [row.get("order_id") or row["product_id"] for row in page["data"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [f"PG-{n}" for n in range(5)]


async def test_another_tenant_sees_no_orders_or_products(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    placed = await track(
        client,
        tenant,
        "Order Completed",
        {"order_id": "ISO-1", "products": [{"product_id": "ISO-P"}]},
        0,
        anonymous_id="o-iso",
    )
    theirs = other_tenant.secret
    assert (await client.get("/v1/orders/ISO-1", headers=theirs)).status_code == 404
    assert (await client.get("/v1/products/ISO-P", headers=theirs)).status_code == 404
    assert (await client.get("/v1/orders", headers=theirs)).json()["data"] == []
    assert (await client.get("/v1/products", headers=theirs)).json()["data"] == []
    by_profile = await client.get(
        "/v1/orders", params={"profile_id": placed["profile_id"]}, headers=theirs
    )
    assert by_profile.status_code == 404
    # The same order id in another tenant is another order.
    await track(
        client, other_tenant, "Added to Cart", {"order_id": "ISO-1"}, 1, anonymous_id="o-iso"
    )
    assert (await order(client, other_tenant, "ISO-1"))["status"] == "incomplete"
    assert (await order(client, tenant, "ISO-1"))["status"] == "completed"


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/v1/orders", {"limit": "0"}, 422),
        ("/v1/orders", {"limit": "x"}, 422),
        ("/v1/orders", {"cursor": "%%%"}, 422),
        ("/v1/orders", {"profile_id": "nope"}, 422),
        ("/v1/orders", {"profile_id": str(uuid.uuid4())}, 404),
        ("/v1/orders/none-such", {}, 404),
        ("/v1/products", {"limit": "501"}, 422),
        ("/v1/products/none-such", {}, 404),
    ],
)
async def test_bad_queries_are_clear_errors(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str, params: dict[str, str], status: int
) -> None:
    response = await client.get(path, params=params, headers=tenant.secret)
    assert response.status_code == status, response.text
    assert "error" in response.json()


@pytest.mark.parametrize("path", ["/v1/orders", "/v1/products", "/v1/orders/x", "/v1/products/x"])
async def test_order_routes_need_a_secret_key(
    client: httpx.AsyncClient, tenant: TenantKeys, path: str
) -> None:
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=tenant.public)).status_code == 403
    wrong = {"Authorization": "Bearer sk_wrong"}
    assert (await client.get(path, headers=wrong)).status_code == 401


async def test_operator_merge_and_unmerge_move_orders_there_and_back(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    first = await track(
        client, tenant, "Order Completed", {"order_id": "OP-1"}, 0, identity="op1@x.io"
    )
    second = await track(
        client, tenant, "Order Completed", {"order_id": "OP-2"}, 1, identity="op2@x.io"
    )
    shadow = await track(
        client, tenant, "Added to Cart", {"order_id": "OP-3"}, 2, anonymous_id="op-a"
    )
    await track(client, tenant, "Page", {}, 3, identity="op1@x.io", anonymous_id="op-a")
    assert (await order(client, tenant, "OP-3"))["profile_id"] == first["profile_id"]

    merged = await client.post(
        f"/v1/profiles/{second['profile_id']}/merge",
        json={"profile_id": first["profile_id"]},
        headers=tenant.secret,
    )
    assert merged.status_code == 200, merged.text
    for order_id in ("OP-1", "OP-2", "OP-3"):
        assert (await order(client, tenant, order_id))["profile_id"] == second["profile_id"]

    undone = await client.post(
        f"/v1/profiles/{second['profile_id']}/unmerge",
        json={"profile_id": first["profile_id"]},
        headers=tenant.secret,
    )
    assert undone.status_code == 200, undone.text
    assert (await order(client, tenant, "OP-1"))["profile_id"] == first["profile_id"]
    assert (await order(client, tenant, "OP-2"))["profile_id"] == second["profile_id"]
    # The shadow came back with the first person: its cart is theirs again.
    assert (await order(client, tenant, "OP-3"))["profile_id"] == first["profile_id"]

    restored = await client.post(
        f"/v1/profiles/{first['profile_id']}/unmerge",
        json={"profile_id": shadow["profile_id"]},
        headers=tenant.secret,
    )
    assert restored.status_code == 200, restored.text
    assert (await order(client, tenant, "OP-3"))["profile_id"] == shadow["profile_id"]
