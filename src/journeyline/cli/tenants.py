"""journeyline tenants create NAME."""

from __future__ import annotations

import asyncio

import typer

from journeyline.config import get_settings
from journeyline.store.db import Database
from journeyline.tenancy import service as tenancy
from journeyline.tenancy.service import CreatedTenant

app = typer.Typer(help="Tenants and their keys.", no_args_is_help=True)


async def create(database_url: str, name: str) -> CreatedTenant:
    database = Database.from_url(database_url)
    try:
        return await database.run(lambda session: tenancy.create_tenant(session, name))
    finally:
        await database.dispose()


def print_keys(created: CreatedTenant) -> None:
    typer.echo(f"tenant     {created.name} ({created.tenant_id})")
    typer.echo(f"public key {created.public_key}")
    typer.echo(f"secret key {created.secret_key}")
    typer.echo("keys are stored hashed: copy them now, they are not shown again.")


@app.command("create")
def create_command(name: str) -> None:
    """Create a tenant and print its keys (shown once)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise typer.BadParameter("the name must hold 1 to 200 characters")
    print_keys(asyncio.run(create(get_settings().database_url, name)))
