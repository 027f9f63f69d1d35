"""The Overview's charts: events and active people per time bucket over a span, by source and
by event type (two grouped statements), and the names of the people in the live feed."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from journeyline.graph import insights
from journeyline.store.db import Session
from journeyline.store.repositories.events import EventRepository
from journeyline.web.ranges import Span

# Event types beyond the most frequent ones are summed under OTHER (a legend stays readable).
TOP_TYPES = 8
OTHER = "other"


@dataclass(frozen=True, slots=True)
class Activity:
    span: Span
    buckets: tuple[int, ...]  # each bucket's start, milliseconds since the epoch (UTC)
    events: tuple[int, ...]
    people: tuple[int, ...]
    by_source: dict[str, tuple[int, ...]]
    by_type: dict[str, tuple[int, ...]]

    def as_json(self) -> dict[str, object]:
        return {
            "since": self.span.since.isoformat(),
            "until": self.span.until.isoformat(),
            "bucket_seconds": self.span.bucket_seconds,
            "offset_minutes": self.span.offset_seconds // 60,
            "buckets": list(self.buckets),
            "events": list(self.events),
            "people": list(self.people),
            "by_source": {key: list(values) for key, values in self.by_source.items()},
            "by_type": {key: list(values) for key, values in self.by_type.items()},
        }


def _series(
    counts: dict[tuple[str, int], int], keys: Collection[str], slots: dict[int, int]
) -> dict[str, tuple[int, ...]]:
    series: dict[str, list[int]] = {key: [0] * len(slots) for key in keys}
    for (key, bucket), count in counts.items():
        series[key][slots[bucket]] += count
    return {key: tuple(values) for key, values in series.items()}


async def activity(session: Session, tenant_id: uuid.UUID, span: Span) -> Activity:
    events = EventRepository(session, tenant_id)
    size, offset = span.bucket_seconds, span.offset_seconds
    numbers = span.bucket_starts()
    slots = {number: at for at, number in enumerate(numbers)}
    totals = [0] * len(numbers)
    by_source: dict[tuple[str, int], int] = {}
    by_type: dict[tuple[str, int], int] = {}
    type_totals: dict[str, int] = {}
    for bucket, source, event_type, count in await events.activity(
        span.since, span.until, size, offset
    ):
        if bucket not in slots:
            continue
        totals[slots[bucket]] += count
        by_source[(source, bucket)] = by_source.get((source, bucket), 0) + count
        by_type[(event_type, bucket)] = by_type.get((event_type, bucket), 0) + count
        type_totals[event_type] = type_totals.get(event_type, 0) + count
    ranked = sorted(type_totals, key=lambda key: (-type_totals[key], key))
    kept = set(ranked[:TOP_TYPES])
    folded: dict[tuple[str, int], int] = {}
    for (event_type, bucket), count in by_type.items():
        key = event_type if event_type in kept else OTHER
        folded[(key, bucket)] = folded.get((key, bucket), 0) + count
    type_keys = [key for key in ranked if key in kept] + (
        [OTHER] if len(ranked) > TOP_TYPES else []
    )
    people = [0] * len(numbers)
    for bucket, count in await events.active_people(span.since, span.until, size, offset):
        if bucket in slots:
            people[slots[bucket]] = count
    sources = sorted({source for source, _ in by_source})
    return Activity(
        span,
        tuple(int(span.start_of(number).timestamp() * 1000) for number in numbers),
        tuple(totals),
        tuple(people),
        _series(by_source, sources, slots),
        _series(folded, type_keys, slots),
    )


async def feed_names(
    session: Session, tenant_id: uuid.UUID, profile_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """How the live feed names the person of each event (name, else email)."""
    return await insights.people(session, tenant_id, profile_ids)
