"""Planner statistics for tables that grew faster than autovacuum analyzes them.

A fresh database under its first bulk load has tables with rows and no statistics (or the
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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("journeyline.store")

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


@dataclass
class StatisticsWatch:
    """Checks, at most every `every_seconds` and never two at once, after a commit."""

    engine: AsyncEngine
    every_seconds: float = 2.0
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
            analyzed = await analyze_grown_tables(self.engine)
        except Exception:
            # Statistics are an optimisation: a failure (no privilege, the database away) is
            # logged and the next interval tries again.
            log.warning("could not analyze grown tables", exc_info=True)
            return
        if analyzed:
            log.info("analyzed grown tables: %s", ", ".join(analyzed))

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
