"""journeyline worker: an Arq worker for asynchronous batches (needs JOURNEYLINE_REDIS_URL)."""

from __future__ import annotations

import asyncio

import typer

from journeyline.config import get_settings
from journeyline.logs.formatting import configure as configure_logging
from journeyline.worker.supervisor import Supervisor


def worker(
    burst: bool = typer.Option(False, help="Run the queued jobs, then exit."),
) -> None:
    """Process batches from Redis. Run as many as you like; each job runs on one of them. A
    worker that loses Redis connects again by itself (decision 45)."""
    settings = get_settings()
    if not settings.redis_url:
        typer.echo(
            "JOURNEYLINE_REDIS_URL is not set: without Redis, `journeyline serve` runs batches "
            "on its embedded worker",
            err=True,
        )
        raise typer.Exit(code=1)
    configure_logging(settings.log)

    async def run() -> None:
        supervisor = Supervisor(settings, burst=burst)
        supervisor.install_signal_handlers()
        await supervisor.run()

    asyncio.run(run())
