"""Synchronous ingest (POST /ingest, one event per request) through a real `journeyline serve`:
saturation throughput from a closed loop, then latency percentiles from open loops offering a
fixed share of that saturation."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bench.databases import Kind, fresh_database
from bench.ingest_sync import group_totals, requests_per_commit, run_load, run_open_load
from bench.servers import journeyline_server


def measure(
    kind: Kind,
    workdir: Path,
    *,
    requests: int,
    concurrency: int,
    shares: tuple[float, ...],
    duration: float,
) -> dict[str, Any]:
    with (
        fresh_database(kind, workdir) as url,
        journeyline_server(url, workdir, name=f"server-sync-{kind}") as server,
    ):
        port, key = server.port, server.public_key
        asyncio.run(run_load(port, key, min(200, requests), 8))  # warm-up: pools, caches

        before = group_totals(port)
        closed = asyncio.run(run_load(port, key, requests, concurrency))
        saturation = closed.rate
        result: dict[str, Any] = {
            "closed_loop": {
                "requests": closed.requests,
                "concurrency": concurrency,
                "elapsed_s": closed.elapsed,
                "throughput_rps": saturation,
                "p50_ms": closed.p50 * 1000,
                "p99_ms": closed.p99 * 1000,
                "requests_per_commit": requests_per_commit(port, before),
            },
            "open_loop": [],
        }
        for share in shares:
            before = group_totals(port)
            load = asyncio.run(run_open_load(port, key, saturation * share, duration))
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
                    "requests_per_commit": requests_per_commit(port, before),
                }
            )
    return result
