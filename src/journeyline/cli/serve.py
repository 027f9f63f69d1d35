"""journeyline serve: migrate the embedded database, make a first tenant, run the API."""

from __future__ import annotations

import asyncio

import typer
import uvicorn

from journeyline.app import create_app
from journeyline.cli.db import ready_database
from journeyline.cli.tenants import create, print_keys
from journeyline.config import get_settings
from journeyline.store.db import Database
from journeyline.tenancy import service as tenancy


async def _has_tenants(url: str) -> bool:
    database = Database.from_url(url)
    try:
        async with database.read() as session:
            return await tenancy.has_tenants(session)
    finally:
        await database.dispose()


def serve(
    host: str = typer.Option(None, help="Interface to bind (default 127.0.0.1)."),
    port: int = typer.Option(None, help="Port to listen on (default 8000)."),
    access_log: bool = typer.Option(
        False, "--access-log/--no-access-log", help="Log one line per request (off: it costs)."
    ),
) -> None:
    """Run the API. On SQLite, migrations are applied first; on PostgreSQL run `db upgrade`."""
    settings = get_settings()
    url = settings.database_url
    ready_database(settings)
    if not asyncio.run(_has_tenants(url)):
        typer.echo("first start: created the default tenant")
        print_keys(asyncio.run(create(url, "default")))
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        access_log=access_log,
    )
