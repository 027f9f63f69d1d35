"""The cost of the one event that merges a shadow into an anchor, against the shadow's history.

For each history length, in a fresh tenant: a shadow profile with that many events (anonymous id
only, run through `pipeline.process` in chunks as the batch path does), an anchor (an identify
with an email), then the identify carrying both the anonymous id and the email, timed alone.
The merge moves identifiers and repoints profiles; it never rewrites event rows, so its cost
should not depend on how many events the shadow has. Called in-process (no HTTP), on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.databases import Kind, fresh_database
from journeyline.config import Settings
from journeyline.ingest import pipeline
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.outcome import EventOutcome
from journeyline.ingest.service import parser_for
from journeyline.store.db import Database, recorded_statements
from journeyline.tenancy import service as tenancy
from journeyline.tenancy.context import TenantContext, build_context

START = datetime(2026, 10, 1, tzinfo=UTC)


async def _process(
    database: Database, context: TenantContext, events: Sequence[CanonicalEvent]
) -> list[EventOutcome]:
    return await database.run(lambda session: pipeline.process(session, context, events))


def _history(
    parse: Callable[[object], CanonicalEvent], anonymous_id: str, size: int
) -> list[CanonicalEvent]:
    return [
        parse(
            {
                "event_type": "page",
                "event_name": f"/docs/{index % 40}",
                "anonymous_id": anonymous_id,
                "payload": {"path": f"/docs/{index % 40}", "referrer": "https://search.example/"},
                "message_id": str(uuid.uuid4()),
                "timestamp": (START + timedelta(seconds=index)).isoformat(),
            }
        )
        for index in range(size)
    ]


async def merge_once(
    database: Database, settings: Settings, size: int, chunk: int
) -> dict[str, Any]:
    """Build a shadow of `size` events and an anchor in a new tenant, then time their merge."""
    tag = uuid.uuid4().hex[:10]
    created = await database.run(lambda session: tenancy.create_tenant(session, f"merge-{tag}"))
    context = build_context(created.tenant_id, "secret", {}, settings)
    parse = parser_for("keystone", context, datetime.now(UTC))
    anonymous_id, email = f"visitor-{tag}", f"merge-{tag}@bench.journeyline.io"

    history = _history(parse, anonymous_id, size)
    began = time.perf_counter()
    shadows: set[uuid.UUID | None] = set()
    for start in range(0, size, chunk):
        outcomes = await _process(database, context, history[start : start + chunk])
        shadows |= {outcome.profile_id for outcome in outcomes}
    history_s = time.perf_counter() - began
    anchor = await _process(
        database,
        context,
        [parse({"event_type": "identify", "identity": email, "payload": {"plan": "pro"}})],
    )
    if len(shadows) != 1 or None in shadows or anchor[0].profile_id in shadows:
        raise RuntimeError(f"expected one shadow and a separate anchor, got {shadows} {anchor}")

    merging = parse(
        {
            "event_type": "identify",
            "identity": email,
            "anonymous_id": anonymous_id,
            "payload": {"first_name": "Merged"},
        }
    )
    if database.upkeep is not None:
        # The checkpoint or ANALYZE the history's commits started is the history's cost, not
        # the merge's: let it end before the merge is timed, for every size alike.
        await database.upkeep.idle()
    with recorded_statements(database) as statements:
        written = _bytes_written()
        began = time.perf_counter()
        outcome = (await _process(database, context, [merging]))[0]
        elapsed = time.perf_counter() - began
        written = _bytes_written() - written
    if outcome.merged_profile_ids != [next(iter(shadows))]:
        raise RuntimeError(f"the identify did not merge the shadow: {outcome}")

    # A control: one more identify of the same person, which merges nothing.
    plain = parse({"event_type": "identify", "identity": email, "payload": {"plan": "team"}})
    began = time.perf_counter()
    control = (await _process(database, context, [plain]))[0]
    plain_s = time.perf_counter() - began
    if control.merged_profile_ids or control.profile_id != outcome.profile_id:
        raise RuntimeError(f"the control identify did something else: {control}")
    return {
        "merge_ms": elapsed * 1000,
        "statements": len(statements),
        "plain_ms": plain_s * 1000,
        "history_s": history_s,
        "written_kib": written / 1024,
    }


def _bytes_written() -> int:
    """What this process has handed to write(2) so far (Linux; 0 elsewhere). On SQLite every
    byte of a merge's commit is written by this process: a WAL checkpoint falling on the merge
    shows as megabytes instead of tens of KiB (store/upkeep.py)."""
    try:
        with Path("/proc/self/io").open() as io:
            for line in io:
                if line.startswith("wchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


async def _measure(url: str, sizes: list[int], repeats: int, chunk: int) -> dict[str, Any]:
    settings = Settings(database_url=url)
    database = Database.from_url(url)
    database.keep_up()  # as serve, worker and import do (store/upkeep.py)
    samples: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
    try:
        await merge_once(database, settings, 5, chunk)  # warm-up: connections, statement caches
        # Sizes interleaved within each round, so drift (a growing database, a busy neighbour)
        # touches every size alike.
        for _ in range(repeats):
            for size in sizes:
                samples[size].append(await merge_once(database, settings, size, chunk))
    finally:
        await database.dispose()
    return summarise(samples, chunk)


def summarise(samples: dict[int, list[dict[str, Any]]], chunk: int) -> dict[str, Any]:
    smallest = min(samples)
    baseline = statistics.median(s["merge_ms"] for s in samples[smallest])
    by_size = []
    history_events, history_s = 0, 0.0
    for size, runs in sorted(samples.items()):
        times = [run["merge_ms"] for run in runs]
        median = statistics.median(times)
        by_size.append(
            {
                "history_events": size,
                "repeats": len(runs),
                "merge_ms_median": median,
                "merge_ms_min": min(times),
                "merge_ms_max": max(times),
                "merge_ms_samples": times,
                "statements": statistics.median(run["statements"] for run in runs),
                "plain_event_ms_median": statistics.median(run["plain_ms"] for run in runs),
                "written_kib_max": max(run["written_kib"] for run in runs),
                "ratio_to_smallest": median / baseline if baseline else None,
            }
        )
        history_events += size * len(runs)
        history_s += sum(run["history_s"] for run in runs)
    return {
        "sizes": by_size,
        # A by-product: the pipeline's own speed in-process (anonymous page events, one
        # transaction per chunk), with no HTTP, parsing or job bookkeeping around it.
        "history_chunk": chunk,
        "history_events_per_s": history_events / history_s if history_s else None,
    }


def measure(
    kind: Kind, workdir: Path, *, sizes: list[int], repeats: int, chunk: int
) -> dict[str, Any]:
    with fresh_database(kind, workdir) as url:
        return asyncio.run(_measure(url, sizes, repeats, chunk))
