"""Upkeep a long-running process does in the background after commits, so that no commit pays
for it: planner statistics on PostgreSQL, WAL checkpoints on SQLite.

**Statistics (PostgreSQL).** A fresh database under its first bulk load has tables with rows and no statistics (or the
statistics of when they held a handful) until autovacuum's next ANALYZE, up to a minute or more
away. Without them the planner sees every index of a table as equally cheap and may probe
`(tenant_id, company_id)` for a lookup by `(tenant_id, profile_id)`, filtering every row of the
tenant for each key: measured on the realistic workload, 23 ms of a 1,000-event chunk for the
CRM's person lookup alone (0.6 ms once analyzed), growing with the table (decision 52; decision
41 is the same trap on the log). PostgreSQL's own advice is to ANALYZE after loading data: a
long-running process (serve, worker, import) analyzes, in the background after a commit and at
most every few seconds, each table modified by more rows since its last analysis than it had
then (plus a floor): a table is analyzed each time it doubles, a logarithmic number of times,
and in steady state autovacuum's own thresholds come first.

**Checkpoints (SQLite).** In WAL mode SQLite copies the log back into the database file
(a checkpoint, with its fsyncs) inside whichever commit finds the log past
`wal_autocheckpoint` pages: that commit pays for the writes of all the commits before it.
Measured on the merge bench (`/proc/self/io` around one merge after a 10,000-event history):
3 MB read and written, 787 write calls and 27 ms in the commit, against 87 KB and 0.3 ms
for the same merge when no checkpoint fell on it (decision 61). A process with upkeep runs a
PASSIVE checkpoint (it never blocks the writer or the readers) on a connection of its own
after commits; the automatic checkpoint stays on, at CHECKPOINT_SAFETY_PAGES, for processes
without upkeep and as a bound should the background fall behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("journeyline.store")

# The automatic checkpoint's threshold in pages (4 KiB each): SQLite's default is 1,000.
CHECKPOINT_SAFETY_PAGES = 10_000
# Changes since the last analysis before a table is analyzed again, beyond its size then.
FLOOR = 500
GROWN = text(
    """
    SELECT s.relname
    FROM pg_stat_user_tables AS s
    JOIN pg_class AS c ON c.oid = s.relid
    WHERE s.schemaname = current_schema()
      AND s.n_mod_since_analyze > greatest(c.reltuples, 0) + :floor
    ORDER BY s.relname
    """
)


async def analyze_grown_tables(engine: AsyncEngine) -> list[str]:
    """ANALYZE every table of the schema changed by more rows since its last analysis than it
    held then (plus FLOOR); their names. Nothing on SQLite (its planner takes the unique key for
    these lookups without statistics)."""
    if engine.dialect.name != "postgresql":
        return []
    async with engine.connect() as connection:
        names = list((await connection.execute(GROWN, {"floor": FLOOR})).scalars())
        for name in names:
            await connection.execute(text(f'ANALYZE "{name}"'))
        await connection.commit()
    return names


@dataclass(frozen=True)
class Checkpoint:
    """What `PRAGMA wal_checkpoint` answered: the log's frames and how many are back in the
    database file; `busy` when another checkpoint ran or a lock stopped this one."""

    busy: bool
    log_frames: int
    checkpointed_frames: int


async def checkpoint_wal(engine: AsyncEngine) -> Checkpoint | None:
    """A PASSIVE checkpoint of a SQLite database's WAL: copies back as many frames as it can
    without waiting for readers or the writer. None on other databases."""
    if engine.dialect.name != "sqlite":
        return None
    async with engine.connect() as connection:
        result = await connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        row: Sequence[Any] = result.one()
    return Checkpoint(bool(row[0]), int(row[1]), int(row[2]))


@dataclass
class Upkeep:
    """Runs the database's upkeep at most every `every_seconds` and never two at once, after a
    commit: ANALYZE of grown tables on PostgreSQL, a WAL checkpoint on SQLite."""

    engine: AsyncEngine
    every_seconds: float = 2.0
    # The last checkpoint's answer (SQLite), for the logs' and the tests' sake.
    last_checkpoint: Checkpoint | None = None
    _checked_at: float = field(default=float("-inf"))
    _task: asyncio.Task[None] | None = None

    def after_commit(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < self.every_seconds:
            return
        if self._task is not None and not self._task.done():
            return
        self._checked_at = now
        self._task = asyncio.get_running_loop().create_task(self._check())

    async def _check(self) -> None:
        try:
            if self.engine.dialect.name == "sqlite":
                self.last_checkpoint = await checkpoint_wal(self.engine)
                return
            analyzed = await analyze_grown_tables(self.engine)
        except Exception:
            # Upkeep is an optimisation: a failure (no privilege, the database away, a lock) is
            # logged and the next interval tries again.
            log.warning("database upkeep failed", exc_info=True)
            return
        if analyzed:
            log.info("analyzed grown tables: %s", ", ".join(analyzed))

    async def idle(self) -> None:
        """Wait for the upkeep under way, if any, to end."""
        if self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
