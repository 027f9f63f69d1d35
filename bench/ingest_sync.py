"""Single-request ingest: throughput (closed loop) and latency percentiles of POST /ingest.

Starts `journeyline serve` exactly as a user does (uvicorn, one process) on a fresh SQLite file or
a fresh PostgreSQL database, then drives it from this process over loopback.

    python -m bench.ingest_sync --db sqlite --requests 3000 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from tests.conftest import _create_pg_database, _drop_pg_database

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


async def run_load(
    port: int, key: str, requests: int, concurrency: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30
    ) as client:

        async def worker() -> None:
            for index in counter:
                body = {
                    "event_type": "track",
                    "event_name": "Product Viewed",
                    "anonymous_id": f"anon-{index % 500}",
                    "identity": f"user{index % 200}@bench.io",
                    "payload": {"product_id": f"P-{index % 50}", "price": 10.5},
                    "message_id": str(uuid.uuid4()),
                }
                started = time.perf_counter()
                response = await client.post("/ingest", json=body, headers={"X-API-Key": key})
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise RuntimeError(response.text)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return requests / elapsed, latencies


def percentile(values: list[float], q: float) -> float:
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
                rate, latencies = asyncio.run(run_load(args.port, key, count, concurrency))
                print(
                    f"{args.db:8} concurrency={concurrency:3} requests={count:6} "
                    f"throughput={rate:8.0f} req/s  p50={percentile(latencies, 50) * 1000:6.2f} ms  "
                    f"p99={percentile(latencies, 99) * 1000:6.2f} ms"
                )
        finally:
            process.terminate()
            process.wait(timeout=20)
            if cleanup:
                asyncio.run(_drop_pg_database(PG_SERVER, cleanup))


if __name__ == "__main__":
    main()
