"""Filling a tenant with the demo data set through the pipeline, the webhooks and the sweep."""

from __future__ import annotations

import secrets
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from journeyline.config import Settings
from journeyline.demo.dataset import build_dataset
from journeyline.demo.signing import shopify_hmac, stripe_signature
from journeyline.demo.timeline import ProviderCall, TrackedCall
from journeyline.errors import NotFound
from journeyline.ingest import pipeline
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.outcome import EventOutcome
from journeyline.ingest.service import parser_for
from journeyline.orders.abandonment import sweep_abandoned
from journeyline.store.db import Database, Session
from journeyline.store.models import WebhookConnection
from journeyline.tenancy import service as tenancy
from journeyline.tenancy.context import TenantContext
from journeyline.tenancy.service import CreatedTenant
from journeyline.web.overview import Overview, overview
from journeyline.webhooks import service as webhooks
from journeyline.webhooks.provider import Delivery
from journeyline.webhooks.registry import PROVIDERS

DEFAULT_SEED = 1
DEFAULT_TENANT_NAME = "Demo"


class DemoRefused(Exception):
    """The pipeline or a provider mapping refused part of the data set: a bug in the data set,
    never something a user can fix, so it stops the run loudly."""


@dataclass(frozen=True, slots=True)
class DemoReport:
    tenant_id: uuid.UUID
    seed: int
    visitors: int
    people: int
    events_stored: int  # tracker and server events new to the log
    events_duplicate: int  # already there: an earlier run with the same seed stored them
    merges: int  # shadow profiles merged into anchors by this run
    deliveries: dict[str, int]  # by outcome: accepted, duplicate
    abandoned: int  # carts the sweep abandoned in this run
    totals: Overview  # the tenant as a whole afterwards (the dashboard's overview)


@dataclass
class _Tally:
    stored: int = 0
    duplicate: int = 0
    merges: int = 0
    deliveries: Counter[str] = field(default_factory=Counter)

    def add(self, outcomes: Sequence[EventOutcome]) -> None:
        for outcome in outcomes:
            if outcome.error is not None:
                raise DemoRefused(f"the pipeline refused a demo event: {outcome.error}")
            if outcome.duplicate:
                self.duplicate += 1
            else:
                self.stored += 1
            self.merges += len(outcome.merged_profile_ids)


async def create_tenant(database: Database, name: str) -> CreatedTenant:
    return await database.run(lambda session: tenancy.create_tenant(session, name))


async def tenant_of_secret_key(database: Database, key: str) -> uuid.UUID | None:
    """The tenant a secret key belongs to; None for an unknown key or a public one."""
    async with database.read() as session:
        owner = await tenancy.authenticate_key(session, key)
    return owner.tenant_id if owner is not None and owner.kind == "secret" else None


async def _connection(
    database: Database, settings: Settings, tenant_id: uuid.UUID, provider: str
) -> WebhookConnection:
    """The tenant's first connection of `provider`, else a new one with a random secret. A
    second run signs with the stored secret of the connection the first made, and never
    connects the provider twice."""

    async def work(session: Session) -> WebhookConnection:
        for connection in await webhooks.list_connections(session, tenant_id):
            if connection.provider == provider:
                return connection
        # Stripe's signing secrets read `whsec_…`; Shopify's are bare.
        secret = ("whsec_" if provider == "stripe" else "") + secrets.token_hex(24)
        return await webhooks.create_connection(
            session, settings, tenant_id, provider, secret, None
        )

    return await database.run(work)


def _signed_headers(call: ProviderCall, secret: str) -> dict[str, str]:
    """The delivery's headers with the provider's own signature over its exact body."""
    if call.provider == "stripe":
        signature = stripe_signature(secret, call.body, int(call.at.timestamp()))
        return {**call.headers, "stripe-signature": signature}
    return {**call.headers, "x-shopify-hmac-sha256": shopify_hmac(secret, call.body)}


async def _deliver(
    database: Database, settings: Settings, call: ProviderCall, connection: WebhookConnection
) -> str:
    # Received when it was sent: Stripe's signed timestamp is then within its five minutes, and
    # the delivery log reads like the month it describes.
    secret = webhooks.signing_secrets(settings, connection)[0]
    delivery = Delivery(call.body, _signed_headers(call, secret), call.at)
    receipt = await webhooks.receive(
        database, settings, PROVIDERS, call.provider, str(connection.id), delivery
    )
    if receipt.error is not None:
        raise DemoRefused(f"the {call.provider} delivery was refused: {receipt.error}")
    return receipt.status


async def _contexts(
    database: Database, settings: Settings, tenant_id: uuid.UUID
) -> tuple[TenantContext, TenantContext]:
    """The tenant as its visitors' browsers (public key) and as its own server (secret key)."""
    async with database.read() as session:
        browser = await tenancy.context_for_tenant(session, tenant_id, "public", settings)
        server = await tenancy.context_for_tenant(session, tenant_id, "secret", settings)
    if browser is None or server is None:
        raise NotFound(f"no tenant {tenant_id}")
    return browser, server


async def fill_tenant(
    database: Database,
    settings: Settings,
    tenant_id: uuid.UUID,
    *,
    seed: int = DEFAULT_SEED,
    now: datetime,
) -> DemoReport:
    """Send the demo data set for `seed` over the 30 days before `now` to the tenant, the way
    it would have arrived: tracker and server events through the pipeline in time order, Stripe
    and Shopify deliveries signed and received through the webhooks service; then abandon the
    carts left behind. Every call carries a fixed id, so running it again stores nothing new."""
    browser, server = await _contexts(database, settings, tenant_id)
    dataset = build_dataset(seed, now)
    connections = {
        provider: await _connection(database, settings, tenant_id, provider)
        for provider in ("stripe", "shopify")
    }
    tally = _Tally()
    pending: list[CanonicalEvent] = []

    async def flush() -> None:
        if not pending:
            return
        chunk = list(pending)
        pending.clear()
        # The pipeline reads only the tenant's identity rules from the context, which are the
        # same whichever key speaks; the adapters already gave each event its source.
        tally.add(await database.run(lambda session: pipeline.process(session, server, chunk)))

    for call in dataset.calls:
        if isinstance(call, TrackedCall):
            parse = parser_for("keystone", server if call.from_server else browser, call.at)
            pending.append(parse(call.body))
            if len(pending) >= settings.worker.batch_chunk_size:
                await flush()
            continue
        # Deliveries are interleaved at their moment: a purchase must find the visitor's
        # earlier events already resolved, as it would have.
        await flush()
        tally.deliveries[await _deliver(database, settings, call, connections[call.provider])] += 1
    await flush()
    swept = await sweep_abandoned(database, settings, now=now, tenant_id=tenant_id)
    async with database.read() as session:
        totals = await overview(session, tenant_id)
    return DemoReport(
        tenant_id=tenant_id,
        seed=seed,
        visitors=dataset.visitors,
        people=len(dataset.people),
        events_stored=tally.stored,
        events_duplicate=tally.duplicate,
        merges=tally.merges,
        deliveries=dict(tally.deliveries),
        abandoned=swept.abandoned,
        totals=totals,
    )
