"""journeyline db upgrade | check."""

from __future__ import annotations

import typer

from journeyline.config import get_settings
from journeyline.store import migrate

app = typer.Typer(help="Database migrations.", no_args_is_help=True)


@app.command()
def upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    url = get_settings().database_url
    migrate.upgrade(url, revision)
    typer.echo(f"database at {revision}")


@app.command()
def check() -> None:
    """Fail when the models hold changes no migration makes."""
    migrate.check(get_settings().database_url)
    typer.echo("models and migrations agree")
