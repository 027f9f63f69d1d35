"""Redis of the test's own, killed and frozen (SIGSTOP): `journeyline worker` connects again
by itself and takes the queue up where it was, a batch accepted during the outage is run by
the sweeper afterwards (DESIGN §9), and a frozen Redis holds up no answer (decision 45)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from journeyline.app import create_app
from journeyline.config import RedisClientSettings, Settings
from journeyline.ingest.batches import JobRef
from journeyline.store.db import Database
from journeyline.worker.settings import ArqQueue
from tests.conftest import make_tenant
from tests.faults.services import RedisServer, own_redis
from tests.ingest.test_batches import new_job, stored_events
from tests.worker.test_arq import job_of

pytestmark = pytest.mark.postgres

# Tight bounds, so that an outage is noticed (and a freeze answered) within a second or two.
FAST_REDIS = RedisClientSettings(
    connect_timeout_seconds=0.5,
    socket_timeout_seconds=0.5,
    health_check_seconds=1,
    publish_pause_seconds=1,
    reconnect_first_seconds=0.1,
    reconnect_most_seconds=0.5,
)
DEADLINE_SECONDS = 45.0


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with own_redis(tmp_path) as server:
        yield server


async def wait_until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    try:
        async with asyncio.timeout(DEADLINE_SECONDS):
            # Another process's progress: there is no event to await, only its state to read.
            while not await check():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out after {DEADLINE_SECONDS}s waiting for {what}") from None


def start_worker(database_url: str, redis_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEYLINE_")}
    env.update(
        {
            "JOURNEYLINE_DATABASE_URL": database_url,
            "JOURNEYLINE_REDIS_URL": redis_url,
            "JOURNEYLINE_WORKER__SWEEP_INTERVAL_SECONDS": "1",
            "JOURNEYLINE_WORKER__STALE_QUEUED_SECONDS": "1",
            "JOURNEYLINE_REDIS__CONNECT_TIMEOUT_SECONDS": "0.5",
            "JOURNEYLINE_REDIS__SOCKET_TIMEOUT_SECONDS": "0.5",
            "JOURNEYLINE_REDIS__RECONNECT_FIRST_SECONDS": "0.1",
            "JOURNEYLINE_REDIS__RECONNECT_MOST_SECONDS": "0.5",
        }
    )
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "journeyline", "worker"], env=env, stdout=out, stderr=out
        )


async def test_the_worker_reconnects_after_redis_is_killed_and_restarted(
    database: Database, settings: Settings, redis_server: RedisServer, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    worker = start_worker(settings.database_url, redis_server.url, log)
    try:

        async def connected(times: int) -> bool:
            return log.read_text().count("redis_version") >= times

        await wait_until(lambda: connected(1), "the worker to connect")
        redis_server.kill()

        async def noticed() -> bool:
            return "reconnecting to Redis" in log.read_text()

        await wait_until(noticed, "the worker to notice Redis is gone")
        # Accepted while Redis is down: durable in the database, announced to no one.
        during, during_ref = await new_job(database, settings, 150, "accepted-during-outage")
        redis_server.start()  # the same port, empty
        await wait_until(lambda: connected(2), "the worker to connect again")

        after, after_ref = await new_job(database, settings, 120, "enqueued-after-restart")
        queue = await ArqQueue.connect(redis_server.url, FAST_REDIS)
        try:
            await queue.enqueue(after_ref)
        finally:
            await queue.close()

        async def completed(ref: JobRef) -> bool:
            return (await job_of(database, ref)).status == "completed"

        await wait_until(lambda: completed(after_ref), "the batch enqueued after the restart")
        await wait_until(lambda: completed(during_ref), "the sweeper to run the outage's batch")
        assert worker.poll() is None, "the worker exited"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert await stored_events(database, after) == 120
    assert await stored_events(database, during) == 150
    text = log.read_text()
    assert "the worker lost Redis" in text
    assert "Traceback" not in text, text[-4000:]


async def test_a_frozen_redis_holds_up_no_answer(
    database: Database, settings: Settings, redis_server: RedisServer
) -> None:
    shape = settings.model_copy(update={"redis_url": redis_server.url, "redis": FAST_REDIS})
    app = create_app(shape, database=database)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            tenant = await make_tenant(client, "frozen-redis")
            assert (await client.get("/readyz")).json()["queue"] == "ok"
            redis_server.freeze()
            try:
                # Not a timing assertion: without bounds these never return at all.
                async with asyncio.timeout(DEADLINE_SECONDS):
                    event = {"event_type": "page", "anonymous_id": "f", "message_id": "frozen-1"}
                    ingested = await client.post("/ingest", json=event, headers=tenant.public)
                    again = await client.post("/ingest", json=event, headers=tenant.public)
                    batch = await client.post(
                        "/tenant/ingest/batch",
                        json={"events": [{"event_type": "page", "anonymous_id": "b"}]},
                        headers=tenant.secret,
                    )
                    ready = await client.get("/readyz")
            finally:
                redis_server.thaw()
    # Committed, so acknowledged: the live message was dropped, not the answer.
    assert ingested.status_code == 200, ingested.text
    assert again.json()["duplicate"] is True
    # Accepted means durable (DESIGN §9): the sweeper announces it once Redis answers.
    assert batch.status_code == 202, batch.text
    job = JobRef(uuid.UUID(tenant.tenant_id), uuid.UUID(batch.json()["job_id"]))
    assert (await job_of(database, job)).status == "queued"
    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "degraded", "database": "ok", "queue": "unavailable"},
    )
