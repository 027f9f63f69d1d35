"""journeyline rebuild --tenant T: replay the tenant's log into fresh projections."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from journeyline.cli.tenants import operating_on
from journeyline.config import get_settings
from journeyline.ingest.rebuild import RebuildSummary, log_length, rebuild_tenant


async def run_rebuild(tenant: str, console: Console) -> RebuildSummary:
    settings = get_settings()
    async with operating_on(tenant) as (database, context):
        total = await log_length(database, context)
        with Progress(
            TextColumn("[bold]replaying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("rebuild", total=total)
            return await rebuild_tenant(
                database,
                context,
                chunk_size=settings.worker.batch_chunk_size,
                on_chunk=lambda done: progress.update(task, advance=done),
            )


def rebuild_command(
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant's id or (unique) name.")],
) -> None:
    """Replace the tenant's profiles, identities, lineage and merges with what its log gives,
    replayed in order (operator merges and unmerges applied again at their moment)."""
    summary = asyncio.run(run_rebuild(tenant, Console(stderr=True)))
    typer.echo(
        f"replayed {summary.events:,} events and {summary.actions:,} operator actions"
        + (f"; {len(summary.skipped)} actions no longer applied:" if summary.skipped else "")
    )
    for line in summary.skipped:
        typer.echo(f"  {line}")
