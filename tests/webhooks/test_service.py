"""The delivery machinery with a fake provider: every delivery recorded, verified or not;
duplicates, ignored types, unreadable bodies, replay, tenant scoping."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from journeyline.config import Settings
from journeyline.errors import InvalidPayload, NotFound
from journeyline.store.db import Database
from journeyline.store.models import Event, WebhookDelivery
from journeyline.tenancy.context import build_context
from journeyline.webhooks import service
from journeyline.webhooks.provider import Delivery, Provider
from tests.conftest import TenantKeys
from tests.webhooks.fake import FakeProvider, fake_signature

SECRET = "fake-secret"


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def providers(fake: FakeProvider) -> dict[str, Provider]:
    return {"fake": fake}


async def connect(
    database: Database, settings: Settings, tenant: TenantKeys, secret: str = SECRET
) -> uuid.UUID:
    async with database.transaction() as session:
        connection = await service.create_connection(
            session, settings, uuid.UUID(tenant.tenant_id), "fake", secret, None
        )
        return connection.id


def delivery(body: dict[str, Any] | bytes, secret: str | None = SECRET, **headers: str) -> Delivery:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    signed = {"x-fake-signature": fake_signature(secret, raw)} if secret else {}
    return Delivery(raw, {**signed, **headers}, datetime.now(UTC))


async def stored(database: Database, tenant: TenantKeys) -> list[WebhookDelivery]:
    async with database.read() as session:
        rows = await session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.tenant_id == uuid.UUID(tenant.tenant_id))
            .order_by(WebhookDelivery.id)
        )
        return list(rows.all())


async def test_a_verified_delivery_is_processed_and_recorded(
    database: Database, settings: Settings, tenant: TenantKeys, providers: dict[str, Provider]
) -> None:
    connection = await connect(database, settings, tenant)
    sent = delivery(
        {"id": "d-1", "type": "purchase", "email": "buyer@x.io"},
        **{"x-hotmart-hottok": "token", "user-agent": "Fake/1.0"},
    )
    receipt = await service.receive(database, settings, providers, "fake", str(connection), sent)
    assert receipt.status == "accepted"
    assert len(receipt.event_ids) == 1
    [row] = await stored(database, tenant)
    assert (row.verified, row.outcome, row.kind, row.delivery_key) == (
        True,
        "accepted",
        "purchase",
        "d-1",
    )
    assert row.body == sent.body
    assert row.event_ids == [str(receipt.event_ids[0])]
    assert row.headers["user-agent"] == "Fake/1.0"
    assert "x-hotmart-hottok" not in row.headers
    async with database.read() as session:
        event = await session.scalar(select(Event).where(Event.id == receipt.event_ids[0]))
    assert event is not None
    assert (event.source, event.source_type, event.event_type) == (
        "fake",
        "external",
        "purchase_completed",
    )


async def test_a_redelivery_is_a_duplicate_and_recorded_again(
    database: Database, settings: Settings, tenant: TenantKeys, providers: dict[str, Provider]
) -> None:
    connection = await connect(database, settings, tenant)
    body = {"id": "d-dup", "type": "purchase", "email": "dup@x.io"}
    first = await service.receive(
        database, settings, providers, "fake", str(connection), delivery(body)
    )
    again = await service.receive(
        database, settings, providers, "fake", str(connection), delivery(body)
    )
    assert (first.status, again.status) == ("accepted", "duplicate")
    assert again.event_ids == first.event_ids
    assert [row.outcome for row in await stored(database, tenant)] == ["accepted", "duplicate"]


@pytest.mark.parametrize("secret", ["wrong-secret", None])
async def test_an_unverified_delivery_is_refused_and_recorded(
    database: Database,
    settings: Settings,
    tenant: TenantKeys,
    providers: dict[str, Provider],
    secret: str | None,
) -> None:
    connection = await connect(database, settings, tenant)
    sent = delivery({"id": "d-bad", "type": "purchase", "email": "x@x.io"}, secret=secret)
    with pytest.raises(service.SignatureRejected):
        await service.receive(database, settings, providers, "fake", str(connection), sent)
    [row] = await stored(database, tenant)
    assert (row.verified, row.outcome, row.event_ids) == (False, "rejected", [])
    assert row.reason
    assert row.body == sent.body


@pytest.mark.parametrize(
    ("provider", "connection"),
    [("fake", str(uuid.uuid4())), ("fake", "not-a-uuid"), ("nope", None), ("stripe", None)],
)
async def test_an_unknown_connection_or_provider_is_refused(
    database: Database,
    settings: Settings,
    tenant: TenantKeys,
    providers: dict[str, Provider],
    provider: str,
    connection: str | None,
) -> None:
    real = await connect(database, settings, tenant)
    with pytest.raises(service.UnknownConnection):
        await service.receive(
            database,
            settings,
            {**providers, "stripe": FakeProvider(name="stripe")},
            provider,
            connection or str(real),
            delivery({"id": "d-x", "type": "purchase"}),
        )
    assert await stored(database, tenant) == []


async def test_an_unmapped_type_is_ignored(
    database: Database, settings: Settings, tenant: TenantKeys, providers: dict[str, Provider]
) -> None:
    connection = await connect(database, settings, tenant)
    sent = delivery({"id": "d-new", "type": "refund", "email": "r@x.io"})
    receipt = await service.receive(database, settings, providers, "fake", str(connection), sent)
    assert (receipt.status, receipt.event_ids) == ("ignored", [])
    assert [row.outcome for row in await stored(database, tenant)] == ["ignored"]


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"id": 5}'])
async def test_an_unreadable_delivery_is_recorded_as_invalid(
    database: Database,
    settings: Settings,
    tenant: TenantKeys,
    providers: dict[str, Provider],
    body: bytes,
) -> None:
    connection = await connect(database, settings, tenant)
    receipt = await service.receive(
        database, settings, providers, "fake", str(connection), delivery(body)
    )
    assert receipt.status == "invalid"
    assert isinstance(receipt.error, InvalidPayload)
    [row] = await stored(database, tenant)
    assert (row.verified, row.outcome, row.body) == (True, "invalid", body)


async def test_replay_maps_a_stored_delivery_again_idempotently(
    database: Database,
    settings: Settings,
    tenant: TenantKeys,
    fake: FakeProvider,
    providers: dict[str, Provider],
) -> None:
    connection = await connect(database, settings, tenant)
    sent = delivery({"id": "d-later", "type": "refund", "email": "later@x.io"})
    first = await service.receive(database, settings, providers, "fake", str(connection), sent)
    assert first.status == "ignored"
    context = build_context(uuid.UUID(tenant.tenant_id), "secret", {}, settings)
    fake.mapped_types.add("refund")  # a mapping added since
    replayed = await service.replay(database, settings, providers, context, first.delivery_id)
    again = await service.replay(database, settings, providers, context, first.delivery_id)
    assert replayed.status == "accepted"
    assert (again.status, again.event_ids) == ("duplicate", replayed.event_ids)
    [row] = await stored(database, tenant)
    assert (row.outcome, row.replays, row.event_ids) == (
        "duplicate",
        2,
        [str(replayed.event_ids[0])],
    )


async def test_replay_refuses_unverified_and_other_tenants_deliveries(
    database: Database,
    settings: Settings,
    tenant: TenantKeys,
    other_tenant: TenantKeys,
    providers: dict[str, Provider],
) -> None:
    connection = await connect(database, settings, tenant)
    good = await service.receive(
        database, settings, providers, "fake", str(connection), delivery({"id": "r-1", "type": "x"})
    )
    with pytest.raises(service.SignatureRejected):
        await service.receive(
            database,
            settings,
            providers,
            "fake",
            str(connection),
            delivery({"id": "r-2", "type": "x"}, secret="wrong"),
        )
    rejected = next(row for row in await stored(database, tenant) if not row.verified)
    mine = build_context(uuid.UUID(tenant.tenant_id), "secret", {}, settings)
    theirs = build_context(uuid.UUID(other_tenant.tenant_id), "secret", {}, settings)
    with pytest.raises(service.NotReplayable):
        await service.replay(database, settings, providers, mine, rejected.id)
    with pytest.raises(NotFound):
        await service.replay(database, settings, providers, theirs, good.delivery_id)
