"""journeyline import FILE --tenant T: backfill JSONL through the bulk pipeline."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from journeyline.cli.tenants import operating_on
from journeyline.config import get_settings
from journeyline.ingest.importer import ImportSummary, import_lines

SHOWN_FAILURES = 20


def numbered_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as handle:
        yield from enumerate(handle, start=1)


async def run_import(
    path: Path,
    size: int,
    tenant: str,
    dialect: Literal["keystone", "marketing"] | None,
    console: Console,
) -> ImportSummary:
    settings = get_settings()
    async with operating_on(tenant) as (database, context):
        database.keep_up()  # a backfill is a fresh table's first bulk load
        events = TextColumn("{task.fields[events]:,} lines · {task.fields[rate]:,.0f} events/s")
        with Progress(
            TextColumn("[bold]importing"),
            BarColumn(),
            DownloadColumn(),
            events,
            TimeRemainingColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("import", total=size, events=0, rate=0.0)
            lines_done = 0

            def on_chunk(lines: int, size: int) -> None:
                nonlocal lines_done
                lines_done += lines
                elapsed = progress.tasks[task].elapsed or 1e-9
                progress.update(task, advance=size, events=lines_done, rate=lines_done / elapsed)

            return await import_lines(
                database,
                context,
                numbered_lines(path),
                dialect=dialect,
                chunk_size=settings.worker.batch_chunk_size,
                max_event_bytes=settings.limits.max_event_bytes,
                max_depth=settings.limits.max_json_depth,
                on_chunk=on_chunk,
            )


def import_command(
    path: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, metavar="FILE", help="A JSONL file."
        ),
    ],
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant's id or (unique) name.")],
    dialect: Annotated[
        str, typer.Option(help="keystone, marketing, or auto (per line: `event_type` = Keystone).")
    ] = "auto",
) -> None:
    """Import events from a JSONL file. Safe to run again: imported events are not doubled."""
    if dialect not in {"auto", "keystone", "marketing"}:
        raise typer.BadParameter("--dialect is keystone, marketing or auto")
    chosen: Literal["keystone", "marketing"] | None = (
        None if dialect == "auto" else ("keystone" if dialect == "keystone" else "marketing")
    )
    console = Console(stderr=True)
    summary = asyncio.run(run_import(path, path.stat().st_size, tenant, chosen, console))
    out = Console()
    out.print(
        f"{summary.lines:,} lines: {summary.stored:,} stored, {summary.duplicates:,} already "
        f"there, {len(summary.failed):,} failed"
    )
    if summary.failed:
        table = Table("line", "code", "message", title="failed lines")
        for failed in summary.failed[:SHOWN_FAILURES]:
            table.add_row(str(failed.line), failed.code, failed.message)
        out.print(table)
        if len(summary.failed) > SHOWN_FAILURES:
            out.print(f"… and {len(summary.failed) - SHOWN_FAILURES:,} more")
        raise typer.Exit(code=2)
