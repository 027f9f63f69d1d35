"""Receiving provider deliveries: find the connection, verify, record, map, run the pipeline;
replay a stored delivery; manage connections.

Every delivery that names a real connection is recorded, verified or not, with its exact body,
so that a rejected or unreadable one can be examined and a verified one replayed (after a
mapping was added, say). A verified delivery's row and its events commit in one transaction:
a delivery recorded as accepted always has its events in the log.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from journeyline.config import Settings
from journeyline.errors import JourneylineError, MergeConflict, NotFound, Unauthorized
from journeyline.ids import parse_uuid, uuid7
from journeyline.ingest import pipeline, wire
from journeyline.ingest import service as ingest_service
from journeyline.logs.context import tenant_known
from journeyline.store.db import Database, Session
from journeyline.store.encryption import SecretUnreadable, secret_box
from journeyline.store.models import WebhookConnection, WebhookDelivery
from journeyline.store.repositories.webhooks import WebhookRepository, find_connection
from journeyline.tenancy import service as tenancy
from journeyline.tenancy.context import TenantContext
from journeyline.webhooks.provider import Delivery, Provider, VerificationFailed

log = logging.getLogger("journeyline.webhooks")

# Credentials never stored with a delivery (the provider's signature headers are kept: they
# are proofs over this body, useless for anything else).
CREDENTIAL_HEADERS = frozenset(
    {"authorization", "cookie", "x-api-key", "x-trackmate-api-key", "x-hotmart-hottok"}
)


# What a refused delivery is told, whatever the cause: an unknown connection and a bad
# signature answer alike, so the 401 is no oracle for which connection ids exist (the cause is
# in the delivery log, for the tenant, when the connection is real).
REFUSED_CODE = "unverified_delivery"
REFUSED_MESSAGE = "the delivery is not verified: a bad signature or token, or no such connection"


class DeliveryRefused(Unauthorized):
    code = REFUSED_CODE

    def __init__(self) -> None:
        super().__init__(REFUSED_MESSAGE)


class UnknownConnection(DeliveryRefused):
    """No such connection (or provider): nothing is recorded."""


class SignatureRejected(DeliveryRefused):
    """A real connection, an unverified delivery: recorded with the reason."""


class NotReplayable(MergeConflict):
    code = "not_replayable"


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a delivery did: `status` is accepted | duplicate | ignored | invalid | failed."""

    delivery_id: uuid.UUID
    status: str
    event_ids: list[uuid.UUID] = field(default_factory=list)
    error: JourneylineError | None = None


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        name.lower(): value
        for name, value in headers.items()
        if name.lower() not in CREDENTIAL_HEADERS
    }


async def receive(
    database: Database,
    settings: Settings,
    providers: Mapping[str, Provider],
    provider_name: str,
    connection_ref: str,
    delivery: Delivery,
) -> Receipt:
    """Verify and process one delivery. An unknown provider or connection, and a delivery that
    fails verification, are 401s (never 404: Typeform disables a webhook that answers 404)."""
    provider = providers.get(provider_name)
    connection_id = parse_uuid(connection_ref)
    if provider is None or connection_id is None:
        raise UnknownConnection()
    async with database.read() as session:
        connection = await find_connection(session, connection_id)
    if connection is None or connection.provider != provider.name:
        raise UnknownConnection()
    delivery_id = uuid7()
    try:
        provider.verify(delivery, signing_secrets(settings, connection), delivery.received_at)
    except VerificationFailed as failed:
        await database.run(
            partial(
                _record,
                connection=connection,
                delivery=delivery,
                delivery_id=delivery_id,
                verified=False,
                receipt=Receipt(delivery_id, "rejected"),
                reason=failed.reason,
            )
        )
        raise SignatureRejected() from None
    # A verified delivery authenticates its connection's tenant, as a key does (decision 54).
    tenant_known(connection.tenant_id)
    return await database.run(
        partial(
            _process,
            settings=settings,
            provider=provider,
            connection=connection,
            delivery=delivery,
            delivery_id=delivery_id,
        )
    )


async def _context(session: Session, tenant_id: uuid.UUID, settings: Settings) -> TenantContext:
    context = await tenancy.context_for_tenant(session, tenant_id, "secret", settings)
    if context is None:
        raise UnknownConnection()
    return context


@dataclass(frozen=True, slots=True)
class _Processed:
    receipt: Receipt
    kind: str | None
    delivery_key: str | None
    errors: list[dict[str, Any]]


async def _map_and_run(
    session: Session,
    context: TenantContext,
    provider: Provider,
    delivery: Delivery,
    delivery_id: uuid.UUID,
) -> _Processed:
    try:
        mapped = provider.parse(delivery)
    except JourneylineError as exc:
        invalid = Receipt(delivery_id, "invalid", error=exc)
        return _Processed(invalid, None, None, [wire.error_detail(exc)])
    if not mapped.events:
        return _Processed(Receipt(delivery_id, "ignored"), mapped.kind, mapped.delivery_key, [])
    outcomes = await pipeline.process(session, context, mapped.events)
    ingest_service.record_metrics(outcomes)
    failures = [(i, o.error) for i, o in enumerate(outcomes) if o.error is not None]
    errors = [wire.indexed_error(index, error) for index, error in failures]
    event_ids = [o.event_id for o in outcomes if o.event_id is not None and o.error is None]
    if failures and not event_ids:
        receipt = Receipt(delivery_id, "failed", error=failures[0][1])
    elif all(o.duplicate for o in outcomes if o.error is None):
        receipt = Receipt(delivery_id, "duplicate", event_ids)
    else:
        receipt = Receipt(delivery_id, "accepted", event_ids)
    return _Processed(receipt, mapped.kind, mapped.delivery_key, errors)


async def _process(
    session: Session,
    *,
    settings: Settings,
    provider: Provider,
    connection: WebhookConnection,
    delivery: Delivery,
    delivery_id: uuid.UUID,
) -> Receipt:
    context = await _context(session, connection.tenant_id, settings)
    processed = await _map_and_run(session, context, provider, delivery, delivery_id)
    await _record(
        session,
        connection=connection,
        delivery=delivery,
        delivery_id=delivery_id,
        verified=True,
        receipt=processed.receipt,
        reason=processed.receipt.error.message if processed.receipt.error else None,
        kind=processed.kind,
        delivery_key=processed.delivery_key,
        errors=processed.errors,
    )
    return processed.receipt


async def _record(
    session: Session,
    *,
    connection: WebhookConnection,
    delivery: Delivery,
    delivery_id: uuid.UUID,
    verified: bool,
    receipt: Receipt,
    reason: str | None,
    kind: str | None = None,
    delivery_key: str | None = None,
    errors: Sequence[dict[str, Any]] = (),
) -> None:
    await WebhookRepository(session, connection.tenant_id).add_delivery(
        id=delivery_id,
        connection_id=connection.id,
        provider=connection.provider,
        received_at=delivery.received_at,
        headers=kept_headers(delivery.headers),
        body=delivery.body,
        verified=verified,
        outcome=receipt.status,
        reason=reason[:500] if reason else None,
        kind=kind[:255] if kind else None,
        delivery_key=delivery_key[:255] if delivery_key else None,
        event_ids=[str(event_id) for event_id in receipt.event_ids],
        replays=0,
        processed_at=datetime.now(UTC) if verified else None,
        errors=list(errors),
    )


async def replay(
    database: Database,
    settings: Settings,
    providers: Mapping[str, Provider],
    context: TenantContext,
    delivery_id: uuid.UUID,
) -> Receipt:
    """Process a stored, verified delivery again. Idempotent: events it already stored are
    duplicates; a mapping added since turns an ignored delivery into events."""

    async def work(session: Session) -> Receipt:
        repo = WebhookRepository(session, context.tenant_id)
        stored = await repo.get_delivery(delivery_id)
        if stored is None:
            raise NotFound(f"no webhook delivery {delivery_id}")
        provider = providers.get(stored.provider)
        if not stored.verified or provider is None:
            raise NotReplayable("only a verified delivery can be replayed; this one never was")
        delivery = Delivery(
            stored.body,
            dict(stored.headers),
            stored.received_at,
            max_depth=settings.limits.max_json_depth,
        )
        processed = await _map_and_run(session, context, provider, delivery, delivery_id)
        await repo.record_replay(
            delivery_id,
            outcome=processed.receipt.status,
            reason=processed.receipt.error.message[:500] if processed.receipt.error else None,
            kind=processed.kind[:255] if processed.kind else stored.kind,
            delivery_key=(processed.delivery_key or "")[:255] or stored.delivery_key,
            event_ids=[str(event_id) for event_id in processed.receipt.event_ids],
            errors=processed.errors,
            processed_at=datetime.now(UTC),
        )
        return processed.receipt

    return await database.run(work)


async def create_connection(
    session: Session,
    settings: Settings,
    tenant_id: uuid.UUID,
    provider: str,
    secret: str,
    secondary_secret: str | None,
) -> WebhookConnection:
    """The connection, its secrets sealed (store/encryption.py): the row never holds them in
    clear."""
    box = secret_box(settings)
    return await WebhookRepository(session, tenant_id).add_connection(
        uuid7(),
        provider,
        box.seal(secret),
        box.seal(secondary_secret) if secondary_secret is not None else None,
        datetime.now(UTC),
    )


def signing_secrets(settings: Settings, connection: WebhookConnection) -> list[str]:
    """The connection's secrets in clear, to verify a delivery with. A secret no configured key
    opens fails the verification (the delivery is recorded as rejected and answered 401, never
    500) and is logged: the operator changed JOURNEYLINE_SECRET_KEY without keeping the old
    one."""
    box = secret_box(settings)
    try:
        return [box.open(s) for s in (connection.secret, connection.secondary_secret) if s]
    except SecretUnreadable:
        log.error(
            "webhook connection %s: its secrets do not decrypt with JOURNEYLINE_SECRET_KEY "
            "(list an earlier key in JOURNEYLINE_PREVIOUS_SECRET_KEYS)",
            connection.id,
        )
        raise VerificationFailed("the connection's secret cannot be decrypted") from None


async def list_connections(session: Session, tenant_id: uuid.UUID) -> list[WebhookConnection]:
    return await WebhookRepository(session, tenant_id).connections()


async def delete_connection(
    session: Session, tenant_id: uuid.UUID, connection_id: uuid.UUID
) -> None:
    if not await WebhookRepository(session, tenant_id).delete_connection(connection_id):
        raise NotFound(f"no webhook connection {connection_id}")


async def deliveries(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    connection_id: uuid.UUID | None,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None,
) -> tuple[list[WebhookDelivery], tuple[datetime, uuid.UUID] | None]:
    rows = await WebhookRepository(session, tenant_id).deliveries_page(
        connection_id=connection_id, limit=limit + 1, before=before
    )
    page = rows[:limit]
    following = (page[-1].received_at, page[-1].id) if len(rows) > limit else None
    return page, following
