"""journeyline db upgrade | check."""

from __future__ import annotations

import asyncio

import typer

from journeyline.cli.usage import Command
from journeyline.config import Settings, get_settings
from journeyline.store import migrate

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
    url = get_settings().database_url
    migrate.upgrade(url, revision)
    typer.echo(f"database at {revision}")


@app.command(cls=Command)
def check() -> None:
    """Fail when the models hold changes no migration makes."""
    migrate.check(get_settings().database_url)
    typer.echo("models and migrations agree")
