"""Many processes, one truth: two `journeyline serve` (one port each) and two `journeyline worker`
on one fresh PostgreSQL database and the lane's Redis, under 20 concurrent clients for a bounded
time mixing every dialect, then the invariants of decision 70 checked on what is stored.

JOURNEYLINE_SOAK_SECONDS sets how long the clients send (60 in CI, 15 by default elsewhere).
The figures are printed (`-s`, or `-rA`) for docs/scaling.md."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import random
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from bench.servers import Server, journeyline_env, journeyline_server, journeyline_workers
from redis import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from websockets.asyncio.client import connect

from journeyline.demo.signing import shopify_hmac, stripe_signature
from journeyline.store import migrate
from journeyline.store.db import Database
from tests.conftest import IN_CI, _create_pg_database, _drop_pg_database
from tests.ingest.test_rebuild import Snapshot, snapshot
from tests.pooled import POOLER_ENV, Pooler

# The clients send for SECONDS, then the drain, the checks and two rebuilds: past the default
# 120 s in CI.
pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.soak, pytest.mark.timeout(600)]

CLIENTS = 20
SECONDS = float(os.environ.get("JOURNEYLINE_SOAK_SECONDS") or (60 if IN_CI else 15))
DRAIN_SECONDS = 120.0
ADMIN_TOKEN = "soak-admin-token"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"
STRIPE_SECRET = "whsec_soak_" + "0" * 24
SHOPIFY_SECRET = "soak-shopify-secret"


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    public_key: str
    secret_key: str
    stripe: str
    shopify: str

    @property
    def secret(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret_key}"}


@dataclass
class Ledger:
    """What the clients were told: every acknowledged message id (per tenant) with the event id
    it was answered, webhook event ids, accepted batch jobs, and every answer's status."""

    acknowledged: dict[tuple[str, str], str] = field(default_factory=dict)
    webhook_events: dict[str, set[str]] = field(default_factory=dict)
    jobs: dict[str, str] = field(default_factory=dict)
    batch_message_ids: dict[tuple[str, str], None] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    figures: Counter[str] = field(default_factory=Counter)
    per_port: Counter[int] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)

    def ack(self, tenant: Tenant, message_id: str, event_id: str) -> None:
        known = self.acknowledged.setdefault((tenant.tenant_id, message_id), event_id)
        if known != event_id:
            self.unexpected.append(f"{message_id} answered {event_id}, before {known}")


@dataclass
class Client:
    number: int
    tenant: Tenant
    servers: list[Server]
    http: httpx.AsyncClient
    ledger: Ledger
    rng: random.Random
    sent: int = 0
    anonymous: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    merges: list[tuple[str, str]] = field(default_factory=list)

    def server(self) -> Server:
        return self.servers[self.rng.randrange(len(self.servers))]

    def next_id(self, kind: str) -> str:
        self.sent += 1
        return f"soak-{kind}-{self.number}-{self.sent}"

    async def post(self, server: Server, path: str, **options: Any) -> httpx.Response:
        for attempt in range(5):
            try:
                answer = await self.http.post(server.base_url + path, **options)
                break
            except httpx.TransportError:
                # A keep-alive connection closed as the request went out on it: the client's
                # protocol is to send the same request again (the same message id; a merge sent
                # twice is answered 409, counted as a conflict).
                self.ledger.figures["dropped connections (sent again)"] += 1
                if attempt == 4:
                    raise
        self.ledger.statuses[answer.status_code] += 1
        self.ledger.per_port[server.port] += 1
        if answer.status_code >= 500 or answer.status_code in (400, 401, 422):
            self.ledger.unexpected.append(f"POST {path}: {answer.status_code} {answer.text[:300]}")
        return answer

    async def ingest(self, server: Server, event: dict[str, Any]) -> dict[str, Any] | None:
        answer = await self.post(
            server, "/ingest", json=event, headers={"X-API-Key": self.tenant.public_key}
        )
        if answer.status_code != 200:
            return None
        body: dict[str, Any] = answer.json()
        self.ledger.ack(self.tenant, event["message_id"], body["event_id"])
        self.events.append(event)
        return body

    async def browse(self) -> None:
        anonymous = f"anon-{self.number}-{self.sent}"
        self.anonymous.append(anonymous)
        for page in ("/", "/pricing"):
            await self.ingest(
                self.server(),
                {
                    "event_type": "page",
                    "event_name": "Viewed",
                    "anonymous_id": anonymous,
                    "payload": {"url": f"https://shop.example{page}?utm_source=soak"},
                    "message_id": self.next_id("page"),
                },
            )
        self.ledger.figures["anonymous visits"] += 1

    async def trackmate(self) -> None:
        session = f"tm-{self.number}-{self.sent}"
        event_id = self.next_id("tm")
        body = {
            "company_id": self.tenant.public_key,
            "sessionId": session,
            "events": [
                {"eventType": "page_view", "eventData": {"address": "/"}, "eventId": event_id}
            ],
        }
        answer = await self.post(self.server(), "/api/events", json=body)
        if answer.status_code == 200 and answer.json()["stored"] == 1:
            self.ledger.figures["trackmate events"] += 1
        email = f"tm-{self.number}-{self.sent}@soak.example"
        await self.post(
            self.server(),
            "/api/profile",
            json={"company_id": self.tenant.public_key, "sessionId": session, "email": email},
        )

    async def identify(self) -> None:
        """An earlier anonymous visitor gives an email: a new one makes its shadow the anchor, a
        known one (half the time) collapses the shadow into that email's anchor."""
        anonymous = self.anonymous.pop() if self.anonymous else f"anon-{self.number}-{self.sent}"
        known = self.emails and self.rng.random() < 0.5
        email = (
            self.rng.choice(self.emails)
            if known
            else f"person-{self.number}-{self.sent}@soak.example"
        )
        body = await self.ingest(
            self.server(),
            {
                "event_type": "identify",
                "anonymous_id": anonymous,
                "identity": email,
                "payload": {"plan": self.rng.choice(["free", "pro"])},
                "message_id": self.next_id("identify"),
            },
        )
        if body is not None:
            self.ledger.figures["identifies"] += 1
            if body["merged_profile_ids"]:
                self.ledger.figures["shadows collapsed by identify"] += 1
            if not known:
                self.emails.append(email)
                self.anchors.append(body["profile_id"])

    async def same_email_at_both(self) -> None:
        """The same new email arrives at both processes at once, from two visitors who each
        browsed first (two shadows): one anchor must come out, the other shadow merged into it."""
        email = f"both-{self.number}-{self.sent}@soak.example"
        visitors = [f"both-{self.number}-{self.sent}-{index}" for index in range(len(self.servers))]
        for server, visitor in zip(self.servers, visitors, strict=True):
            await self.ingest(
                server,
                {
                    "event_type": "track",
                    "event_name": "Browsed",
                    "anonymous_id": visitor,
                    "message_id": self.next_id("both-browse"),
                },
            )
        events = [
            {
                "event_type": "identify",
                "anonymous_id": visitor,
                "identity": email,
                "message_id": self.next_id("both"),
            }
            for visitor in visitors
        ]
        await asyncio.gather(
            *(
                self.ingest(server, event)
                for server, event in zip(self.servers, events, strict=True)
            )
        )
        self.ledger.figures["same email at both processes"] += 1

    async def redeliver(self) -> None:
        if not self.events:
            return
        event = self.rng.choice(self.events)
        answer = await self.post(
            self.server(), "/ingest", json=event, headers={"X-API-Key": self.tenant.public_key}
        )
        if answer.status_code == 200:
            body = answer.json()
            if not body["duplicate"]:
                self.ledger.unexpected.append(f"redelivered {event['message_id']} not a duplicate")
            self.ledger.ack(self.tenant, event["message_id"], body["event_id"])
            self.ledger.figures["redeliveries"] += 1

    async def stripe(self) -> None:
        document = copy.deepcopy(_fixture("stripe", "checkout.session.completed.json"))
        document["id"] = f"evt_{self.next_id('stripe').replace('-', '_')}"
        session = document["data"]["object"]
        session["id"] = f"cs_{document['id']}"
        session["customer"] = None
        session["customer_details"]["email"] = f"buyer-{self.number}-{self.sent}@soak.example"
        body = orjson.dumps(document)
        for _ in range(1 + (self.rng.random() < 0.3)):
            headers = {
                "content-type": "application/json",
                "stripe-signature": stripe_signature(STRIPE_SECRET, body, int(time.time())),
            }
            await self.webhook(f"/webhooks/stripe/{self.tenant.stripe}", body, headers)

    async def shopify(self) -> None:
        document = copy.deepcopy(_fixture("shopify", "orders_paid.json"))
        document["id"] = 10**12 + self.number * 10**6 + self.sent
        document["email"] = document["contact_email"] = (
            f"shop-{self.number}-{self.sent}@soak.example"
        )
        document.pop("customer", None)
        body = orjson.dumps(document)
        headers = {
            "content-type": "application/json",
            "x-shopify-topic": "orders/paid",
            "x-shopify-hmac-sha256": shopify_hmac(SHOPIFY_SECRET, body),
            "x-shopify-shop-domain": "soak.myshopify.com",
            "x-shopify-webhook-id": str(uuid.uuid4()),
            "x-shopify-event-id": f"soak-{self.number}-{self.sent}",
        }
        for _ in range(1 + (self.rng.random() < 0.3)):
            await self.webhook(f"/webhooks/shopify/{self.tenant.shopify}", body, headers)

    async def webhook(self, path: str, body: bytes, headers: dict[str, str]) -> None:
        answer = await self.post(self.server(), path, content=body, headers=headers)
        if answer.status_code != 200:
            return
        outcome = answer.json()
        self.ledger.figures[f"webhook {outcome['status']}"] += 1
        if outcome["status"] == "accepted":
            self.ledger.webhook_events.setdefault(self.tenant.tenant_id, set()).update(
                outcome["event_ids"]
            )

    async def batch(self) -> None:
        events = [
            {
                "event_type": "track",
                "event_name": "Backfilled",
                "anonymous_id": f"batch-{self.number}-{self.sent}",
                "message_id": self.next_id("batch"),
            }
            for _ in range(50)
        ]
        answer = await self.post(
            self.server(),
            "/tenant/ingest/batch",
            json={"events": events},
            headers=self.tenant.secret,
        )
        if answer.status_code == 202:
            self.ledger.jobs[answer.json()["job_id"]] = self.tenant.secret_key
            for event in events:
                self.ledger.batch_message_ids[(self.tenant.tenant_id, event["message_id"])] = None
            self.ledger.figures["batches"] += 1

    async def merge(self) -> None:
        if len(self.anchors) < 2:
            return
        into, other = self.rng.sample(self.anchors, 2)
        answer = await self.post(
            self.server(),
            f"/v1/profiles/{into}/merge",
            json={"profile_id": other},
            headers=self.tenant.secret,
        )
        if answer.status_code == 200:
            self.merges.append((into, other))
            self.anchors.remove(other)
            self.ledger.figures["merges"] += 1
        elif answer.status_code == 409:
            self.ledger.figures["conflicts (409)"] += 1

    async def unmerge(self) -> None:
        if not self.merges:
            return
        into, other = self.merges.pop(self.rng.randrange(len(self.merges)))
        answer = await self.post(
            self.server(),
            f"/v1/profiles/{into}/unmerge",
            json={"profile_id": other},
            headers=self.tenant.secret,
        )
        if answer.status_code == 200:
            self.anchors.append(other)
            self.ledger.figures["unmerges"] += 1
        elif answer.status_code == 409:
            self.ledger.figures["conflicts (409)"] += 1

    async def run(self, until: float) -> None:
        actions = [
            (self.browse, 6),
            (self.trackmate, 2),
            (self.identify, 4),
            (self.same_email_at_both, 2),
            (self.redeliver, 2),
            (self.stripe, 1),
            (self.shopify, 1),
            (self.batch, 1),
            (self.merge, 1),
            (self.unmerge, 1),
        ]
        choices, weights = zip(*actions, strict=True)
        while time.monotonic() < until:
            await self.rng.choices(choices, weights)[0]()


_FIXTURE_CACHE: dict[tuple[str, str], Any] = {}


def _fixture(provider: str, name: str) -> Any:
    key = (provider, name)
    if key not in _FIXTURE_CACHE:
        _FIXTURE_CACHE[key] = json.loads((FIXTURES / provider / name).read_text())
    return _FIXTURE_CACHE[key]


@dataclass
class Listener:
    """One /v1/stream of one process for one tenant: every message it heard."""

    port: int
    tenant_id: str
    heard: list[dict[str, Any]] = field(default_factory=list)


async def listen(server: Server, tenant: Tenant, listener: Listener, ready: asyncio.Event) -> None:
    async with connect(f"ws://127.0.0.1:{server.port}/v1/stream?key={tenant.secret_key}") as ws:
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] == "ready":
                ready.set()
            listener.heard.append(message)


@pytest.fixture(scope="module")
def soak_database(database_url: str) -> Iterator[str]:
    """A database of the soak's own on the lane's server, migrated, dropped afterwards."""
    server = os.environ["JOURNEYLINE_TEST_DATABASE_URL"]
    url = asyncio.run(_create_pg_database(server))
    try:
        migrate.upgrade(url)
        yield url
    finally:
        asyncio.run(_drop_pg_database(server, url))


async def make_tenant(http: httpx.AsyncClient, server: Server, name: str | None) -> Tenant:
    tenant_id = ""
    if name is None:
        public, secret = server.public_key, server.secret_key
        printed = re.search(r"tenant     default \(([0-9a-f-]+)\)", server.child.log())
        assert printed is not None, server.child.log()
        tenant_id = printed.group(1)
    else:
        made = await http.post(
            server.base_url + "/admin/tenants",
            json={"name": name},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert made.status_code == 201, made.text
        public, secret = made.json()["public_key"], made.json()["secret_key"]
        tenant_id = made.json()["tenant_id"]
    auth = {"Authorization": f"Bearer {secret}"}
    connections = {}
    for provider, signing in (("stripe", STRIPE_SECRET), ("shopify", SHOPIFY_SECRET)):
        made = await http.post(
            server.base_url + "/v1/connections",
            json={"provider": provider, "secret": signing},
            headers=auth,
        )
        assert made.status_code == 201, made.text
        connections[provider] = made.json()["id"]
    return Tenant(tenant_id, public, secret, connections["stripe"], connections["shopify"])


async def drained(http: httpx.AsyncClient, server: Server, ledger: Ledger) -> None:
    """Wait until every accepted batch job is completed (the two workers drain them)."""
    pending = dict(ledger.jobs)
    async with asyncio.timeout(DRAIN_SECONDS):
        while pending:
            for job_id, secret in list(pending.items()):
                answer = await http.get(
                    f"{server.base_url}/tenant/ingest/jobs/{job_id}",
                    headers={"Authorization": f"Bearer {secret}"},
                )
                assert answer.status_code == 200, answer.text
                status = answer.json()["status"]
                assert status != "failed", answer.text
                if status == "completed":
                    pending.pop(job_id)
            if pending:
                await asyncio.sleep(0.2)  # polling the workers' progress through the API


async def heard_up_to(listeners: list[Listener], last: dict[str, set[str]]) -> None:
    """Wait until each stream heard `event.ingested` for each tenant's last committed events:
    messages travel through Redis after the commit, so the end of the log arrives a little
    after the last answer."""
    async with asyncio.timeout(30):
        while True:
            if all(
                last[listener.tenant_id]
                <= {m["data"]["event_id"] for m in listener.heard if m["type"] == "event.ingested"}
                for listener in listeners
            ):
                return
            await asyncio.sleep(0.1)  # polling what the stream tasks have heard


async def soak(
    servers: list[Server], tenants: list[Tenant]
) -> tuple[Ledger, list[Listener], float]:
    ledger = Ledger()
    limits = httpx.Limits(max_connections=CLIENTS * 2)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        listeners = [Listener(s.port, t.tenant_id) for s in servers for t in tenants]
        readies = [asyncio.Event() for _ in listeners]
        streams = [
            asyncio.create_task(
                listen(
                    next(s for s in servers if s.port == lst.port),
                    next(t for t in tenants if t.tenant_id == lst.tenant_id),
                    lst,
                    ready,
                )
            )
            for lst, ready in zip(listeners, readies, strict=True)
        ]
        async with asyncio.timeout(30):
            await asyncio.gather(*(ready.wait() for ready in readies))
        began = time.monotonic()
        clients = [
            Client(n, tenants[n % len(tenants)], servers, http, ledger, random.Random(n))
            for n in range(CLIENTS)
        ]
        await asyncio.gather(*(c.run(began + SECONDS) for c in clients))
        await drained(http, servers[0], ledger)
        elapsed = time.monotonic() - began
        last = {
            t.tenant_id: await _last_event_ids(os.environ["SOAK_DATABASE_URL"], t.tenant_id)
            for t in tenants
        }
        await heard_up_to(listeners, last)
        for stream in streams:
            stream.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
    return ledger, listeners, elapsed


async def _last_event_ids(url: str, tenant_id: str) -> set[str]:
    rows = await _rows(
        url,
        "SELECT id::text FROM events WHERE tenant_id = :t ORDER BY received_at DESC LIMIT 20",
        t=uuid.UUID(tenant_id),
    )
    return {row[0] for row in rows}


async def _rows(url: str, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(statement), params)]
    finally:
        await engine.dispose()


def violations(url: str, tenant_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Decision 70's stored invariants for one tenant: each query lists what breaks one."""
    t = uuid.UUID(tenant_id)
    checks = {
        # Every identifier is owned by exactly one profile (the key of `identities`), and that
        # profile is live.
        "identifier owned by a merged or missing profile": """
            SELECT i.kind, i.value FROM identities i
            LEFT JOIN profiles p ON p.tenant_id = i.tenant_id AND p.id = i.profile_id
            WHERE i.tenant_id = :t AND (p.id IS NULL OR p.status = 'merged')""",
        # merged_into is set exactly on merged profiles and names a live one: chains <= 1.
        "merge chain longer than one, or merged_into on a live profile": """
            SELECT p.id FROM profiles p
            LEFT JOIN profiles q ON q.tenant_id = p.tenant_id AND q.id = p.merged_into
            WHERE p.tenant_id = :t AND (
                (p.status = 'merged') <> (p.merged_into IS NOT NULL)
                OR (p.merged_into IS NOT NULL AND (q.id IS NULL OR q.status = 'merged')))""",
        "order of a merged or missing profile": """
            SELECT o.order_id FROM orders o
            LEFT JOIN profiles p ON p.tenant_id = o.tenant_id AND p.id = o.profile_id
            WHERE o.tenant_id = :t AND o.profile_id IS NOT NULL
              AND (p.id IS NULL OR p.status = 'merged')""",
        "CRM person of a merged or missing profile": """
            SELECT c.profile_id FROM crm_persons c
            LEFT JOIN profiles p ON p.tenant_id = c.tenant_id AND p.id = c.profile_id
            WHERE c.tenant_id = :t AND (p.id IS NULL OR p.status = 'merged')""",
        "deal of a merged or missing profile": """
            SELECT d.id FROM crm_deals d
            LEFT JOIN profiles p ON p.tenant_id = d.tenant_id AND p.id = d.profile_id
            WHERE d.tenant_id = :t AND d.profile_id IS NOT NULL
              AND (p.id IS NULL OR p.status = 'merged')""",
        "event of a merged or missing profile": """
            SELECT e.id FROM events e
            LEFT JOIN profiles p ON p.tenant_id = e.tenant_id AND p.id = e.profile_id
            WHERE e.tenant_id = :t AND e.profile_id IS NOT NULL AND p.id IS NULL""",
    }
    return {name: asyncio.run(_rows(url, sql, t=t)) for name, sql in checks.items()}


def rebuilt(url: str, tenant_id: str, workdir: Path) -> tuple[Snapshot, Snapshot]:
    """The projections before and after `journeyline rebuild --tenant`, the CLI itself."""

    async def snap() -> Snapshot:
        database = Database.from_url(url)
        try:
            return await snapshot(database, tenant_id)
        finally:
            await database.dispose()

    before = asyncio.run(snap())
    done = subprocess.run(
        [sys.executable, "-m", "journeyline", "rebuild", "--tenant", tenant_id],
        cwd=workdir,
        env=journeyline_env(url),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return before, asyncio.run(snap())


def test_many_processes_one_truth(
    soak_database: str,
    pooler: Pooler | None,
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    Redis.from_url(redis_url).flushdb()
    monkeypatch.setenv("SOAK_DATABASE_URL", soak_database)
    env = {
        "JOURNEYLINE_ADMIN_TOKEN": ADMIN_TOKEN,
        "JOURNEYLINE_KEY_CACHE_SECONDS": "0",
        # The listeners share the test's one event loop with the 20 clients: on a loaded machine
        # they fall behind by more than the default 1,024 messages and are (rightly) told to
        # resync, which is the slow-client rule's test (tests/realtime), not this one's. Here
        # the question is whether each process's stream carries every mutation.
        "JOURNEYLINE_REALTIME__CLIENT_QUEUE": "1000000",
    }
    # In the PgBouncer lane every process reaches the database through the lane's pooler; the
    # checks below read the server directly.
    served = soak_database
    if pooler is not None:
        served = pooler.url(soak_database)
        env.update(POOLER_ENV)
    with (
        journeyline_server(served, tmp_path, redis_url=redis_url, name="serve-a", env=env) as first,
        journeyline_server(
            served,
            tmp_path,
            redis_url=redis_url,
            name="serve-b",
            env=env,
            keys=(first.public_key, first.secret_key),
        ) as second,
        journeyline_workers(2, served, redis_url, tmp_path, env=env),
    ):

        async def setup() -> list[Tenant]:
            async with httpx.AsyncClient(timeout=30) as http:
                return [
                    await make_tenant(http, first, None),
                    await make_tenant(http, second, "soak"),
                ]

        tenants = asyncio.run(setup())
        ledger, listeners, elapsed = asyncio.run(soak([first, second], tenants))
        logs = first.child.log() + second.child.log()

    stored: dict[str, Counter[str]] = {}
    event_ids: dict[str, set[str]] = {}
    merges: dict[str, list[tuple[Any, ...]]] = {}
    for tenant in tenants:
        rows = asyncio.run(
            _rows(
                soak_database,
                "SELECT id::text, external_event_id FROM events WHERE tenant_id = :t",
                t=uuid.UUID(tenant.tenant_id),
            )
        )
        stored[tenant.tenant_id] = Counter(row[1] for row in rows if row[1] is not None)
        event_ids[tenant.tenant_id] = {row[0] for row in rows}
        merges[tenant.tenant_id] = asyncio.run(
            _rows(
                soak_database,
                "SELECT from_profile_id::text, unmerged_at IS NOT NULL FROM profile_merges"
                " WHERE tenant_id = :t",
                t=uuid.UUID(tenant.tenant_id),
            )
        )
    events_in_log = sum(len(ids) for ids in event_ids.values())
    acknowledged = len(ledger.acknowledged) + len(ledger.batch_message_ids)
    webhook_events = sum(len(ids) for ids in ledger.webhook_events.values())
    # Zero is a figure too: the ones docs/scaling.md quotes are always printed.
    for always in ("merges", "unmerges", "conflicts (409)", "batches", "redeliveries"):
        ledger.figures[always] += 0
    figures = dict(sorted(ledger.figures.items()))
    partitions = asyncio.run(
        _rows(
            soak_database,
            "SELECT count(*) FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhparent"
            " WHERE c.relname = 'events'",
        )
    )[0][0]
    # The figures go to the terminal whatever the capture (docs/scaling.md quotes them).
    with capsys.disabled():
        print(  # noqa: T201
            f"\nsoak: {CLIENTS} clients, 2 API processes (ports {sorted(ledger.per_port)}), "
            f"2 workers, {len(tenants)} tenants, {elapsed:.1f} s (sending {SECONDS:.0f} s, then"
            f" the drain), {'through PgBouncer (transaction mode)' if pooler else 'direct'},"
            f" {f'the log in {partitions} partitions' if partitions else 'the log in one table'}\n"
            f"  acknowledged {acknowledged} events by message id ({len(ledger.acknowledged)} sync,"
            f" {len(ledger.batch_message_ids)} in {len(ledger.jobs)} batches) + {webhook_events}"
            f" from webhooks; {events_in_log} events in the log, {events_in_log / elapsed:.0f}"
            f" events/s\n"
            f"  requests {sum(ledger.statuses.values())} answers {dict(sorted(ledger.statuses.items()))}"
            f" per process {dict(ledger.per_port)}\n"
            f"  {figures}\n"
            f"  merges in the log {sum(len(m) for m in merges.values())}"
            f" (unmerged {sum(u for m in merges.values() for _, u in m)})"
        )

    assert ledger.unexpected == []
    assert "Traceback" not in logs, logs[-4000:]
    # Both processes took traffic.
    assert len(ledger.per_port) == 2
    assert min(ledger.per_port.values()) > 0
    # Every acknowledged event is in the log exactly once, under the id it was answered.
    for (tenant_id, message_id), event_id in ledger.acknowledged.items():
        assert stored[tenant_id][message_id] == 1, message_id
        assert event_id in event_ids[tenant_id], message_id
    for tenant_id, message_id in ledger.batch_message_ids:
        assert stored[tenant_id][message_id] == 1, message_id
    for tenant_id, ids in ledger.webhook_events.items():
        assert ids <= event_ids[tenant_id]
    # The stored invariants.
    for tenant in tenants:
        assert violations(soak_database, tenant.tenant_id) == {
            name: [] for name in violations(soak_database, tenant.tenant_id)
        }
    # Each process's stream heard every committed mutation of its tenant (decision 70): an
    # `event.ingested` per event in the log and none of an event that is not, a
    # `profile.merged` per merge row, a `profile.unmerged` per undone one; never a resync.
    for listener in listeners:
        kinds = Counter(m["type"] for m in listener.heard)
        reasons = [m["data"]["reason"] for m in listener.heard if m["type"] == "resync"]
        assert reasons == [], (listener.port, kinds)
        heard = {m["data"]["event_id"] for m in listener.heard if m["type"] == "event.ingested"}
        assert heard == event_ids[listener.tenant_id], (
            listener.port,
            len(event_ids[listener.tenant_id] - heard),
            len(heard - event_ids[listener.tenant_id]),
        )
        merged = {
            m["data"]["from_profile_id"] for m in listener.heard if m["type"] == "profile.merged"
        }
        unmerged = {
            m["data"]["from_profile_id"] for m in listener.heard if m["type"] == "profile.unmerged"
        }
        rows = merges[listener.tenant_id]
        assert {row[0] for row in rows} <= merged, listener.port
        assert {row[0] for row in rows if row[1]} <= unmerged, listener.port
    # `journeyline rebuild` gives back the same projections.
    for tenant in tenants:
        before, after = rebuilt(soak_database, tenant.tenant_id, tmp_path)
        assert after == before, tenant.tenant_id
