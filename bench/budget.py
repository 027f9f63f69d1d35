"""The write path's budget (DESIGN §12): microseconds per event for each step of
`pipeline.process`, on the realistic Keystone workload, in-process (no HTTP, no job bookkeeping).

Each step is timed by wrapping the function the pipeline calls for it, for the length of the
measurement only: parse (the Keystone adapter, outside `process`), prepare (normalize identifiers
and idempotency keys, derive campaign and channel), dedupe (the log lookup), lock and load (the
advisory locks and the chunk's identity map), resolve (the pure per-event resolution and
attribute merge), persist identity, append (the log), and each projection of the registry.
"other" is what `process` spends outside them (building rows and messages). The wrappers cost a
few hundred nanoseconds per call; resolve and prepare are called per event, so their figures
include that.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.databases import Kind, fresh_database
from bench.workload import keystone_events
from journeyline.config import Settings
from journeyline.identity import service as identity_service
from journeyline.ingest import pipeline
from journeyline.ingest.projections import PROJECTIONS
from journeyline.ingest.service import parser_for
from journeyline.store.db import Database
from journeyline.store.repositories.events import EventRepository
from journeyline.tenancy import service as tenancy
from journeyline.tenancy.context import build_context

Clock = dict[str, float]


def _timed_sync(clock: Clock, step: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            clock[step] = clock.get(step, 0.0) + time.perf_counter() - began

    return timed


def _timed_async(
    clock: Clock, step: str, function: Callable[..., Awaitable[Any]]
) -> Callable[..., Awaitable[Any]]:
    async def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return await function(*args, **kwargs)
        finally:
            clock[step] = clock.get(step, 0.0) + time.perf_counter() - began

    return timed


@contextmanager
def instrumented(clock: Clock) -> Iterator[None]:
    """Wrap the pipeline's steps; everything is put back on exit."""
    patches: list[tuple[Any, str, Any]] = [
        (pipeline, "prepare", _timed_sync(clock, "prepare", pipeline.prepare)),
        (
            pipeline,
            "_resolve_and_update_profile",
            _timed_sync(clock, "resolve", pipeline._resolve_and_update_profile),
        ),
        (
            EventRepository,
            "find_by_external_ids",
            _timed_async(clock, "dedupe", EventRepository.find_by_external_ids),
        ),
        (EventRepository, "append", _timed_async(clock, "append", EventRepository.append)),
        (
            identity_service,
            "lock_identifiers",
            _timed_async(clock, "lock and load", identity_service.lock_identifiers),
        ),
        (
            identity_service,
            "load_identity_map",
            _timed_async(clock, "lock and load", identity_service.load_identity_map),
        ),
        (
            identity_service,
            "persist_identity_map",
            _timed_async(clock, "persist identity", identity_service.persist_identity_map),
        ),
    ]
    patches += [
        (
            type(projection),
            "project",
            _timed_async(clock, f"project {projection.name}", type(projection).project),
        )
        for projection in PROJECTIONS
    ]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, wrapper in patches:
        setattr(owner, name, wrapper)
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


async def _measure(url: str, events: int, chunk: int, seed: int) -> dict[str, Any]:
    settings = Settings(database_url=url)
    database = Database.from_url(url)
    database.keep_up()  # as serve, worker and import do (store/upkeep.py)
    try:
        created = await database.run(lambda session: tenancy.create_tenant(session, "budget"))
        context = build_context(created.tenant_id, "secret", {}, settings)
        parse = parser_for("keystone", context, datetime.now(UTC))
        raw = list(keystone_events(events, seed=seed))
        began = time.perf_counter()
        parsed = [parse(item) for item in raw]
        parse_s = time.perf_counter() - began
        # A warm-up chunk outside the clock: connections, statement caches, imports.
        warm = [parse(item) for item in keystone_events(200, seed=seed + 1)]
        await database.run(lambda session: pipeline.process(session, context, warm))
        clock: Clock = {}
        total = 0.0
        with instrumented(clock):
            for start in range(0, len(parsed), chunk):
                part = parsed[start : start + chunk]
                began = time.perf_counter()

                async def write(session: Any, part: Any = part) -> None:
                    await pipeline.process(session, context, part)

                await database.run(write)
                total += time.perf_counter() - began
    finally:
        await database.dispose()
    steps = {"parse": parse_s, **clock}
    inside = sum(seconds for step, seconds in clock.items())
    steps["other (commit, rows, messages)"] = max(total - inside, 0.0)
    per_event = {step: seconds / events * 1e6 for step, seconds in steps.items()}
    return {
        "events": events,
        "chunk": chunk,
        "process_s": total,
        "events_per_s": events / total if total else 0.0,
        "us_per_event": per_event,
        "us_per_event_total": (total + parse_s) / events * 1e6,
    }


def measure(kind: Kind, workdir: Path, *, events: int, chunk: int, seed: int) -> dict[str, Any]:
    with fresh_database(kind, workdir, "budget") as url:
        return asyncio.run(_measure(url, events, chunk, seed))
