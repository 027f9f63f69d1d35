"""create_app(settings) -> FastAPI: lifespan, routers, error handlers. Nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from journeyline import __version__
from journeyline.api import (
    admin,
    batches,
    crm,
    events,
    health,
    intelligence,
    keystone,
    orders,
    profiles,
    tracker,
    trackmate,
    webhooks,
)
from journeyline.api.cors import PublicCors
from journeyline.api.handlers import install_error_handlers
from journeyline.api.state import AppState
from journeyline.config import Settings, get_settings
from journeyline.ingest.batches import JobQueue
from journeyline.ingest.group_commit import GroupCommitter
from journeyline.store.db import Database
from journeyline.tenancy.cache import KeyCache
from journeyline.worker.local import LocalWorker
from journeyline.worker.settings import ArqQueue


async def _job_queue(settings: Settings, database: Database) -> JobQueue:
    """Redis (Arq workers run the jobs) when configured; the embedded worker otherwise."""
    if settings.redis_url:
        return await ArqQueue.connect(settings.redis_url)
    local = LocalWorker(database, settings)
    await local.start()
    return local


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = database is None
        db = database or Database.from_url(settings.database_url)
        committer = GroupCommitter.for_database(db)
        queue = await _job_queue(settings, db)
        app.state.journeyline = AppState(
            settings=settings,
            database=db,
            committer=committer,
            queue=queue,
            keys=KeyCache(settings.key_cache_seconds),
        )
        try:
            yield
        finally:
            await queue.close()
            await committer.close()
            if owned:
                await db.dispose()

    app = FastAPI(
        title="journeyline",
        version=__version__,
        description="A multi-tenant customer data platform.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for module in (
        health,
        admin,
        keystone,
        trackmate,
        batches,
        events,
        profiles,
        orders,
        crm,
        intelligence,
        webhooks,
        tracker,
    ):
        app.include_router(module.router)
    public = (
        *keystone.PUBLIC_PATHS,
        *trackmate.PUBLIC_PATHS,
        *events.PUBLIC_PATHS,
        *tracker.PUBLIC_PATHS,
    )
    app.add_middleware(PublicCors, public_paths=public)
    return app
