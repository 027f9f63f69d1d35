"""Webhook signing secrets sealed at rest (issue 15, row 13): the stored row never holds a
secret in clear, deliveries still verify with each provider's scheme, the key can be rotated,
and a key that opens nothing fails verification (401, recorded) rather than a 500."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from journeyline.app import create_app
from journeyline.config import Settings
from journeyline.store.db import Database
from journeyline.store.encryption import (
    PREFIX,
    SecretBox,
    SecretUnreadable,
    secret_box,
)
from journeyline.store.models import WebhookConnection
from tests.api.test_webhooks import (
    SHOPIFY_ADMIN_SECRET,
    SHOPIFY_SECRET,
    STRIPE_SECRET,
    connect,
    deliveries,
    shopify_headers,
    stripe_headers,
)
from tests.conftest import TenantKeys, make_tenant
from tests.webhooks.signing import fixture


def test_a_sealed_secret_opens_with_its_key_only() -> None:
    box = SecretBox(["k1"])
    sealed = box.seal("whsec_abc")
    assert sealed.startswith(PREFIX)
    assert "whsec_abc" not in sealed
    assert box.seal("whsec_abc") != sealed, "a fresh IV each time"
    assert box.open(sealed) == "whsec_abc"
    with pytest.raises(SecretUnreadable):
        SecretBox(["k2"]).open(sealed)
    with pytest.raises(SecretUnreadable):
        box.open("whsec_in_clear")
    with pytest.raises(SecretUnreadable):
        box.open(PREFIX + "tampered")
    assert SecretBox(["k2", "k1"]).open(sealed) == "whsec_abc", "an earlier key still opens"
    assert len(box.seal("x" * 512)) <= 1024, "the longest accepted secret fits its column"


async def stored_row(database: Database, connection_id: str) -> WebhookConnection:
    async with database.read() as session:
        row = await session.scalar(
            select(WebhookConnection).where(WebhookConnection.id == uuid.UUID(connection_id))
        )
    assert row is not None
    return row


async def test_the_row_holds_sealed_secrets_and_deliveries_verify(
    client: httpx.AsyncClient, database: Database, settings: Settings, tenant: TenantKeys
) -> None:
    made = await connect(
        client, tenant, "shopify", SHOPIFY_SECRET, secondary_secret=SHOPIFY_ADMIN_SECRET
    )
    row = await stored_row(database, made["id"])
    assert row.secondary_secret is not None
    for sealed, plain in (
        (row.secret, SHOPIFY_SECRET),
        (row.secondary_secret, SHOPIFY_ADMIN_SECRET),
    ):
        assert sealed.startswith(PREFIX)
        assert plain not in sealed
        assert secret_box(settings).open(sealed) == plain
    body = fixture("shopify", "orders_paid.json")
    for secret in (SHOPIFY_SECRET, SHOPIFY_ADMIN_SECRET):
        answer = await client.post(
            made["url"], content=body, headers=shopify_headers(body, "orders/paid", secret)
        )
        assert answer.status_code == 200, answer.text


async def serve(settings: Settings, database: Database) -> tuple[FastAPI, httpx.AsyncClient]:
    app = create_app(settings, database=database)
    return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_the_key_rotates_and_an_unknown_key_refuses_cleanly(
    settings: Settings, database: Database
) -> None:
    """Sealed under key A; a server on key B with A kept as previous verifies; one on key C
    alone cannot open the secret: 401, recorded as rejected, never a 500."""
    body = fixture("stripe", "charge.refunded.json")
    keyed = {
        name: settings.model_copy(update={"secret_key": key, "previous_secret_keys": previous})
        for name, key, previous in (
            ("a", "key-a", []),
            ("b", "key-b", ["key-a"]),
            ("c", "key-c", []),
        )
    }
    app, http = await serve(keyed["a"], database)
    async with app.router.lifespan_context(app), http:
        tenant = await make_tenant(http, "sealed")
        made = await connect(http, tenant, "stripe", STRIPE_SECRET)
    app, http = await serve(keyed["b"], database)
    async with app.router.lifespan_context(app), http:
        rotated = await http.post(made["url"], content=body, headers=stripe_headers(body))
        assert rotated.status_code == 200, rotated.text
    app, http = await serve(keyed["c"], database)
    async with app.router.lifespan_context(app), http:
        lost = await http.post(made["url"], content=body, headers=stripe_headers(body))
        assert lost.status_code == 401, lost.text
        [last, *_] = await deliveries(http, tenant, connection_id=made["id"])
    assert (last["verified"], last["outcome"]) == (False, "rejected")
    assert "cannot be decrypted" in last["reason"]
