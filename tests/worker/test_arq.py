"""The production shape on the real PostgreSQL and Redis: Arq workers run batches, a flushed
Redis loses nothing, and a worker killed with SIGKILL mid-batch stores every event once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import orjson
import pytest
from arq.worker import Worker
from redis.asyncio import Redis

from journeyline.app import create_app
from journeyline.config import Settings, WorkerSettings
from journeyline.ingest import batches
from journeyline.ingest.batches import JobRef
from journeyline.store.db import Database
from journeyline.store.models import IngestJob
from journeyline.worker.jobs import sweep
from journeyline.worker.settings import ArqQueue, worker_settings
from tests.conftest import TenantKeys, make_tenant
from tests.ingest.test_batches import new_job, stored_events

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
async def redis_settings(settings: Settings, redis_url: str) -> Settings:
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    return settings.model_copy(
        update={"redis_url": redis_url, "worker": WorkerSettings(batch_chunk_size=100)}
    )


async def run_burst_worker(settings: Settings) -> None:
    worker = Worker(**worker_settings(settings), burst=True, poll_delay=0, handle_signals=False)
    try:
        await worker.main()
    finally:
        await worker.close()


async def job_of(database: Database, ref: JobRef) -> IngestJob:
    job = await batches.get_job(database, ref.tenant_id, ref.job_id)
    assert job is not None
    return job


async def wait_until(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    """Poll another process's progress until `check` holds (it runs on its own clock)."""
    try:
        async with asyncio.timeout(seconds):
            # The worker is another process: there is no event to await, only its rows to read.
            while not await check():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out after {seconds}s waiting for {what}") from None


async def test_a_batch_posted_to_the_api_is_run_by_an_arq_worker(
    redis_settings: Settings, database: Database
) -> None:
    app = create_app(redis_settings, database=database)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            tenant: TenantKeys = await make_tenant(client, "arq")
            events = [
                {"event_type": "track", "event_name": "Seen", "identity": f"q{i % 5}@x.io"}
                for i in range(250)
            ]
            response = await client.post(
                "/tenant/ingest/batch", json={"events": events}, headers=tenant.secret
            )
            assert response.status_code == 202, response.text
            job_id = response.json()["job_id"]
            queued = await client.get(f"/tenant/ingest/jobs/{job_id}", headers=tenant.secret)
            assert queued.json()["status"] == "queued"
            await run_burst_worker(redis_settings)
            done = await client.get(f"/tenant/ingest/jobs/{job_id}", headers=tenant.secret)
    assert done.json()["status"] == "completed"
    assert done.json()["stored"] == 250


async def test_a_flushed_redis_loses_nothing_the_sweeper_enqueues_again(
    redis_settings: Settings, database: Database, redis_url: str
) -> None:
    context, ref = await new_job(database, redis_settings, 120, "arq-flushed")
    queue = await ArqQueue.connect(redis_url)
    try:
        await queue.enqueue(ref)
        redis = Redis.from_url(redis_url)
        await redis.flushdb()  # Redis restarted without persistence: the message is gone
        await redis.aclose()
        await run_burst_worker(redis_settings)
        assert (await job_of(database, ref)).status == "queued"

        eager = redis_settings.model_copy(
            update={"worker": WorkerSettings(batch_chunk_size=100, stale_queued_seconds=0)}
        )
        assert await sweep(database, eager, queue) >= 1
        await run_burst_worker(redis_settings)
    finally:
        await queue.close()
    job = await job_of(database, ref)
    assert (job.status, job.stored) == ("completed", 120)
    assert await stored_events(database, context) == 120


def start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEYLINE_")}
    env.update(
        {
            "JOURNEYLINE_DATABASE_URL": settings.database_url,
            "JOURNEYLINE_REDIS_URL": settings.redis_url or "",
            "JOURNEYLINE_WORKER__BATCH_CHUNK_SIZE": "100",
            "JOURNEYLINE_WORKER__LEASE_SECONDS": "2",
            "JOURNEYLINE_WORKER__SWEEP_INTERVAL_SECONDS": "1",
            "JOURNEYLINE_WORKER__STALE_QUEUED_SECONDS": "1",
        }
    )
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "journeyline", "worker"], env=env, stdout=out, stderr=out
        )


async def test_a_worker_killed_mid_batch_leaves_every_event_stored_once(
    redis_settings: Settings, database: Database, redis_url: str, tmp_path: Path
) -> None:
    # No message ids, no timestamps: only the checkpoints stand between a retry and duplicates.
    context, ref = await new_job(database, redis_settings, 4000, "arq-killed")
    queue = await ArqQueue.connect(redis_url)
    await queue.enqueue(ref)
    await queue.close()
    log = tmp_path / "worker.log"

    first = start_worker(redis_settings, log)
    try:

        async def some_chunks_done() -> bool:
            return (await job_of(database, ref)).position >= 300

        await wait_until(some_chunks_done, 60, "the first worker to commit a few chunks")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    killed_at = await job_of(database, ref)
    assert killed_at.status == "processing"
    assert killed_at.position < 4000, "the batch finished before the kill; make it longer"

    second = start_worker(redis_settings, log)
    try:

        async def completed() -> bool:
            return (await job_of(database, ref)).status == "completed"

        await wait_until(completed, 90, "the second worker to finish the batch")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=20)
    job = await job_of(database, ref)
    assert (job.stored, job.duplicates, job.failed, job.position) == (4000, 0, 0, 4000)
    assert job.attempts == 2
    assert await stored_events(database, context) == 4000, log.read_text()


async def test_the_worker_writes_json_lines_naming_each_jobs_id_and_tenant(
    redis_settings: Settings, database: Database, redis_url: str, tmp_path: Path
) -> None:
    context, ref = await new_job(database, redis_settings, 5, "arq-json-logs")
    queue = await ArqQueue.connect(redis_url)
    await queue.enqueue(ref)
    await queue.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEYLINE_")}
    # The default sweep intervals: a burst worker ends once no job is due.
    env["JOURNEYLINE_DATABASE_URL"] = redis_settings.database_url
    env["JOURNEYLINE_REDIS_URL"] = redis_url
    env["JOURNEYLINE_LOG__FORMAT"] = "json"
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        # Awaited, not run: this test's own connections must keep being served meanwhile.
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "journeyline", "worker", "--burst", env=env, stderr=out
        )
    try:
        await asyncio.wait_for(worker.wait(), timeout=60)
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    stderr = log.read_bytes()
    assert worker.returncode == 0, stderr.decode()
    lines = [orjson.loads(line) for line in stderr.decode().splitlines()]
    assert lines, "the worker wrote no line"
    assert all(line.keys() >= {"time", "level", "logger", "message"} for line in lines)
    # The queue is the machine's: a job another test (or test run) left in it may run too.
    jobs = [line for line in lines if line["message"].startswith("ingest job ")]
    assert all("job_id" in line and "tenant_id" in line for line in jobs)
    (done,) = [line for line in jobs if line["job_id"] == str(ref.job_id)]
    assert done["tenant_id"] == str(context.tenant_id)
    assert (done["logger"], done["level"]) == ("journeyline.worker", "INFO")
