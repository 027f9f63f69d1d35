"""The embedded worker: the same jobs as the Arq workers, run by tasks in the API process
(DESIGN §11, embedded shape). The durable table is the queue; the in-memory queue only says
"look at this one now"."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from journeyline.config import Settings
from journeyline.ingest.batches import JobRef
from journeyline.store.db import Database
from journeyline.worker.jobs import abandon_idle_orders, run_ingest_job, sweep

log = logging.getLogger("journeyline.worker")


class LocalWorker:
    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self._queue: asyncio.Queue[JobRef] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._busy = 0

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(max(1, self.settings.worker.local_concurrency)):
            self._tasks.append(loop.create_task(self._run()))
        self._tasks.append(loop.create_task(self._sweep_forever()))
        self._tasks.append(loop.create_task(self._abandon_forever()))

    async def enqueue(self, ref: JobRef) -> None:
        self._queue.put_nowait(ref)

    async def ping(self) -> bool:
        """In-process: it answers while its tasks run."""
        return bool(self._tasks) and not any(task.done() for task in self._tasks)

    async def drain(self) -> None:
        """Return once every announced job has been run (tests and `import` wait on this)."""
        await self._queue.join()

    async def close(self) -> None:
        # A job cut off here keeps its last checkpoint; its lease runs out and it resumes.
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _run(self) -> None:
        while True:
            ref = await self._queue.get()
            try:
                await run_ingest_job(self.database, self.settings, ref)
            except Exception:
                # The job stays in the table; the sweeper offers it again after its lease.
                log.exception("ingest job %s failed in the embedded worker", ref.job_id)
            finally:
                self._queue.task_done()

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await sweep(self.database, self.settings, self)
            except Exception:
                log.exception("the embedded sweeper failed; trying again next interval")
            await asyncio.sleep(self.settings.worker.sweep_interval_seconds)

    async def _abandon_forever(self) -> None:
        while True:
            try:
                await abandon_idle_orders(self.database, self.settings)
            except Exception:
                log.exception("the embedded abandonment sweep failed; trying again next interval")
            await asyncio.sleep(self.settings.orders.abandon_sweep_interval_seconds)
