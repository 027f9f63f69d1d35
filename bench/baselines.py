"""Baselines on the same machine and stack, so journeyline's figures read as ratios:

- ASGI echo: the bare FastAPI + uvicorn stack answering the same POST /ingest bodies, driven by
  the same load generator at the same concurrency. Nothing can serve requests faster here.
- Raw COPY: the same event rows the pipeline would write, streamed into a freshly migrated
  PostgreSQL `events` table (all its indexes) with asyncpg's COPY. Nothing can store them faster.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information

from bench.databases import asyncpg_dsn, fresh_database
from bench.ingest_sync import bodies, must_be_ok
from bench.loadgen import closed_loop
from bench.servers import echo_server
from bench.workload import EVENT_COLUMNS, event_rows, keystone_events


def echo(workdir: Path, *, requests: int, concurrency: int) -> dict[str, Any]:
    """Closed-loop throughput of the echo app (after a short warm-up)."""
    with echo_server(workdir) as port:
        headers = {"X-API-Key": "pk_unused", "Content-Type": "application/json"}

        async def drive(count: int) -> Any:
            return await closed_loop(
                "127.0.0.1",
                port,
                "/ingest",
                bodies(),
                headers,
                requests=count,
                concurrency=concurrency,
                check=must_be_ok,
            )

        asyncio.run(drive(min(requests, 500)))
        load = asyncio.run(drive(requests))
    return {
        "requests": load.requests,
        "concurrency": concurrency,
        "elapsed_s": load.elapsed,
        "throughput_rps": load.rate,
        "p50_ms": load.p50 * 1000,
        "p99_ms": load.p99 * 1000,
    }


async def _copy(dsn: str, rows: list[tuple[Any, ...]], chunk: int) -> float:
    connection = await asyncpg.connect(dsn)
    try:
        began = time.perf_counter()
        for start in range(0, len(rows), chunk):
            # One COPY (and, outside a transaction block, one commit) per batch-sized chunk.
            await connection.copy_records_to_table(
                "events", records=rows[start : start + chunk], columns=EVENT_COLUMNS
            )
        elapsed = time.perf_counter() - began
        stored = await connection.fetchval("SELECT count(*) FROM events")
    finally:
        await connection.close()
    if stored != len(rows):
        raise RuntimeError(f"COPY stored {stored} rows of {len(rows)}")
    return elapsed


def raw_copy(workdir: Path, *, events: int, chunk: int, seed: int) -> dict[str, Any]:
    """events/s of COPY into a fresh, migrated PostgreSQL database. Building the rows (parsing,
    hashing, JSON encoding) happens before the clock starts: this is the database's ceiling."""
    rows = event_rows(list(keystone_events(events, seed=seed)), uuid.uuid4())
    with fresh_database("postgres", workdir) as url:
        elapsed = asyncio.run(_copy(asyncpg_dsn(url), rows, chunk))
    return {
        "events": len(rows),
        "chunk": chunk,
        "elapsed_s": elapsed,
        "events_per_s": len(rows) / elapsed,
    }
