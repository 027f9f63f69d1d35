"""journeyline worker: an Arq worker for asynchronous batches (needs JOURNEYLINE_REDIS_URL)."""

from __future__ import annotations

import asyncio
import logging

import typer
from arq.worker import Worker

from journeyline.config import get_settings
from journeyline.worker.settings import worker_settings


def worker(
    burst: bool = typer.Option(False, help="Run the queued jobs, then exit."),
) -> None:
    """Process batches from Redis. Run as many as you like; each job runs on one of them."""
    settings = get_settings()
    if not settings.redis_url:
        typer.echo(
            "JOURNEYLINE_REDIS_URL is not set: without Redis, `journeyline serve` runs batches "
            "on its embedded worker",
            err=True,
        )
        raise typer.Exit(code=1)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    async def run() -> None:
        arq_worker = Worker(**worker_settings(settings), burst=burst)
        try:
            await arq_worker.async_run()
        finally:
            await arq_worker.close()

    asyncio.run(run())
