"""journeyline abandon-sweep [--tenant T]: abandon idle carts now, as the worker does."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from journeyline.cli.tenants import operating_on
from journeyline.config import get_settings
from journeyline.orders.abandonment import SweepSummary, sweep_abandoned
from journeyline.store.db import Database


async def run_sweep(tenant: str | None) -> SweepSummary:
    settings = get_settings()
    if tenant is not None:
        async with operating_on(tenant) as (database, context):
            return await sweep_abandoned(database, settings, tenant_id=context.tenant_id)
    database = Database.from_settings(settings)
    try:
        return await sweep_abandoned(database, settings)
    finally:
        await database.dispose()


def abandon_command(
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Only this tenant (id or unique name).")
    ] = None,
) -> None:
    """Emit `purchase_abandoned` for every incomplete order idle longer than its tenant's
    `abandon_after` (once per order, however often it runs)."""
    summary = asyncio.run(run_sweep(tenant))
    typer.echo(f"abandoned {summary.abandoned:,} order(s) in {summary.tenants:,} tenant(s)")
