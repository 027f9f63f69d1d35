"""How the batch drain rate holds up as one tenant grows: 10k, 100k, 1M events in its log (or
as many tenants grow together, with `tenants`: the same log spread over them).

One tenant, one fresh database, one server (and N Arq workers on PostgreSQL, the embedded worker
on SQLite). Batches of realistic Keystone events (bench/workload.py, from a larger population
than the other sections so that identities keep growing with the log) are sent back to back,
with a few jobs in flight so the workers never wait for the client. Each job's completion is
noted; at every milestone the drain rate of the batches just before it is reported (events over
the time between the completion before the window and the window's last completion), with the
size of the log on disk. A warm-up batch of 200 events comes first and is not counted.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bench.batch import POLL_SECONDS, _clean_redis, _post, _wait
from bench.databases import Kind, fresh_database
from bench.servers import Child, journeyline_server, journeyline_workers
from bench.workload import Population, keystone_events

# Events sent (and drained) before the clock starts; they are in the log but not in the figures.
WARMUP_EVENTS = 200


# The admin token of the growth server, which creates the extra tenants.
ADMIN_TOKEN = "bench-growth-admin"


@dataclass
class Job:
    job_id: str
    events: int
    posted_at: float
    headers: dict[str, str]
    completed_at: float | None = None


def _headers(secret_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret_key}", "Content-Type": "application/json"}


async def _tenant_keys(client: httpx.AsyncClient, first_key: str, tenants: int) -> list[str]:
    """The default tenant's secret key and `tenants - 1` more, made by the admin route."""
    keys = [first_key]
    for index in range(1, tenants):
        response = await client.post(
            "/admin/tenants",
            json={"name": f"growth-{index}"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        if response.status_code != 201:
            raise RuntimeError(f"tenant refused: {response.status_code} {response.text[:300]}")
        keys.append(str(response.json()["secret_key"]))
    return keys


def _body(index: int, size: int, seed: int, population: Population) -> bytes:
    events = list(keystone_events(size, seed=seed * 1_000_003 + index, population=population))
    return orjson.dumps({"events": events})


async def _log_size(url: str, kind: Kind) -> int:
    """Bytes the log takes on disk: `events` with its indexes and TOAST on PostgreSQL, the
    whole file (and its WAL) on SQLite."""
    if kind == "sqlite":
        path = Path(url.removeprefix("sqlite+aiosqlite:///"))
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            size = await connection.scalar(text("SELECT pg_total_relation_size('events')"))
            return int(size or 0)
    finally:
        await engine.dispose()


def window_rate(jobs: list[Job], upto: int, window: int, started: float) -> dict[str, Any]:
    """The drain rate of the `window` batches whose completions come last among the first
    `upto` completed jobs (in completion order)."""
    done = sorted((job for job in jobs if job.completed_at is not None), key=_completed)[:upto]
    last = done[-window:]
    before = _completed(done[-window - 1]) if len(done) > window else started
    seconds = _completed(last[-1]) - before
    events = sum(job.events for job in last)
    return {"window_events": events, "window_s": seconds, "events_per_s": events / seconds}


def _completed(job: Job) -> float:
    assert job.completed_at is not None
    return job.completed_at


async def _grow(
    base_url: str,
    secret_key: str,
    url: str,
    kind: Kind,
    *,
    tenants: int,
    milestones: list[int],
    batch_size: int,
    in_flight: int,
    window: int,
    seed: int,
    population: Population,
    limit_s: float,
) -> dict[str, Any]:
    total_batches = -(-max(milestones) // batch_size)
    marks = {-(-milestone // batch_size): milestone for milestone in milestones}
    jobs: list[Job] = []
    points: list[dict[str, Any]] = []
    counts = {"stored": 0, "duplicates": 0, "failed": 0}
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        # A small batch of other visitors first, so pools, caches and the workers are warm.
        warmup = _body(-1, WARMUP_EVENTS, seed, Population(visitors=WARMUP_EVENTS))
        keys = [_headers(key) for key in await _tenant_keys(client, secret_key, tenants)]
        await _wait(client, keys[0], [await _post(client, warmup, keys[0])], limit_s)
        started = time.perf_counter()
        deadline = time.monotonic() + limit_s
        completed = 0
        next_index = 0
        while completed < total_batches:
            while next_index < total_batches and next_index - completed < in_flight:
                body = _body(next_index, batch_size, seed, population)
                # Round robin: batch i goes to tenant i mod T.
                headers = keys[next_index % len(keys)]
                job_id = await _post(client, body, headers)
                jobs.append(Job(job_id, batch_size, time.perf_counter(), headers))
                next_index += 1
            for job in [job for job in jobs if job.completed_at is None]:
                response = await client.get(
                    f"/tenant/ingest/jobs/{job.job_id}", headers=job.headers
                )
                status = response.json()
                if status["status"] == "failed":
                    raise RuntimeError(f"job {job.job_id} failed: {status}")
                if status["status"] != "completed":
                    continue
                job.completed_at = time.perf_counter()
                completed += 1
                for name in counts:
                    counts[name] += int(status[name])
                if completed in marks:
                    point = {
                        "events_in_log": marks[completed],
                        **window_rate(jobs, completed, window, started),
                        "log_bytes": await _log_size(url, kind),
                        "elapsed_s": job.completed_at - started,
                    }
                    points.append(point)
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{total_batches - completed} batches unfinished after {limit_s} s"
                )
            await asyncio.sleep(POLL_SECONDS)  # polling the server for its jobs' progress
        elapsed = time.perf_counter() - started
    events = sum(job.events for job in jobs)
    return {
        "milestones": points,
        "events": events,
        "elapsed_s": elapsed,
        "events_per_s": events / elapsed,
        **counts,
    }


def _tracebacks(children: list[Child]) -> int:
    return sum(child.log().count("Traceback") for child in children)


def measure(
    kind: Kind,
    workdir: Path,
    *,
    milestones: list[int],
    batch_size: int,
    workers: int,
    tenants: int,
    visitors: int,
    window: int,
    redis_url: str,
    seed: int,
    timeout: float,
) -> dict[str, Any]:
    """Grow the log to the largest milestone, noting the drain rate at each: one tenant, or
    `tenants` of them taking the batches in turn (the same visitors in each)."""
    population = Population(visitors=visitors)
    admin = {"JOURNEYLINE_ADMIN_TOKEN": ADMIN_TOKEN}
    with ExitStack() as stack:
        url = stack.enter_context(fresh_database(kind, workdir, name="growth"))
        children: list[Child] = []
        if kind == "postgres":
            stack.enter_context(_clean_redis(redis_url))
            server = stack.enter_context(
                journeyline_server(
                    url, workdir, redis_url=redis_url, name="server-growth", env=admin
                )
            )
            children = stack.enter_context(
                journeyline_workers(workers, url, redis_url, workdir, name="worker-growth")
            )
        else:
            server = stack.enter_context(
                journeyline_server(url, workdir, name="server-growth", env=admin)
            )
        result = asyncio.run(
            _grow(
                server.base_url,
                server.secret_key,
                url,
                kind,
                tenants=tenants,
                milestones=milestones,
                batch_size=batch_size,
                in_flight=max(2, workers + 1),
                window=window,
                seed=seed,
                population=population,
                limit_s=timeout,
            )
        )
        result["tenants"] = tenants
        result["visitors"] = visitors
        result["batch_size"] = batch_size
        result["tracebacks_in_logs"] = _tracebacks([server.child, *children])
    return result
