"""Arq: the queue client the API uses, and the WorkerSettings `journeyline worker` runs."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from arq import cron
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Function, func
from redis.asyncio import ConnectionPool

from journeyline import heap
from journeyline.config import RedisClientSettings, Settings, get_settings
from journeyline.ingest.batches import JobRef
from journeyline.realtime.broker import RedisBroker
from journeyline.store.db import Database
from journeyline.worker.jobs import abandon_idle_orders, parse_ref, run_ingest_job, sweep

log = logging.getLogger("journeyline.worker")

QUEUE_NAME = "journeyline:ingest"


def arq_redis(url: str, options: RedisClientSettings) -> ArqRedis:
    """An Arq client whose every call is bounded (connect, reply, idle health check). Nothing
    connects until the first call: Redis down at start-up must not keep a process down."""
    pool = ConnectionPool.from_url(url, **options.client_options())
    redis = ArqRedis(pool, default_queue_name=QUEUE_NAME)
    redis.auto_close_connection_pool = True
    return redis


class ArqQueue:
    """Announces jobs on Redis. Enqueue failures are logged, not raised, and bounded in time:
    the job is already durable, and the sweeper announces it again (DESIGN §9, decision 45)."""

    def __init__(self, redis: ArqRedis, options: RedisClientSettings) -> None:
        self.redis = redis
        # An announcement is a few round trips (WATCH, EXISTS, MULTI, ZADD, EXEC): the whole
        # of it, not each, is held to one connect and one reply's bound.
        self.timeout_seconds = options.connect_timeout_seconds + options.socket_timeout_seconds

    @classmethod
    async def connect(cls, url: str, options: RedisClientSettings | None = None) -> ArqQueue:
        options = options or RedisClientSettings()
        return cls(arq_redis(url, options), options)

    async def enqueue(self, ref: JobRef) -> None:
        try:
            async with asyncio.timeout(self.timeout_seconds):
                await self.redis.enqueue_job(
                    "process_ingest_batch_job", str(ref.tenant_id), str(ref.job_id)
                )
        except Exception as exc:
            log.warning(
                "could not announce ingest job %s on Redis (%s); the sweeper will",
                ref.job_id,
                type(exc).__name__,
            )

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(self.timeout_seconds):
                return bool(await self.redis.ping())
        except Exception:
            return False

    async def close(self) -> None:
        await self.redis.aclose()


async def process_ingest_batch_job(ctx: dict[str, Any], tenant_id: str, job_id: str) -> str:
    ref = parse_ref(tenant_id, job_id)
    if ref is None:
        return "malformed"
    return await run_ingest_job(ctx["database"], ctx["settings"], ref)


async def sweep_ingest_jobs(ctx: dict[str, Any]) -> int:
    settings: Settings = ctx["settings"]
    return await sweep(ctx["database"], settings, ArqQueue(ctx["redis"], settings.redis))


async def sweep_abandoned_orders(ctx: dict[str, Any]) -> int:
    return await abandon_idle_orders(ctx["database"], ctx["settings"])


def _every(seconds: float) -> dict[str, Any]:
    """arq cron fields for "every `seconds`" (whole seconds below a minute, else minutes)."""
    step = max(1, int(seconds))
    if step < 60:
        return {"second": set(range(0, 60, step))}
    return {"minute": set(range(0, 60, max(1, step // 60))), "second": {0}}


async def startup(ctx: dict[str, Any]) -> None:
    """Once per process: a worker that reconnects to Redis (worker/supervisor.py) starts Arq
    again with the same context, and keeps its database."""
    ctx["connected"] = True
    if "database" in ctx:
        return
    settings: Settings = ctx.get("settings") or get_settings()
    ctx["settings"] = settings
    database = Database.from_settings(settings)
    if settings.redis_url:
        # What this worker commits reaches the API processes' live clients through Redis.
        database.publisher = ctx["broker"] = RedisBroker.from_url(
            settings.redis_url, settings.redis
        )
    ctx["database"] = database
    database.keep_up()
    heap.settle()


async def shutdown(ctx: dict[str, Any]) -> None:
    database = ctx.pop("database", None)
    if database is not None:
        await database.dispose()
    broker = ctx.pop("broker", None)
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
