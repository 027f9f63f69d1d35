"""Synchronous ingest (POST /ingest, one event per request) through a real `journeyline serve`
of one or more API processes: saturation throughput from a closed loop, then latency
percentiles from open loops offering a fixed share of that saturation.

On PostgreSQL the server always has Redis, whatever the process count: `serve --workers N`
needs it, and 1 and N processes are compared in the same shape (each commit's realtime
messages go through Redis pub/sub). SQLite is served by one process (its one writer)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bench.databases import Kind, fresh_database
from bench.ingest_sync import commits_since, group_totals, run_load, run_open_load
from bench.servers import journeyline_server


def measure(
    kind: Kind,
    workdir: Path,
    *,
    requests: int,
    concurrency: int,
    shares: tuple[float, ...],
    duration: float,
    processes: int = 1,
    redis_url: str | None = None,
) -> dict[str, Any]:
    with (
        fresh_database(kind, workdir) as url,
        journeyline_server(
            url,
            workdir,
            redis_url=redis_url,
            name=f"server-sync-{kind}-{processes}p",
            processes=processes,
        ) as server,
    ):
        port, key = server.port, server.public_key
        asyncio.run(run_load(port, key, min(200, requests), 8))  # warm-up: pools, caches

        before = group_totals(port, processes)
        closed = asyncio.run(run_load(port, key, requests, concurrency))
        commits = commits_since(port, before, processes)
        saturation = closed.rate
        result: dict[str, Any] = {
            "closed_loop": {
                "requests": closed.requests,
                "concurrency": concurrency,
                "elapsed_s": closed.elapsed,
                "throughput_rps": saturation,
                "p50_ms": closed.p50 * 1000,
                "p99_ms": closed.p99 * 1000,
                "requests_per_commit": commits.requests_per_commit,
                "requests_by_process": commits.requests_by_process,
            },
            "open_loop": [],
        }
        for share in shares:
            before = group_totals(port, processes)
            load = asyncio.run(run_open_load(port, key, saturation * share, duration))
            commits = commits_since(port, before, processes)
            result["open_loop"].append(
                {
                    "share_of_saturation": share,
                    "offered_rps": load.offered_rate,
                    "achieved_rps": load.rate,
                    "requests": load.requests,
                    "duration_s": duration,
                    "p50_ms": load.p50 * 1000,
                    "p99_ms": load.p99 * 1000,
                    "max_ms": max(load.latencies) * 1000,
                    "max_dispatch_lag_ms": load.max_dispatch_lag * 1000,
                    "connections": load.connections,
                    "requests_per_commit": commits.requests_per_commit,
                    "requests_by_process": commits.requests_by_process,
                }
            )
    return result
