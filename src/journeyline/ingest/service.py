"""Ingest entry points for the routes: adapt each item, run the valid ones through the pipeline
in one unit of work, and keep per-item errors in their slots."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from journeyline import metrics
from journeyline.errors import JourneylineError
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.dialects.fields import check_event_size
from journeyline.ingest.group_commit import GroupCommitter
from journeyline.ingest.pipeline import EventOutcome
from journeyline.tenancy.context import TenantContext

Adapted = CanonicalEvent | JourneylineError


def adapt_each(
    items: Sequence[object],
    parse: Callable[[object], CanonicalEvent],
    max_event_bytes: int,
    *,
    is_list: bool,
) -> list[Adapted]:
    adapted: list[Adapted] = []
    for index, item in enumerate(items):
        try:
            check_event_size(item, max_event_bytes)
            adapted.append(parse(item))
        except JourneylineError as exc:
            exc.index = index if is_list else None
            adapted.append(exc)
    return adapted


def _count(outcomes: Sequence[EventOutcome]) -> None:
    for outcome in outcomes:
        if outcome.error is not None:
            metrics.EVENTS.labels("failed").inc()
        elif outcome.conflicting_duplicate:
            metrics.EVENTS.labels("conflicting_duplicate").inc()
        elif outcome.duplicate:
            metrics.EVENTS.labels("duplicate").inc()
        else:
            metrics.EVENTS.labels("stored").inc()
        metrics.MERGES.inc(len(outcome.merged_profile_ids))
        metrics.CONFLICTS.inc(sum(1 for w in outcome.warnings if "code" in w))


async def ingest(
    committer: GroupCommitter, context: TenantContext, adapted: Sequence[Adapted]
) -> list[EventOutcome]:
    """The synchronous path: valid items go through the pipeline by group commit."""
    events = [item for item in adapted if isinstance(item, CanonicalEvent)]
    processed = await committer.submit(context, events)
    _count(processed)
    results = iter(processed)
    outcomes: list[EventOutcome] = []
    for item in adapted:
        if isinstance(item, JourneylineError):
            metrics.EVENTS.labels("invalid").inc()
            outcomes.append(EventOutcome(error=item.to_dict(), error_status=item.status_code))
        else:
            outcomes.append(next(results))
    return outcomes
