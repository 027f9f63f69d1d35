"""journeyline db upgrade | check."""

from __future__ import annotations

import asyncio

import typer

from journeyline.cli.usage import Command
from journeyline.config import Settings, get_settings
from journeyline.store import migrate
from journeyline.store.partitions import LayoutConflict

app = typer.Typer(help="Database migrations.", no_args_is_help=True)


def ready_database(settings: Settings) -> None:
    """Before a command writes: the embedded SQLite file is migrated on the spot; PostgreSQL
    must already be at the newest migration (`db upgrade` is the operator's step there)."""
    url = settings.database_url
    if settings.is_sqlite:
        migrate.upgrade(url)
    elif not asyncio.run(migrate.is_at_head(url)):
        typer.echo(
            "the database is not at the newest migration: run `journeyline db upgrade`", err=True
        )
        raise typer.Exit(code=1)


@app.command(cls=Command)
def upgrade(
    revision: str = typer.Option(
        "head", help="The migration to stop at: a revision id, or head for the newest."
    ),
) -> None:
    """Apply the migrations up to --revision (the newest unless given)."""
    settings = get_settings()
    try:
        migrate.upgrade(settings.database_url, revision)
    except LayoutConflict as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=1) from exc
    partitions = settings.database.event_partitions
    laid_out = f"; events hash-partitioned by tenant into {partitions}" if partitions else ""
    typer.echo(
        f"database at {revision}{laid_out if revision == 'head' and not settings.is_sqlite else ''}"
    )


@app.command(cls=Command)
def check() -> None:
    """Fail when the models hold changes no migration makes."""
    migrate.check(get_settings().database_url)
    typer.echo("models and migrations agree")
