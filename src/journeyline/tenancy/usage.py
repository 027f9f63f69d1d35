"""When each key was last used, kept cheaply: a request only notes the time in memory (at most
once per `interval_seconds` and key), and `flush` writes what was noted in one statement. A
key's `last_used_at` is therefore late by at most the interval plus the flush period."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from journeyline.errors import StorageUnavailable
from journeyline.store.db import Database
from journeyline.store.repositories import tenants as tenant_repo

log = logging.getLogger("journeyline.tenancy")


@dataclass
class KeyUsage:
    interval_seconds: float
    # key id -> (tenant id, wall time of the last use noted)
    _noted: dict[uuid.UUID, float] = field(default_factory=dict)
    _pending: dict[uuid.UUID, tuple[uuid.UUID, float]] = field(default_factory=dict)

    def touch(self, tenant_id: uuid.UUID, key_id: uuid.UUID, now: float) -> None:
        """`now` is wall time (time.time()). Two dict operations on the hot path, at most."""
        last = self._noted.get(key_id)
        if last is not None and now - last < self.interval_seconds:
            return
        self._noted[key_id] = now
        self._pending[key_id] = (tenant_id, now)

    def forget(self, key_id: uuid.UUID) -> None:
        self._noted.pop(key_id, None)
        self._pending.pop(key_id, None)

    async def flush(self, database: Database) -> int:
        """Write the noted times; on failure they are noted again for the next flush."""
        if not self._pending:
            return 0
        pending, self._pending = self._pending, {}
        rows = [
            (tenant_id, key_id, datetime.fromtimestamp(at, UTC))
            for key_id, (tenant_id, at) in pending.items()
        ]
        try:
            await database.run(lambda session: tenant_repo.record_key_usage(session, rows))
        except StorageUnavailable:
            for key_id, entry in pending.items():
                self._pending.setdefault(key_id, entry)
            raise
        return len(rows)

    @asynccontextmanager
    async def recording(self, database: Database, period_seconds: float) -> AsyncIterator[None]:
        """Flush every `period_seconds` while the block runs, and once more when it ends."""
        flusher = asyncio.get_running_loop().create_task(self._run(database, period_seconds))
        try:
            yield
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            try:
                await self.flush(database)
            except Exception:
                log.warning("could not record the last key usage before stopping")

    async def _run(self, database: Database, period_seconds: float) -> None:
        while True:
            await asyncio.sleep(period_seconds)
            try:
                await self.flush(database)
            except StorageUnavailable:
                log.warning("could not record key usage: the database is unavailable")
            except Exception:
                log.exception("could not record key usage")
