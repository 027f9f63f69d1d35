"""create_app(settings) -> FastAPI: lifespan, routers, error handlers. Nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from journeyline import __version__, heap
from journeyline.api import (
    admin,
    batches,
    browser_sdks,
    crm,
    erasures,
    events,
    health,
    intelligence,
    keys,
    keystone,
    landing,
    openapi_docs,
    orders,
    posthog,
    posthog_flags,
    profiles,
    sdk_settings,
    segment,
    stream,
    tracker,
    trackmate,
    webhooks,
)
from journeyline.api import (
    settings as settings_routes,
)
from journeyline.api.cors import PublicCors
from journeyline.api.handlers import install_error_handlers
from journeyline.api.instrumentation import Instrumentation
from journeyline.api.security_headers import SecurityHeaders
from journeyline.api.state import AppState
from journeyline.api.urls import StorableUrls
from journeyline.config import Settings, get_settings
from journeyline.ingest.batches import JobQueue
from journeyline.ingest.group_commit import GroupCommitter
from journeyline.logs import redaction as log_redaction
from journeyline.realtime.broker import LocalBroker, RedisBroker
from journeyline.realtime.hub import Hub
from journeyline.store.db import Database
from journeyline.tenancy.budgets import Budgets
from journeyline.tenancy.cache import KeyCache
from journeyline.tenancy.usage import KeyUsage
from journeyline.web import charts as web_charts
from journeyline.web import keys as web_keys
from journeyline.web import routes as web_routes
from journeyline.web.signed_in import install_sign_in_handler
from journeyline.worker.local import LocalWorker
from journeyline.worker.settings import ArqQueue

log = logging.getLogger("journeyline")


@asynccontextmanager
async def _realtime(settings: Settings, database: Database, hub: Hub) -> AsyncIterator[None]:
    """Committed mutations reach the hub: through Redis when configured (what a worker process
    commits reaches this process's clients too), else straight from this process's commits."""
    if not settings.redis_url:
        database.publisher = LocalBroker(hub)
        try:
            yield
        finally:
            database.publisher = None
        return
    broker = RedisBroker.from_url(settings.redis_url, settings.redis)
    subscribed = asyncio.Event()
    listener = asyncio.get_running_loop().create_task(broker.listen(hub, subscribed))
    database.publisher = broker
    try:
        # Not a hard wait: Redis down at start-up must not keep the API down; the listener
        # keeps trying.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(subscribed.wait(), timeout=5)
        yield
    finally:
        database.publisher = None
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        await broker.close()


def _session_secret(settings: Settings) -> bytes:
    configured = settings.dashboard.session_secret
    if configured:
        return configured.encode()
    log.warning(
        "JOURNEYLINE_DASHBOARD__SESSION_SECRET is not set: dashboard sign-ins last until this "
        "process stops and are not shared with other processes"
    )
    return secrets.token_bytes(32)


def _warn_without_secret_key(settings: Settings) -> None:
    if not settings.secret_key:
        log.warning(
            "JOURNEYLINE_SECRET_KEY is not set: webhook signing secrets are encrypted with the "
            "public development key, which protects nothing; set it in production"
        )


async def _job_queue(settings: Settings, database: Database) -> JobQueue:
    """Redis (Arq workers run the jobs) when configured; the embedded worker otherwise."""
    if settings.redis_url:
        return await ArqQueue.connect(settings.redis_url, settings.redis)
    local = LocalWorker(database, settings)
    await local.start()
    return local


def serving_app() -> FastAPI:
    """What `journeyline serve` runs in each process: the app as a long-running process, whose
    heap is settled once it has started (heap.py) and whose database gets statistics for the
    tables it fills (store/upkeep.py). Tests and embedded uses keep the defaults."""
    return create_app(serving=True)


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    *,
    serving: bool = False,
) -> FastAPI:
    settings = settings or get_settings()
    log_redaction.install()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = database is None
        db = database or Database.from_settings(settings)
        hub = Hub(settings.realtime.client_queue)
        _warn_without_secret_key(settings)
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(_realtime(settings, db, hub))
            if owned:
                stack.push_async_callback(db.dispose)
            committer = GroupCommitter.for_database(db)
            stack.push_async_callback(committer.close)
            queue = await _job_queue(settings, db)
            stack.push_async_callback(queue.close)
            budgets = Budgets.for_process(settings.rate_limits, settings.redis_url)
            stack.push_async_callback(budgets.close)
            usage = KeyUsage(settings.key_usage_seconds)
            await stack.enter_async_context(
                usage.recording(db, min(10.0, settings.key_usage_seconds))
            )
            app.state.journeyline = AppState(
                settings=settings,
                database=db,
                committer=committer,
                queue=queue,
                keys=KeyCache(settings.key_cache_seconds),
                hub=hub,
                budgets=budgets,
                usage=usage,
                session_secret=_session_secret(settings),
            )
            if serving:
                db.keep_up()
                heap.settle()
            yield

    app = FastAPI(
        title="journeyline",
        version=__version__,
        description="A multi-tenant customer data platform.",
        lifespan=lifespan,
        # Served by api/landing.py from journeyline's own copy of Swagger UI (no CDN).
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    install_sign_in_handler(app)
    modules = (
        health,
        admin,
        keys,
        settings_routes,
        keystone,
        trackmate,
        batches,
        events,
        profiles,
        erasures,
        orders,
        crm,
        intelligence,
        webhooks,
        tracker,
        stream,
        segment,
        browser_sdks,
        sdk_settings,
        posthog,
        posthog_flags,
    )
    for module in modules:
        app.include_router(module.router)
    app.include_router(landing.router)
    openapi_docs.install(app, (module.router for module in modules))
    public = (
        *keystone.PUBLIC_PATHS,
        *trackmate.PUBLIC_PATHS,
        *events.PUBLIC_PATHS,
        *tracker.PUBLIC_PATHS,
        *segment.PUBLIC_PATHS,
        *browser_sdks.PUBLIC_PATHS,
        *sdk_settings.PUBLIC_PATHS,
        *posthog.PUBLIC_PATHS,
        *posthog_flags.PUBLIC_PATHS,
    )
    app.include_router(web_routes.router)
    app.include_router(web_charts.router)
    app.include_router(web_keys.router)
    app.mount("/app/static", StaticFiles(packages=[("journeyline.web", "static")]), name="static")
    app.mount(
        landing.ASSETS_PATH,
        StaticFiles(packages=[("journeyline.api", "static/swagger-ui")]),
        name="docs-static",
    )
    app.add_middleware(
        PublicCors,
        public_paths=public,
        public_patterns=(*sdk_settings.PUBLIC_PATTERNS, *posthog_flags.PUBLIC_PATTERNS),
    )
    app.add_middleware(StorableUrls)
    app.add_middleware(SecurityHeaders)
    # Added last, so outermost: its duration and context cover the others.
    app.add_middleware(Instrumentation)
    return app
