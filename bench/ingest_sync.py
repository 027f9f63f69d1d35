"""Single-request ingest: throughput (closed loop) and latency percentiles of POST /ingest.

Starts `journeyline serve` exactly as a user does (uvicorn, one process) on a fresh SQLite file or
a fresh PostgreSQL database, then drives it from this process over loopback.

    python -m bench.ingest_sync --db sqlite --requests 3000 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
from tests.conftest import _create_pg_database, _drop_pg_database

from bench.loadgen import LoadResult, closed_loop

PG_SERVER = os.environ.get("PG_TEST_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def start(database_url: str, workdir: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server with its output in a log file (an unread pipe would fill and stall it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEYLINE_")}
    env["JOURNEYLINE_DATABASE_URL"] = database_url
    if database_url.startswith("postgresql"):
        subprocess.run(
            [sys.executable, "-m", "journeyline", "db", "upgrade"],
            env=env,
            check=True,
            capture_output=True,
        )
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "journeyline", "serve", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        match = re.search(r"public key (pk_\S+)", text)
        if match and "Application startup complete" in text:
            return process, match.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.1)  # polling a child's log file for readiness, not test synchronisation
    process.kill()
    raise RuntimeError("server did not start:\n" + log_path.read_text(errors="replace"))


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


async def run_load(port: int, key: str, requests: int, concurrency: int) -> LoadResult:
    return await closed_loop(
        "127.0.0.1",
        port,
        "/ingest",
        bodies(),
        {"X-API-Key": key, "Content-Type": "application/json"},
        requests=requests,
        concurrency=concurrency,
        check=must_be_ok,
    )


def group_totals(port: int) -> tuple[float, float]:
    """(groups, requests) committed so far, from the server's /metrics."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    values = {}
    for line in text.splitlines():
        for name in (
            "journeyline_group_commit_requests_count",
            "journeyline_group_commit_requests_sum",
        ):
            if line.startswith(name + " "):
                values[name] = float(line.split()[1])
    return (
        values.get("journeyline_group_commit_requests_count", 0.0),
        values.get("journeyline_group_commit_requests_sum", 0.0),
    )


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        if args.db == "sqlite":
            url, cleanup = f"sqlite+aiosqlite:///{workdir / 'bench.db'}", None
        else:
            url = asyncio.run(_create_pg_database(PG_SERVER))
            cleanup = url
        process, key = start(url, workdir, args.port)
        try:
            asyncio.run(run_load(args.port, key, 200, 8))  # warm-up
            for concurrency in (1, args.concurrency):
                count = args.requests if concurrency > 1 else max(args.requests // 4, 200)
                groups_before, requests_before = group_totals(args.port)
                load = asyncio.run(run_load(args.port, key, count, concurrency))
                rate, latencies = load.rate, load.latencies
                groups_after, requests_after = group_totals(args.port)
                per_group = (requests_after - requests_before) / max(
                    groups_after - groups_before, 1
                )
                print(
                    f"{args.db:8} concurrency={concurrency:3} requests={count:6} "
                    f"throughput={rate:8.0f} req/s  p50={percentile(latencies, 50) * 1000:6.2f} ms  "
                    f"p99={percentile(latencies, 99) * 1000:6.2f} ms  requests/commit={per_group:5.1f}"
                )
        finally:
            process.terminate()
            process.wait(timeout=20)
            if cleanup:
                asyncio.run(_drop_pg_database(PG_SERVER, cleanup))


if __name__ == "__main__":
    main()
