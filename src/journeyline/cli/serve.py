"""journeyline serve: migrate the embedded database, make a first tenant, run the API in one
process or, on PostgreSQL with Redis, in N processes sharing the port (decision 40)."""

from __future__ import annotations

import asyncio
import errno
import os
import secrets
import socket

import typer
import uvicorn

from journeyline.cli.db import ready_database
from journeyline.cli.tenants import create, print_keys
from journeyline.config import Settings, get_settings
from journeyline.logs.formatting import logging_config
from journeyline.store.db import Database
from journeyline.tenancy import service as tenancy

# What uvicorn imports in each process: `serving_app()` reads the settings from the environment
# the processes inherit, so every process is configured alike.
APP_FACTORY = "journeyline.app:serving_app"
SESSION_SECRET_VARIABLE = "JOURNEYLINE_DASHBOARD__SESSION_SECRET"


async def _has_tenants(settings: Settings) -> bool:
    database = Database.from_settings(settings)
    try:
        async with database.read() as session:
            return await tenancy.has_tenants(session)
    finally:
        await database.dispose()


def workers_refusal(settings: Settings, workers: int) -> str | None:
    """Why `workers` API processes cannot serve with these settings; None when they can."""
    if workers <= 1:
        return None
    if settings.is_sqlite:
        return (
            f"--workers {workers} needs PostgreSQL: SQLite takes one writer per file and "
            "journeyline serialises its writers with a lock inside one process, so more "
            "processes would only wait on the file's lock (SQLITE_BUSY) and serve no faster. "
            "Serve SQLite with one process, or set "
            "JOURNEYLINE_DATABASE_URL=postgresql+asyncpg://… for more."
        )
    if not settings.redis_url:
        return (
            f"--workers {workers} needs JOURNEYLINE_REDIS_URL: without Redis every process would "
            "run its own embedded batch worker and sweeps, and a live stream (/v1/stream, the "
            "dashboard) would hear only the commits of the process it is connected to. Set "
            "Redis (and run `journeyline worker` for batches), or serve with one process."
        )
    return None


def port_refusal(host: str, port: int) -> str | None:
    """Why `host:port` cannot be served, found by binding it as uvicorn will (SO_REUSEADDR, the
    family its host names); None when it can. Checked before the first tenant is made, so a
    taken port never costs the keys printed once (issue 17)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                why = "is already in use (another journeyline serve, or another program)"
            else:
                why = f"cannot be bound ({exc.strerror or exc})"
            return (
                f"port {port} on {host} {why}. Nothing was created or changed. Serve on "
                f"another port with `journeyline serve --port {port + 1}` (or `make run "
                f"PORT={port + 1}`, or JOURNEYLINE_PORT), or stop what holds it. Lost the keys "
                "a first start printed? `journeyline tenants list` names the tenants and "
                "`journeyline keys create --tenant default` mints a new secret key."
            )
    return None


def _share_session_secret(settings: Settings, workers: int) -> None:
    """A sign-in made on one process must hold on the others: without a configured secret the
    processes share one made here, which ends with this serve."""
    if workers <= 1 or settings.dashboard.session_secret:
        return
    # The spawned processes inherit this environment (uvicorn starts them afresh, not forked).
    os.environ[SESSION_SECRET_VARIABLE] = secrets.token_urlsafe(32)
    typer.echo(
        f"{SESSION_SECRET_VARIABLE} is not set: the {workers} processes share a random one, so "
        "dashboard sign-ins end when this serve stops; set it to keep them across restarts",
        err=True,
    )


def serve(
    host: str = typer.Option(
        None, help="The interface to bind (default JOURNEYLINE_HOST, else 127.0.0.1)."
    ),
    port: int = typer.Option(
        None, help="The port to listen on (default JOURNEYLINE_PORT, else 8000)."
    ),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        help="API processes sharing the port (more than 1 needs PostgreSQL and Redis).",
    ),
    access_log: bool | None = typer.Option(
        None,
        "--access-log/--no-access-log",
        help="Log one line per request (default JOURNEYLINE_LOG__ACCESS, off: it costs).",
    ),
) -> None:
    """Run the API. On SQLite, migrations are applied first; on PostgreSQL run `db upgrade`."""
    settings = get_settings()
    refusal = workers_refusal(settings, workers)
    if refusal is not None:
        typer.echo(refusal, err=True)
        raise typer.Exit(code=2)
    host = host or settings.host
    port = port or settings.port
    refusal = port_refusal(host, port)
    if refusal is not None:
        typer.echo(refusal, err=True)
        raise typer.Exit(code=1)
    # Once, here, before any API process starts: they would otherwise race to migrate and to
    # create the first tenant.
    ready_database(settings)
    if not asyncio.run(_has_tenants(settings)):
        typer.echo("first start: created the default tenant")
        print_keys(asyncio.run(create(settings, "default")))
    _share_session_secret(settings, workers)
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        # Always given: uvicorn would otherwise take WEB_CONCURRENCY from the environment.
        workers=workers,
        host=host,
        port=port,
        # Applied by uvicorn in each process it starts: journeyline's format, level and access
        # line (logs/formatting.py); uvicorn's own access log stays off, replaced.
        log_config=logging_config(settings.log, access=access_log),
        log_level=settings.log.level.lower(),
        access_log=False,
    )
