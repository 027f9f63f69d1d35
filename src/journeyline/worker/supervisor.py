"""`journeyline worker` outlives Redis: Arq's Worker stops at the first lost connection (its
`conn_retries` cover only the first connect), so this loop runs one Worker after another on a
fresh connection, waiting longer between failed attempts (decision 45).

Nothing durable lives in Redis (DESIGN §9): a job running when Redis went away finishes or
checkpoints in the database, and the sweeper, which runs as soon as a Worker starts, announces
again every batch that was accepted meanwhile or whose announcement Redis lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from arq.worker import Worker
from redis.exceptions import RedisError

from journeyline.config import Settings
from journeyline.worker.settings import arq_redis, shutdown, worker_settings

log = logging.getLogger("journeyline.worker")

# What a lost or frozen Redis raises out of Arq's loop (redis-py's TimeoutError and
# ConnectionError are RedisErrors; the bare ones come from connecting).
REDIS_FAILURES = (RedisError, OSError, TimeoutError)


class Supervisor:
    def __init__(self, settings: Settings, *, burst: bool = False) -> None:
        self.settings = settings
        self.burst = burst
        # Shared by every Worker this process runs: one database engine for its lifetime.
        self.ctx: dict[str, Any] = {"settings": settings}
        self.stopping = asyncio.Event()
        self.reconnects = 0
        self._current: Worker | None = None

    def stop(self, signum: signal.Signals = signal.SIGTERM) -> None:
        """Stop after the running jobs are cancelled (their checkpoints hold, DESIGN §9)."""
        self.stopping.set()
        if self._current is not None:
            self._current.handle_sig(signum)

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.stop, signum)

    async def run(self) -> None:
        """Until stopped (or, in burst mode, until the queue is empty)."""
        failures = 0
        try:
            while not self.stopping.is_set():
                if await self._run_once():
                    return
                failures = 0 if self.ctx.get("connected") else failures + 1
                delay = self._delay(failures)
                self.reconnects += 1
                log.warning("reconnecting to Redis in %.1f s", delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), delay)
        finally:
            await shutdown(self.ctx)

    def _delay(self, failures: int) -> float:
        options = self.settings.redis
        return float(
            min(options.reconnect_most_seconds, options.reconnect_first_seconds * 2**failures)
        )

    async def _run_once(self) -> bool:
        """One Worker on a fresh connection: True when it ended normally (stopped, or a burst
        done), False when Redis failed under it."""
        assert self.settings.redis_url is not None
        redis = arq_redis(self.settings.redis_url, self.settings.redis)
        options = {**worker_settings(self.settings), "ctx": self.ctx}
        worker = Worker(**options, redis_pool=redis, burst=self.burst, handle_signals=False)
        # Set by the Worker's startup hook, once it has reached Redis.
        self.ctx["connected"] = False
        self._current = worker
        try:
            await worker.async_run()
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            # Our stop() cancelled the Worker's own task.
            return True
        except REDIS_FAILURES as exc:
            if self.stopping.is_set():
                return True
            state = "lost" if self.ctx.get("connected") else "cannot reach"
            log.warning("the worker %s Redis (%s: %s)", state, type(exc).__name__, exc)
            return False
        finally:
            await self._release(worker)
            self._current = None
        return True

    async def _release(self, worker: Worker) -> None:
        """Let the jobs running on `worker` end (or, when stopping, cancel them), then drop its
        connection. Not Worker.close(): that needs Redis and ends the shared context."""
        if self.stopping.is_set():
            worker.handle_sig(signal.SIGTERM)
        tasks = list(worker.tasks.values())
        if tasks:
            # A job's own work is in the database; only Arq's bookkeeping around it needs
            # Redis, and that fails within the client's timeouts. stop() cancels them.
            await asyncio.wait(tasks, timeout=self.settings.worker.lease_seconds)
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.warning("a job ended without Redis: %s", task.exception())
        with contextlib.suppress(*REDIS_FAILURES):
            await worker.pool.delete(worker.health_check_key)
        await worker.pool.aclose()
