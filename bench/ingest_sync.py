"""Single-request ingest: throughput (closed loop) and latency percentiles of POST /ingest.

Starts `journeyline serve` exactly as a user does (uvicorn, one process) on a fresh SQLite file or
a fresh PostgreSQL database, then drives it from this process over loopback. The harness
(`python -m bench`) reuses these pieces; this module is also a quick command of its own:

    python -m bench.ingest_sync --db sqlite --requests 3000 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import re
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson

from bench.databases import fresh_database
from bench.loadgen import LoadResult, closed_loop, open_loop
from bench.servers import journeyline_server


def bodies() -> Iterator[bytes]:
    """A realistic mix: 500 visitors, 200 known emails, 50 products, a fresh message id each."""
    for index in itertools.count():
        yield orjson.dumps(
            {
                "event_type": "track",
                "event_name": "Product Viewed",
                "anonymous_id": f"anon-{index % 500}",
                "identity": f"user{index % 200}@bench.io",
                "payload": {"product_id": f"P-{index % 50}", "price": 10.5},
                "message_id": str(uuid.uuid4()),
            }
        )


def must_be_ok(status: int, answer: bytes) -> None:
    if status != 200:
        raise RuntimeError(f"{status}: {answer[:300]!r}")


def _headers(key: str) -> dict[str, str]:
    return {"X-API-Key": key, "Content-Type": "application/json"}


async def run_load(port: int, key: str, requests: int, concurrency: int) -> LoadResult:
    return await closed_loop(
        "127.0.0.1",
        port,
        "/ingest",
        bodies(),
        _headers(key),
        requests=requests,
        concurrency=concurrency,
        check=must_be_ok,
    )


async def run_open_load(port: int, key: str, rate: float, duration: float) -> LoadResult:
    return await open_loop(
        "127.0.0.1",
        port,
        "/ingest",
        bodies(),
        _headers(key),
        rate=rate,
        duration=duration,
        check=must_be_ok,
    )


PROCESS = re.compile(r'^journeyline_process_info\{pid="(\d+)"\} ', re.MULTILINE)
GROUP_METRICS = ("journeyline_group_commit_requests_count", "journeyline_group_commit_requests_sum")
# Long enough for a loaded machine to hand a fresh connection to every process at least once.
SCRAPE_SECONDS = 30.0

Totals = dict[int, tuple[float, float]]


def _scrape(port: int) -> tuple[int, tuple[float, float]]:
    """One /metrics scrape on a fresh connection: the answering process and its (groups,
    requests) committed so far."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    process = PROCESS.search(text)
    if process is None:
        raise RuntimeError("/metrics names no process (journeyline_process_info)")
    values = dict.fromkeys(GROUP_METRICS, 0.0)
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in values:
            values[name] = float(value)
    return int(process.group(1)), (values[GROUP_METRICS[0]], values[GROUP_METRICS[1]])


def group_totals(port: int, processes: int = 1) -> Totals:
    """(groups, requests) committed so far by each serving process. Every process counts its
    own and a fresh connection reaches any one of them: scrape until all have answered."""
    totals: Totals = {}
    deadline = time.monotonic() + SCRAPE_SECONDS
    while len(totals) < processes:
        if time.monotonic() > deadline:
            raise RuntimeError(f"/metrics: {len(totals)} of {processes} processes answered")
        pid, values = _scrape(port)
        totals[pid] = values
    return totals


@dataclass(frozen=True)
class Commits:
    requests_per_commit: float
    # Requests each process answered, largest first: how evenly the kernel spread connections.
    requests_by_process: list[int]


def commits_since(port: int, before: Totals, processes: int = 1) -> Commits:
    after = group_totals(port, processes)
    groups = {pid: after[pid][0] - before.get(pid, (0.0, 0.0))[0] for pid in after}
    requests = {pid: after[pid][1] - before.get(pid, (0.0, 0.0))[1] for pid in after}
    return Commits(
        sum(requests.values()) / max(sum(groups.values()), 1),
        sorted((round(count) for count in requests.values()), reverse=True),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as directory,
        fresh_database(args.db, Path(directory)) as url,
        journeyline_server(url, Path(directory), port=args.port) as server,
    ):
        asyncio.run(run_load(server.port, server.public_key, 200, 8))  # warm-up
        for concurrency in (1, args.concurrency):
            count = args.requests if concurrency > 1 else max(args.requests // 4, 200)
            before = group_totals(server.port)
            load = asyncio.run(run_load(server.port, server.public_key, count, concurrency))
            per_group = commits_since(server.port, before).requests_per_commit
            print(
                f"{args.db:8} concurrency={concurrency:3} requests={count:6} "
                f"throughput={load.rate:8.0f} req/s  p50={load.p50 * 1000:6.2f} ms  "
                f"p99={load.p99 * 1000:6.2f} ms  requests/commit={per_group:5.1f}"
            )


if __name__ == "__main__":
    main()
