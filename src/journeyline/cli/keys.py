"""journeyline keys list|create|revoke --tenant T: a tenant's API keys, for the operator."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Annotated

import typer

from journeyline.cli.tenants import operating_on
from journeyline.cli.usage import Command
from journeyline.errors import JourneylineError
from journeyline.store.models import ApiKey
from journeyline.tenancy import service as tenancy
from journeyline.tenancy.service import NewKey, Revocation

app = typer.Typer(help="A tenant's API keys.", no_args_is_help=True)

TenantOption = Annotated[str, typer.Option("--tenant", help="The tenant's id or (unique) name.")]


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"


async def _list(tenant: str) -> list[ApiKey]:
    async with operating_on(tenant) as (database, context), database.read() as session:
        return await tenancy.list_keys(session, context.tenant_id)


async def _create(tenant: str, name: str | None) -> NewKey:
    async with operating_on(tenant) as (database, context):
        return await database.run(
            lambda session: tenancy.issue_key(session, context.tenant_id, "secret", name)
        )


async def _revoke(tenant: str, key_id: uuid.UUID) -> Revocation:
    async with operating_on(tenant) as (database, context):
        return await database.run(
            lambda session: tenancy.revoke_key(session, context.tenant_id, key_id)
        )


@app.command("list", cls=Command)
def list_command(tenant: TenantOption) -> None:
    """Every key the tenant has had: id, kind, prefix, name, created, last used, revoked."""
    typer.echo(
        "id                                    kind    prefix      created              last used            revoked              name"
    )
    for key in asyncio.run(_list(tenant)):
        typer.echo(
            f"{key.id}  {key.kind:<6}  {key.prefix:<10}  {_when(key.created_at):<19}  "
            f"{_when(key.last_used_at):<19}  {_when(key.revoked_at):<19}  {key.name or ''}"
        )


@app.command("create", cls=Command)
def create_command(
    tenant: TenantOption,
    name: Annotated[str | None, typer.Option("--name", help="What the key is for.")] = None,
) -> None:
    """Another secret key for the tenant (printed once: only its hash is stored)."""
    if name is not None and not 1 <= len(name.strip()) <= 200:
        raise typer.BadParameter("the name must hold 1 to 200 characters")
    created = asyncio.run(_create(tenant, name.strip() if name else None))
    typer.echo(f"key id     {created.id}")
    typer.echo(f"secret key {created.key}")
    typer.echo("keys are stored hashed: copy it now, it is not shown again.")


@app.command("revoke", cls=Command)
def revoke_command(
    key_id: Annotated[str, typer.Argument(help="The key's id (see `keys list`).")],
    tenant: TenantOption,
) -> None:
    """Revoke a key: API processes refuse it within 5 s (their key caches). The last live
    secret key cannot be revoked; revoking the public key prints its replacement."""
    try:
        parsed = uuid.UUID(key_id)
    except ValueError:
        raise typer.BadParameter(f"{key_id!r} is not a key id") from None
    try:
        revoked = asyncio.run(_revoke(tenant, parsed))
    except JourneylineError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"revoked {revoked.kind} key {revoked.key_id}")
    if revoked.replacement is not None:
        typer.echo(f"new public key {revoked.replacement.key}")
