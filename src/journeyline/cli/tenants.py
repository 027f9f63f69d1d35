"""journeyline tenants create NAME, journeyline tenants list."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import typer

from journeyline.cli.usage import Command
from journeyline.config import Settings, get_settings
from journeyline.store.db import Database
from journeyline.tenancy import service as tenancy
from journeyline.tenancy.context import TenantContext
from journeyline.tenancy.service import CreatedTenant

app = typer.Typer(help="Tenants and their keys.", no_args_is_help=True)


@asynccontextmanager
async def operating_on(reference: str) -> AsyncIterator[tuple[Database, TenantContext]]:
    """The database and an operator's context for the tenant named by id or unique name."""
    settings = get_settings()
    database = Database.from_settings(settings)
    try:
        async with database.read() as session:
            context = await tenancy.context_for_reference(session, reference, settings)
        if context is None:
            raise typer.BadParameter(f"no single tenant has the id or name {reference!r}")
        yield database, context
    finally:
        await database.dispose()


async def create(settings: Settings, name: str) -> CreatedTenant:
    database = Database.from_settings(settings)
    try:
        return await database.run(lambda session: tenancy.create_tenant(session, name))
    finally:
        await database.dispose()


def print_keys(created: CreatedTenant) -> None:
    typer.echo(f"tenant     {created.name} ({created.tenant_id})")
    typer.echo(f"public key {created.public_key}")
    typer.echo(f"secret key {created.secret_key}")
    typer.echo("keys are stored hashed: copy them now, they are not shown again.")


@app.command("create", cls=Command)
def create_command(
    name: Annotated[str, typer.Argument(help="The tenant's name (1 to 200 characters).")],
) -> None:
    """Create a tenant and print its keys (shown once)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise typer.BadParameter("the name must hold 1 to 200 characters")
    print_keys(asyncio.run(create(get_settings(), name)))


async def _tenants(settings: Settings) -> list[tuple[str, str, str]]:
    database = Database.from_settings(settings)
    try:
        async with database.read() as session:
            tenants = await tenancy.list_tenants(session)
    finally:
        await database.dispose()
    return [(str(t.id), t.created_at.isoformat(timespec="seconds"), t.name) for t in tenants]


@app.command("list", cls=Command)
def list_command() -> None:
    """Every tenant: id, creation time and name, oldest first."""
    typer.echo("id                                    created                    name")
    for tenant_id, created, name in asyncio.run(_tenants(get_settings())):
        typer.echo(f"{tenant_id}  {created:<25}  {name}")
