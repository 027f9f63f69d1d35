"""Arq: the queue client the API uses, and the WorkerSettings `journeyline worker` runs."""

from __future__ import annotations

import logging
from typing import Any

from arq import cron
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.worker import Function, func

from journeyline import heap
from journeyline.config import Settings, get_settings
from journeyline.ingest.batches import JobRef
from journeyline.realtime.broker import RedisBroker
from journeyline.store.db import Database
from journeyline.worker.jobs import abandon_idle_orders, parse_ref, run_ingest_job, sweep

log = logging.getLogger("journeyline.worker")

QUEUE_NAME = "journeyline:ingest"


class ArqQueue:
    """Announces jobs on Redis. Enqueue failures are logged, not raised: the job is already
    durable, and the sweeper announces it again."""

    def __init__(self, redis: ArqRedis) -> None:
        self.redis = redis

    @classmethod
    async def connect(cls, url: str) -> ArqQueue:
        return cls(await create_pool(RedisSettings.from_dsn(url), default_queue_name=QUEUE_NAME))

    async def enqueue(self, ref: JobRef) -> None:
        try:
            await self.redis.enqueue_job(
                "process_ingest_batch_job", str(ref.tenant_id), str(ref.job_id)
            )
        except Exception:
            log.warning("could not announce ingest job %s on Redis; the sweeper will", ref.job_id)

    async def close(self) -> None:
        await self.redis.aclose()


async def process_ingest_batch_job(ctx: dict[str, Any], tenant_id: str, job_id: str) -> str:
    ref = parse_ref(tenant_id, job_id)
    if ref is None:
        return "malformed"
    return await run_ingest_job(ctx["database"], ctx["settings"], ref)


async def sweep_ingest_jobs(ctx: dict[str, Any]) -> int:
    return await sweep(ctx["database"], ctx["settings"], ArqQueue(ctx["redis"]))


async def sweep_abandoned_orders(ctx: dict[str, Any]) -> int:
    return await abandon_idle_orders(ctx["database"], ctx["settings"])


def _every(seconds: float) -> dict[str, Any]:
    """arq cron fields for "every `seconds`" (whole seconds below a minute, else minutes)."""
    step = max(1, int(seconds))
    if step < 60:
        return {"second": set(range(0, 60, step))}
    return {"minute": set(range(0, 60, max(1, step // 60))), "second": {0}}


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx.get("settings") or get_settings()
    ctx["settings"] = settings
    database = Database.from_url(settings.database_url)
    if settings.redis_url:
        # What this worker commits reaches the API processes' live clients through Redis.
        database.publisher = ctx["broker"] = RedisBroker.from_url(settings.redis_url)
    ctx["database"] = database
    heap.settle()


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["database"].dispose()
    broker = ctx.get("broker")
    if broker is not None:
        await broker.close()


FUNCTIONS: list[Function] = [
    func(process_ingest_batch_job, name="process_ingest_batch_job", max_tries=5),
]


def worker_settings(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for arq's Worker, for these settings."""
    if not settings.redis_url:
        raise ValueError("JOURNEYLINE_REDIS_URL is not set: the Arq worker needs Redis")
    return {
        "functions": FUNCTIONS,
        "cron_jobs": [
            cron(
                sweep_ingest_jobs,
                name="sweep_ingest_jobs",
                run_at_startup=True,
                unique=True,
                **_every(settings.worker.sweep_interval_seconds),
            ),
            cron(
                sweep_abandoned_orders,
                name="sweep_abandoned_orders",
                unique=True,
                **_every(settings.orders.abandon_sweep_interval_seconds),
            ),
        ],
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "queue_name": QUEUE_NAME,
        "on_startup": startup,
        "on_shutdown": shutdown,
        "ctx": {"settings": settings},
        "max_jobs": 4,
        # Long batches are checkpointed; a timeout only bounds one run, which then resumes.
        "job_timeout": 3600,
        "keep_result": 60,
    }
