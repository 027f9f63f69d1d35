"""Provider webhooks through HTTP: connections, real fixtures signed with each provider's
scheme, the delivery log, replay, bad input and tenant isolation."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import orjson
import pytest

from journeyline.demo.signing import shopify_hmac, stripe_signature
from journeyline.store.db import Database
from journeyline.store.models import Event
from journeyline.store.repositories.webhooks import WebhookRepository
from tests.conftest import TenantKeys
from tests.webhooks.signing import FIXTURES, fixture, typeform_signature

STRIPE_SECRET = "whsec_test_0123456789abcdef"
SHOPIFY_SECRET = "shpss_app_secret"
SHOPIFY_ADMIN_SECRET = "shpss_store_admin_secret"
TYPEFORM_SECRET = "typeform-secret"
HOTTOK = "hotmart-token-123"


async def connect(
    client: httpx.AsyncClient, tenant: TenantKeys, provider: str, secret: str, **extra: str
) -> dict[str, Any]:
    response = await client.post(
        "/v1/connections",
        json={"provider": provider, "secret": secret, **extra},
        headers=tenant.secret,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def stripe_headers(
    body: bytes, secret: str = STRIPE_SECRET, at: int | None = None
) -> dict[str, str]:
    stamp = int(time.time()) if at is None else at
    return {
        "Stripe-Signature": stripe_signature(secret, body, stamp),
        "Content-Type": "application/json",
    }


def shopify_headers(body: bytes, topic: str, secret: str = SHOPIFY_SECRET) -> dict[str, str]:
    return {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": shopify_hmac(secret, body),
        "X-Shopify-Shop-Domain": "journeyline-test.myshopify.com",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
    }


async def deliveries(
    client: httpx.AsyncClient, tenant: TenantKeys, **params: str
) -> list[dict[str, Any]]:
    response = await client.get("/v1/webhook-deliveries", params=params, headers=tenant.secret)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


# --- connections -----------------------------------------------------------------------------


async def test_connections_are_created_listed_and_deleted_without_showing_secrets(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    made = await connect(
        client, tenant, "shopify", SHOPIFY_SECRET, secondary_secret=SHOPIFY_ADMIN_SECRET
    )
    assert made["url"] == f"/webhooks/shopify/{made['id']}"
    assert made["has_secondary_secret"] is True
    listed = (await client.get("/v1/connections", headers=tenant.secret)).json()["data"]
    assert [c["id"] for c in listed] == [made["id"]]
    assert SHOPIFY_SECRET not in orjson.dumps(listed).decode()
    assert "secret" not in listed[0]
    gone = await client.delete(f"/v1/connections/{made['id']}", headers=tenant.secret)
    assert gone.status_code == 204
    body = fixture("shopify", "orders_paid.json")
    after = await client.post(
        made["url"], content=body, headers=shopify_headers(body, "orders/paid")
    )
    assert after.status_code == 401
    again = await client.delete(f"/v1/connections/{made['id']}", headers=tenant.secret)
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"provider": "paypal", "secret": "x"}, "provider"),
        ({"provider": "stripe"}, "secret"),
        ({"provider": "stripe", "secret": ""}, "secret"),
        ({"provider": "stripe", "secret": 42}, "secret"),
        ({"provider": "stripe", "secret": "x", "secondary_secret": "y"}, "secondary_secret"),
        ({"provider": "stripe", "secret": "x", "url": "https://evil"}, "url"),
    ],
)
async def test_a_bad_connection_is_422_naming_the_field(
    client: httpx.AsyncClient, tenant: TenantKeys, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/connections", json=body, headers=tenant.secret)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


async def test_connection_routes_refuse_bad_bodies_and_keys(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    malformed = await client.post("/v1/connections", content=b"{", headers=tenant.secret)
    oversized = await client.post(
        "/v1/connections",
        json={"provider": "stripe", "secret": "x" * 600_000},
        headers=tenant.secret,
    )
    public = await client.post(
        "/v1/connections", json={"provider": "stripe", "secret": "x"}, headers=tenant.public
    )
    missing = await client.get("/v1/connections")
    wrong = await client.get("/v1/connections", headers={"Authorization": "Bearer sk_nope"})
    assert [r.status_code for r in (malformed, oversized, public, missing, wrong)] == [
        400,
        413,
        403,
        401,
        401,
    ]


async def test_connections_and_deliveries_are_tenant_scoped(
    client: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    made = await connect(client, tenant, "stripe", STRIPE_SECRET)
    body = fixture("stripe", "checkout.session.completed.json")
    sent = await client.post(made["url"], content=body, headers=stripe_headers(body))
    assert sent.status_code == 200, sent.text
    theirs = (await client.get("/v1/connections", headers=other_tenant.secret)).json()["data"]
    assert theirs == []
    assert await deliveries(client, other_tenant) == []
    assert await deliveries(client, other_tenant, connection_id=made["id"]) == []
    delete = await client.delete(f"/v1/connections/{made['id']}", headers=other_tenant.secret)
    assert delete.status_code == 404
    replay = await client.post(
        f"/v1/webhook-deliveries/{sent.json()['delivery_id']}/replay", headers=other_tenant.secret
    )
    assert replay.status_code == 404
    assert len(await deliveries(client, tenant)) == 1


# --- deliveries -------------------------------------------------------------------------------


async def test_a_stripe_checkout_is_a_purchase_and_its_customer_one_person(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    made = await connect(client, tenant, "stripe", STRIPE_SECRET)
    body = fixture("stripe", "checkout.session.completed.json")
    response = await client.post(made["url"], content=body, headers=stripe_headers(body))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "accepted"
    [event_id] = response.json()["event_ids"]
    found = await client.get(
        "/v1/profiles", params={"email": "billz@supabase.io"}, headers=tenant.secret
    )
    [profile] = found.json()["data"]
    assert {"kind": "external_id", "value": "stripe:cus_IhGfebO16cMIGN"} in profile["identities"]
    events = (
        await client.get(f"/v1/profiles/{profile['id']}/events", headers=tenant.secret)
    ).json()["data"]
    assert [(e["id"], e["event_type"], e["source"], e["source_type"]) for e in events] == [
        (event_id, "purchase_completed", "stripe", "external")
    ]
    again = await client.post(made["url"], content=body, headers=stripe_headers(body))
    assert again.json()["status"] == "duplicate"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Stripe-Signature": "garbage"},
        {"Stripe-Signature": "t=1,v1=00"},
    ],
)
async def test_a_stripe_delivery_without_a_valid_signature_is_401_and_recorded(
    client: httpx.AsyncClient, tenant: TenantKeys, headers: dict[str, str]
) -> None:
    made = await connect(client, tenant, "stripe", STRIPE_SECRET)
    body = fixture("stripe", "charge.refunded.json")
    response = await client.post(made["url"], content=body, headers=headers)
    assert response.status_code == 401
    [row] = await deliveries(client, tenant, connection_id=made["id"])
    assert (row["verified"], row["outcome"]) == (False, "rejected")


async def test_stripe_refuses_a_tampered_body_a_wrong_secret_and_a_stale_timestamp(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    made = await connect(client, tenant, "stripe", STRIPE_SECRET)
    body = fixture("stripe", "charge.refunded.json")
    tampered = await client.post(
        made["url"], content=body.replace(b"2500", b"9999", 1), headers=stripe_headers(body)
    )
    wrong = await client.post(made["url"], content=body, headers=stripe_headers(body, "whsec_x"))
    stale = await client.post(
        made["url"], content=body, headers=stripe_headers(body, at=int(time.time()) - 301)
    )
    assert [r.status_code for r in (tampered, wrong, stale)] == [401, 401, 401]
    rows = await deliveries(client, tenant, connection_id=made["id"])
    assert [(r["verified"], r["outcome"]) for r in rows] == [(False, "rejected")] * 3


async def test_shopify_verifies_with_either_secret(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    made = await connect(
        client, tenant, "shopify", SHOPIFY_SECRET, secondary_secret=SHOPIFY_ADMIN_SECRET
    )
    body = fixture("shopify", "orders_paid.json")
    app = await client.post(made["url"], content=body, headers=shopify_headers(body, "orders/paid"))
    admin_signed = shopify_headers(body, "orders/paid", SHOPIFY_ADMIN_SECRET)
    admin = await client.post(made["url"], content=body, headers=admin_signed)
    assert (app.status_code, admin.status_code) == (200, 200)
    assert app.json()["status"] == "accepted"
    # Each carries its own X-Shopify-Event-Id: two deliveries, as Shopify would send.
    assert admin.json()["status"] == "accepted"


async def test_typeform_and_hotmart_deliveries_are_accepted(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    typeform = await connect(client, tenant, "typeform", TYPEFORM_SECRET)
    body = fixture("typeform", "form_response__typeform_docs_example_2018.json")
    form = await client.post(
        typeform["url"],
        content=body,
        headers={"Typeform-Signature": typeform_signature(TYPEFORM_SECRET, body)},
    )
    assert form.status_code == 200, form.text
    assert form.json()["status"] == "accepted"

    hotmart = await connect(client, tenant, "hotmart", HOTTOK)
    body = fixture("hotmart", "purchase_approved__real_anonymized_1.json")
    sale = await client.post(hotmart["url"], content=body, headers={"X-HOTMART-HOTTOK": HOTTOK})
    assert sale.status_code == 200, sale.text
    assert sale.json()["status"] == "accepted"
    refused = await client.post(hotmart["url"], content=body, headers={"X-HOTMART-HOTTOK": "no"})
    assert refused.status_code == 401
    [last, *_] = await deliveries(client, tenant, connection_id=hotmart["id"])
    assert last["outcome"] == "rejected"


async def test_an_unmapped_stripe_type_is_ignored_and_replay_is_idempotent(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    made = await connect(client, tenant, "stripe", STRIPE_SECRET)
    event = orjson.loads(fixture("stripe", "payment_intent.succeeded.json"))
    unmapped = orjson.dumps({**event, "id": "evt_unmapped_1", "type": "customer.created"})
    ignored = await client.post(made["url"], content=unmapped, headers=stripe_headers(unmapped))
    assert ignored.json()["status"] == "ignored"
    mapped = fixture("stripe", "payment_intent.succeeded.json")
    accepted = await client.post(made["url"], content=mapped, headers=stripe_headers(mapped))
    replayed = await client.post(
        f"/v1/webhook-deliveries/{accepted.json()['delivery_id']}/replay", headers=tenant.secret
    )
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["status"] == "duplicate"
    rows = await deliveries(client, tenant, connection_id=made["id"])
    assert [(r["outcome"], r["replays"]) for r in rows] == [("duplicate", 1), ("ignored", 0)]
    assert rows[0]["event_ids"] == accepted.json()["event_ids"]


@pytest.mark.parametrize(
    "path",
    [
        f"/webhooks/stripe/{uuid.uuid4()}",
        "/webhooks/stripe/not-a-uuid",
        f"/webhooks/paypal/{uuid.uuid4()}",
    ],
)
async def test_an_unknown_connection_is_401_never_404(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(path, content=b"{}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unverified_delivery"


async def test_an_unknown_connection_and_a_bad_signature_answer_alike(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    """No existence oracle: the same status and byte-identical body for a connection id that
    does not exist, a deleted one, and a real one with a bad signature (its reason is logged)."""
    made = await connect(client, tenant, "stripe", STRIPE_SECRET)
    deleted = await connect(client, tenant, "stripe", STRIPE_SECRET)
    gone = await client.delete(f"/v1/connections/{deleted['id']}", headers=tenant.secret)
    assert gone.status_code == 204
    body = fixture("stripe", "charge.refunded.json")
    bad = stripe_headers(body, "whsec_wrong")
    answers = [
        await client.post(url, content=body, headers=bad)
        for url in (made["url"], deleted["url"], f"/webhooks/stripe/{uuid.uuid4()}")
    ]
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert answers[0].content == answers[1].content == answers[2].content
    [row] = await deliveries(client, tenant, connection_id=made["id"])
    assert row["outcome"] == "rejected"
    assert row["reason"], "the tenant's log still says why"


async def test_a_delivery_to_another_providers_url_is_401(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    made = await connect(client, tenant, "stripe", STRIPE_SECRET)
    body = fixture("stripe", "charge.refunded.json")
    response = await client.post(
        f"/webhooks/shopify/{made['id']}", content=body, headers=stripe_headers(body)
    )
    assert response.status_code == 401


async def test_a_verified_but_unreadable_delivery_is_recorded_and_422(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    made = await connect(client, tenant, "stripe", STRIPE_SECRET)
    body = b'{"id": "evt_broken", "type": "checkout.session.completed", "data": '
    response = await client.post(made["url"], content=body, headers=stripe_headers(body))
    assert response.status_code == 422, response.text
    [row] = await deliveries(client, tenant, connection_id=made["id"])
    assert (row["verified"], row["outcome"]) == (True, "invalid")
    assert response.json()["error"]["delivery_id"] == row["id"]


async def test_an_oversized_delivery_is_413(client: httpx.AsyncClient, tenant: TenantKeys) -> None:
    made = await connect(client, tenant, "stripe", STRIPE_SECRET)
    body = b'{"pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = await client.post(made["url"], content=body, headers=stripe_headers(body))
    assert response.status_code == 413


async def test_delivery_log_pages_and_rejects_bad_queries(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    made = await connect(client, tenant, "stripe", STRIPE_SECRET)
    for _ in range(3):
        await client.post(made["url"], content=b"{}", headers={"Stripe-Signature": "t=1,v1=0"})
    first = await client.get("/v1/webhook-deliveries", params={"limit": 2}, headers=tenant.secret)
    cursor = first.json()["next_cursor"]
    second = await client.get(
        "/v1/webhook-deliveries", params={"limit": 2, "cursor": cursor}, headers=tenant.secret
    )
    ids = [r["id"] for r in first.json()["data"] + second.json()["data"]]
    assert len(ids) == len(set(ids)) == 3
    bad = await client.get(
        "/v1/webhook-deliveries", params={"connection_id": "x"}, headers=tenant.secret
    )
    public = await client.get("/v1/webhook-deliveries", headers=tenant.public)
    unknown = await client.post(
        f"/v1/webhook-deliveries/{uuid.uuid4()}/replay", headers=tenant.secret
    )
    unverified = await client.post(f"/v1/webhook-deliveries/{ids[0]}/replay", headers=tenant.secret)
    assert [r.status_code for r in (bad, public, unknown, unverified)] == [422, 403, 404, 409]


async def test_webhook_routes_send_no_cors_headers(
    client: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    made = await connect(client, tenant, "stripe", STRIPE_SECRET)
    response = await client.post(
        made["url"], content=b"{}", headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in response.headers


def _signed(provider: str, name: str, body: bytes) -> dict[str, str]:
    if provider == "stripe":
        return stripe_headers(body)
    if provider == "shopify":
        topic = name.removesuffix(".json").split("_shopify")[0].replace("_", "/", 1)
        return shopify_headers(body, topic)
    if provider == "typeform":
        return {"Typeform-Signature": typeform_signature(TYPEFORM_SECRET, body)}
    return {"X-HOTMART-HOTTOK": HOTTOK}


SECRETS = {
    "stripe": STRIPE_SECRET,
    "shopify": SHOPIFY_SECRET,
    "typeform": TYPEFORM_SECRET,
    "hotmart": HOTTOK,
}
EVERY_FIXTURE = sorted(
    (path.parent.name, path.name)
    for path in FIXTURES.glob("*/*.json")
    # Stripe's OpenAPI resources file is a catalogue of objects, not a delivery.
    if not path.name.startswith("_stripe_openapi")
)


@pytest.mark.parametrize(("provider", "name"), EVERY_FIXTURE)
async def test_every_captured_delivery_is_answered_and_recorded(
    client: httpx.AsyncClient, tenant: TenantKeys, provider: str, name: str
) -> None:
    """The real payloads (the anonymised Hotmart ones with their corrupted types included)
    are accepted or ignored, never a 500, and each leaves a verified record."""
    made = await connect(client, tenant, provider, SECRETS[provider])
    body = fixture(provider, name)
    response = await client.post(made["url"], content=body, headers=_signed(provider, name, body))
    assert response.status_code == 200, response.text
    assert response.json()["status"] in {"accepted", "ignored"}
    [row] = await deliveries(client, tenant, connection_id=made["id"])
    assert (row["verified"], row["outcome"]) == (True, response.json()["status"])


# --- nested too deep, and text no database may store (decision 39) ----------------------------

DEEP_DELIVERIES = {
    "stripe": (
        b'{"id": "evt_deep", "type": "checkout.session.completed", "data": {"object": ',
        b"}}",
    ),
    "shopify": (b'{"id": 99, "email": "deep@x.io", "line_items": ', b"}"),
    "typeform": (b'{"event_id": "deep", "event_type": "form_response", "form_response": ', b"}"),
    "hotmart": (b'{"id": "deep", "event": "PURCHASE_APPROVED", "data": ', b"}"),
}


async def stored_delivery(database: Database, tenant: TenantKeys, delivery_id: str) -> Any:
    async with database.read() as session:
        return await WebhookRepository(session, uuid.UUID(tenant.tenant_id)).get_delivery(
            uuid.UUID(delivery_id)
        )


@pytest.mark.parametrize("levels", [255, 1023, 10_000, 100_000])
@pytest.mark.parametrize("provider", sorted(DEEP_DELIVERIES))
async def test_a_signed_delivery_nested_too_deep_is_recorded_with_its_body_and_422(
    client: httpx.AsyncClient,
    database: Database,
    tenant: TenantKeys,
    provider: str,
    levels: int,
) -> None:
    """DESIGN §7: every delivery is on record with its raw body. One too deep to process is
    `invalid` (the reason says why), answered 422 `too_deep`, never a 500, and replayable."""
    made = await connect(client, tenant, provider, SECRETS[provider])
    before, after = DEEP_DELIVERIES[provider]
    body = before + b"[" * levels + b"]" * levels + after
    response = await client.post(
        made["url"], content=body, headers=_signed(provider, "orders_paid.json", body)
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "too_deep"
    [row] = await deliveries(client, tenant, connection_id=made["id"])
    assert (row["verified"], row["outcome"], row["event_ids"]) == (True, "invalid", [])
    assert "deeper than 64 levels" in row["reason"]
    assert row["id"] == error["delivery_id"]
    stored = await stored_delivery(database, tenant, row["id"])
    assert stored.body == body
    assert stored.errors[0]["code"] == "too_deep"
    replayed = await client.post(
        f"/v1/webhook-deliveries/{row['id']}/replay", headers=tenant.secret
    )
    assert replayed.status_code == 422, replayed.text
    assert replayed.json()["error"]["code"] == "too_deep"


# Where each fixture's mapped object opens: a key and a value with NUL and lone surrogates go
# right inside it.
UNSTORABLE_AT = {
    ("stripe", "checkout.session.completed.json"): b'"object": {',
    ("shopify", "orders_paid.json"): b"{",
    ("typeform", "form_response__typeform_docs_example_2018.json"): b'"form_response": {',
    ("hotmart", "purchase_approved__real_anonymized_1.json"): b'"data": {',
}
UNSTORABLE_MEMBER = b'"probe\\u0000\\ud800": "v\\u0000\\udc00", '


@pytest.mark.parametrize(("provider", "name"), sorted(UNSTORABLE_AT))
async def test_a_delivery_with_nul_and_lone_surrogates_is_stored_with_the_replacement_character(
    client: httpx.AsyncClient, database: Database, tenant: TenantKeys, provider: str, name: str
) -> None:
    made = await connect(client, tenant, provider, SECRETS[provider])
    opening = UNSTORABLE_AT[(provider, name)]
    body = fixture(provider, name).replace(opening, opening + UNSTORABLE_MEMBER, 1)
    response = await client.post(made["url"], content=body, headers=_signed(provider, name, body))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "accepted"
    [event_id] = response.json()["event_ids"][:1]
    stored = await stored_delivery(database, tenant, response.json()["delivery_id"])
    assert stored.body == body
    async with database.read() as session:
        event = await session.get(Event, (uuid.UUID(tenant.tenant_id), uuid.UUID(event_id)))
    assert event is not None
    kept = orjson.dumps([event.payload, event.raw_payload]).decode()
    assert '"probe\ufffd\ufffd":"v\ufffd\ufffd"' in kept
