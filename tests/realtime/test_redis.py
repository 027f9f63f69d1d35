"""Real time on the production shape: the real Redis, an API process and an Arq worker process.
What the worker commits reaches a client of the API; a rolled-back unit publishes nothing;
tenant B's client hears nothing of tenant A."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from bench.databases import fresh_database
from bench.servers import Child, Server, journeyline_server, journeyline_workers
from redis.asyncio import Redis
from websockets.sync.client import ClientConnection, connect

from journeyline.config import Settings
from journeyline.realtime.broker import CHANNEL_PREFIX, RedisBroker
from journeyline.realtime.messages import message
from journeyline.store.db import Database, Session, leave_for_commit
from journeyline.tenancy import service as tenancy

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# A Redis database of its own for the Arq queue of these processes (pub/sub channels are
# shared by every database of a server, the queue is not).
QUEUE_DB = 13
RECEIVE_SECONDS = 30.0


@dataclass(frozen=True)
class Shape:
    server: Server
    worker: Child
    database_url: str


@pytest.fixture(scope="module")
def shape(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shape]:
    workdir = tmp_path_factory.mktemp("realtime")
    queue_url = f"{redis_url.rsplit('/', 1)[0]}/{QUEUE_DB}"
    with (
        fresh_database("postgres", Path(workdir), "realtime") as url,
        journeyline_workers(1, url, queue_url, workdir, name="rt-worker") as workers,
        journeyline_server(url, workdir, redis_url=queue_url, name="rt-api") as server,
    ):
        yield Shape(server, workers[0], url)


@contextmanager
def stream(server: Server, secret_key: str) -> Iterator[ClientConnection]:
    with connect(f"ws://127.0.0.1:{server.port}/v1/stream?key={secret_key}") as ws:
        assert receive(ws)["type"] == "ready"
        yield ws


def receive(ws: ClientConnection) -> dict[str, Any]:
    item: dict[str, Any] = orjson.loads(ws.recv(timeout=RECEIVE_SECONDS))
    return item


def heard_until(ws: ClientConnection, done: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    while not done(seen):
        item = receive(ws)
        if item["type"] != "ping":
            seen.append(item)
    return seen


def ingested(seen: list[dict[str, Any]]) -> list[str]:
    return [m["data"]["event_id"] for m in seen if m["type"] == "event.ingested"]


def page(tag: str, index: int) -> dict[str, Any]:
    return {
        "event_type": "page",
        "event_name": f"/p/{index}",
        "anonymous_id": f"{tag}-visitor",
        "message_id": f"{tag}-{index}",
        "payload": {"path": f"/p/{index}"},
    }


def second_tenant(database_url: str) -> tuple[str, str]:
    async def create() -> tuple[str, str]:
        database = Database.from_url(database_url)
        try:
            made = await database.run(lambda s: tenancy.create_tenant(s, "Realtime B"))
        finally:
            await database.dispose()
        return str(made.tenant_id), made.secret_key

    return asyncio.run(create())


def test_a_batch_the_worker_runs_reaches_a_client_of_the_api(shape: Shape) -> None:
    headers = {"Authorization": f"Bearer {shape.server.secret_key}"}
    with stream(shape.server, shape.server.secret_key) as ws:
        events = [page("batch", index) for index in range(3)]
        response = httpx.post(
            f"{shape.server.base_url}/tenant/ingest/batch", json={"events": events}, headers=headers
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["job_id"]
        # A commit's messages arrive in one batch, the graph's last.
        seen = heard_until(ws, lambda seen: any(m["type"] == "graph.edges" for m in seen))
    assert len(set(ingested(seen))) == 3
    assert "profile.created" in {m["type"] for m in seen}
    # The worker process ran the job (the API process only enqueued it).
    assert job_id in shape.worker.log() or "process_ingest_batch_job" in shape.worker.log()


def test_tenant_b_hears_nothing_of_tenant_a(shape: Shape) -> None:
    b_tenant, b_key = second_tenant(shape.database_url)
    a_headers = {"Authorization": f"Bearer {shape.server.secret_key}"}
    with stream(shape.server, shape.server.secret_key) as a, stream(shape.server, b_key) as b:
        response = httpx.post(
            f"{shape.server.base_url}/tenant/ingest/batch",
            json={"events": [page("only-a", 0)]},
            headers=a_headers,
        )
        assert response.status_code == 202, response.text
        heard_until(a, lambda seen: len(ingested(seen)) >= 1)
        own = httpx.post(
            f"{shape.server.base_url}/ingest",
            json=page("only-b", 0),
            headers={"Authorization": f"Bearer {b_key}"},
        )
        assert own.status_code == 200, own.text
        seen = heard_until(b, lambda seen: len(ingested(seen)) >= 1)
    assert {m["tenant_id"] for m in seen} == {b_tenant}
    assert ingested(seen) == [own.json()["event_id"]]


async def test_a_rolled_back_unit_publishes_nothing_to_redis(
    settings: Settings, redis_url: str
) -> None:
    """A subscriber on the real Redis: the failed unit's message never arrives; the committed
    one after it does (so the subscriber was listening all along)."""
    tenant_id = uuid.uuid4()
    redis = Redis.from_url(redis_url)
    database = Database.from_settings(settings)
    database.publisher = broker = RedisBroker.from_url(redis_url)
    try:
        async with redis.pubsub() as pubsub:
            await pubsub.subscribe(f"{CHANNEL_PREFIX}{tenant_id}")
            await pubsub.get_message(timeout=1.0)  # the subscription's confirmation

            async def failing(session: Session) -> None:
                leave_for_commit(session, [message(tenant_id, "crm.deal", {"n": "rolled back"})])
                raise RuntimeError("undo")

            async def committing(session: Session) -> None:
                leave_for_commit(session, [message(tenant_id, "crm.deal", {"n": "committed"})])

            with pytest.raises(RuntimeError, match="undo"):
                await database.run(failing)
            await database.run(committing)
            received = await pubsub.get_message(ignore_subscribe_messages=True, timeout=10.0)
        assert received is not None
        assert [m["data"] for m in orjson.loads(received["data"])] == [{"n": "committed"}]
    finally:
        await broker.close()
        await database.dispose()
        await redis.aclose()
