"""Asynchronous batches end to end: from the first POST /tenant/ingest/batch to the moment the
last job reads `completed` on GET /tenant/ingest/jobs/{id}.

Production shape: `journeyline serve` on PostgreSQL with Redis (database 14) and N Arq workers
(`journeyline worker`). Embedded shape: `journeyline serve` on SQLite, whose in-process worker
runs the jobs. Either way the batches hold realistic Keystone events (bench/workload.py) and are
sent with the tenant's secret key, as the route requires.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
from redis import Redis

from bench.databases import Kind, fresh_database
from bench.servers import Child, Server, journeyline_server, journeyline_workers
from bench.workload import keystone_events

# How often a job's status is read. Completion times are known to within this much.
POLL_SECONDS = 0.05


def batch_bodies(batches: int, size: int, seed: int) -> list[bytes]:
    events = list(keystone_events(batches * size, seed=seed))
    return [
        orjson.dumps({"events": events[start : start + size]})
        for start in range(0, len(events), size)
    ]


@contextmanager
def _clean_redis(url: str) -> Iterator[None]:
    """Database 14 belongs to the benchmark: empty it before (leftover jobs from an interrupted
    run) and after."""
    redis = Redis.from_url(url)
    database = redis.connection_pool.connection_kwargs.get("db", 0)
    if not database:
        redis.close()
        raise ValueError(
            f"{url} names Redis database 0; give the benchmark one of its own (it is flushed), "
            "e.g. redis://127.0.0.1:6379/14"
        )
    try:
        redis.flushdb()
        yield
    finally:
        redis.flushdb()
        redis.close()


async def _post(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> str:
    response = await client.post("/tenant/ingest/batch", content=body, headers=headers)
    if response.status_code != 202:
        raise RuntimeError(f"batch refused: {response.status_code} {response.text[:300]}")
    job_id: str = response.json()["job_id"]
    return job_id


async def _wait(
    client: httpx.AsyncClient, headers: dict[str, str], job_ids: list[str], limit_s: float
) -> tuple[dict[str, float], dict[str, int]]:
    """Poll every unfinished job until all are completed; returns when each was first seen
    completed, and the summed counts."""
    pending = list(job_ids)
    finished: dict[str, float] = {}
    totals = {"stored": 0, "duplicates": 0, "failed": 0}
    deadline = time.monotonic() + limit_s
    while pending:
        for job_id in list(pending):
            response = await client.get(f"/tenant/ingest/jobs/{job_id}", headers=headers)
            status = response.json()
            if status["status"] == "failed":
                raise RuntimeError(f"job {job_id} failed: {status}")
            if status["status"] == "completed":
                finished[job_id] = time.perf_counter()
                pending.remove(job_id)
                for name in totals:
                    totals[name] += int(status[name])
        if pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(pending)} job(s) still unfinished after {limit_s} s")
            await asyncio.sleep(POLL_SECONDS)  # polling the server for its jobs' progress
    return finished, totals


async def _timed_drain(
    client: httpx.AsyncClient, headers: dict[str, str], bodies: list[bytes], limit_s: float
) -> dict[str, Any]:
    began = time.perf_counter()
    job_ids = [await _post(client, body, headers) for body in bodies]
    accepted = time.perf_counter()
    finished, totals = await _wait(client, headers, job_ids, limit_s)
    events = sum(len(orjson.loads(body)["events"]) for body in bodies)
    elapsed = max(finished.values()) - began
    return {
        "batches": len(bodies),
        "events": events,
        "accept_s": accepted - began,
        "accepted_events_per_s": events / (accepted - began),
        "elapsed_s": elapsed,
        "events_per_s": events / elapsed,
        **totals,
    }


async def _drain(
    server: Server, bodies: list[bytes], warmup: bytes, limit_s: float
) -> dict[str, Any]:
    """The first delivery of `bodies`, then the same bodies again: a client retrying every
    batch (each event a duplicate of a stored one, by its message id)."""
    headers = {"Authorization": f"Bearer {server.secret_key}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
        # One small batch first, so pools, caches and the workers' polling are warm.
        await _wait(client, headers, [await _post(client, warmup, headers)], limit_s)
        first = await _timed_drain(client, headers, bodies, limit_s)
        again = await _timed_drain(client, headers, bodies, limit_s)
    return {**first, "redelivered": again}


def _tracebacks(children: list[Child]) -> int:
    return sum(child.log().count("Traceback") for child in children)


def measure(
    kind: Kind,
    workdir: Path,
    *,
    batches: int,
    batch_size: int,
    workers: int,
    redis_url: str,
    seed: int,
    timeout: float,
) -> dict[str, Any]:
    """One drain: PostgreSQL + Redis + `workers` Arq workers, or SQLite + the embedded worker
    (`workers` is then ignored)."""
    bodies = batch_bodies(batches, batch_size, seed)
    warmup = batch_bodies(1, min(200, batch_size), seed + 1)[0]
    with ExitStack() as stack:
        url = stack.enter_context(fresh_database(kind, workdir))
        children: list[Child] = []
        if kind == "postgres":
            stack.enter_context(_clean_redis(redis_url))
            server = stack.enter_context(
                journeyline_server(
                    url, workdir, redis_url=redis_url, name=f"server-batch-{workers}w"
                )
            )
            children = stack.enter_context(
                journeyline_workers(workers, url, redis_url, workdir, name=f"worker-{workers}w")
            )
        else:
            server = stack.enter_context(
                journeyline_server(url, workdir, name="server-batch-sqlite")
            )
        result = asyncio.run(_drain(server, bodies, warmup, timeout))
        result["tracebacks_in_logs"] = _tracebacks([server.child, *children])
    return result
