"""Backfill import: JSONL of Keystone events or MarketingEvents through the bulk pipeline,
one transaction per chunk, safe to run again.

Re-running is idempotent: an event with a sender id (or a timestamp, from which the pipeline
derives one) dedupes as usual; an event with neither gets `import:<digest of its line>`, so the
same line imported twice is one event. Two byte-identical lines in one file are therefore one
event, which for a backfill is the right reading of a repeated line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from journeyline.errors import JourneylineError
from journeyline.ingest import pipeline
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.dialects.fields import check_event_limits
from journeyline.ingest.documents import decode_json
from journeyline.ingest.service import Dialect, parser_for, record_metrics
from journeyline.store.db import Database
from journeyline.tenancy.context import TenantContext


@dataclass(frozen=True, slots=True)
class FailedLine:
    line: int
    code: str
    message: str


@dataclass
class ImportSummary:
    lines: int = 0
    stored: int = 0
    duplicates: int = 0
    failed: list[FailedLine] = field(default_factory=list)


def dialect_of(item: object, requested: Dialect | None) -> Dialect:
    """The dialect asked for, or per line: Keystone events name `event_type`, MarketingEvents
    `type`."""
    if requested is not None:
        return requested
    return "keystone" if isinstance(item, dict) and "event_type" in item else "marketing"


def _with_import_id(event: CanonicalEvent, line: bytes) -> CanonicalEvent:
    if event.external_event_id is not None or event.occurred_at is not None:
        return event
    digest = hashlib.blake2b(line.strip(), digest_size=16).hexdigest()
    return replace(event, external_event_id=f"import:{digest}")


async def import_lines(
    database: Database,
    context: TenantContext,
    lines: Iterable[tuple[int, bytes]],
    *,
    dialect: Dialect | None,
    chunk_size: int,
    max_event_bytes: int,
    max_depth: int,
    on_chunk: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Import numbered lines; `on_chunk(lines_done, bytes_done)` after each committed chunk."""
    summary = ImportSummary()
    received_at = datetime.now(UTC)
    parsers = {name: parser_for(name, context, received_at) for name in ("keystone", "marketing")}
    chunk: list[tuple[int, bytes]] = []

    async def flush() -> None:
        events: list[CanonicalEvent] = []
        numbers: list[int] = []
        for number, line in chunk:
            try:
                item = decode_json(line)
                check_event_limits(item, max_bytes=max_event_bytes, max_depth=max_depth)
                event = parsers[dialect_of(item, dialect)](item)
            except JourneylineError as exc:
                summary.failed.append(FailedLine(number, exc.code, exc.message))
                continue
            events.append(_with_import_id(event, line))
            numbers.append(number)
        if events:
            outcomes = await database.run(
                lambda session: pipeline.process(session, context, events)
            )
            record_metrics(outcomes)
            for number, outcome in zip(numbers, outcomes, strict=True):
                if outcome.error is not None:
                    error = outcome.error
                    summary.failed.append(FailedLine(number, error.code, error.message))
                elif outcome.duplicate:
                    summary.duplicates += 1
                elif not outcome.suppressed:  # dropped: an erased identifier (decision 51)
                    summary.stored += 1
        if on_chunk is not None:
            on_chunk(len(chunk), sum(len(line) for _, line in chunk))
        chunk.clear()

    for number, line in lines:
        summary.lines += 1
        if not line.strip():
            continue
        chunk.append((number, line))
        if len(chunk) >= chunk_size:
            await flush()
    if chunk:
        await flush()
    summary.failed.sort(key=lambda failed: failed.line)
    return summary
