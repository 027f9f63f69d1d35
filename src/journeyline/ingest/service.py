"""Ingest entry points for the routes: adapt each item, run the valid ones through the pipeline
in one unit of work, and keep per-item errors in their slots."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Literal

from journeyline import metrics
from journeyline.errors import JourneylineError
from journeyline.identity.identity_map import ConflictRecord
from journeyline.identity.normalize import Rejection
from journeyline.ingest.canonical import CanonicalEvent, SourceType
from journeyline.ingest.dialects.fields import check_event_limits
from journeyline.ingest.dialects.keystone import parse_keystone_event
from journeyline.ingest.dialects.marketing import parse_marketing_event
from journeyline.ingest.dialects.posthog import parse_posthog_event
from journeyline.ingest.group_commit import GroupCommitter
from journeyline.ingest.outcome import EventOutcome
from journeyline.tenancy.context import TenantContext

Adapted = CanonicalEvent | JourneylineError


Dialect = Literal["keystone", "marketing", "posthog"]


def parser_for(
    dialect: Dialect, context: TenantContext, received_at: datetime
) -> Callable[[object], CanonicalEvent]:
    """The adapter for `dialect` as `context` may use it: a secret key speaks for the tenant's
    servers (internal, `api`), a public key for the visitor's browser (direct, `web`)."""
    source_type: SourceType = "internal" if context.is_secret else "direct"
    source = "api" if context.is_secret else "web"
    if dialect == "keystone":
        return partial(
            parse_keystone_event,
            source=source,
            source_type=source_type,
            received_at=received_at,
            phone_region=context.phone_region,
        )
    if dialect == "posthog":
        return partial(parse_posthog_event, source_type=source_type, received_at=received_at)
    return partial(
        parse_marketing_event,
        source_type=source_type,
        default_source=source,
        received_at=received_at,
    )


def adapt_each(
    items: Sequence[object],
    parse: Callable[[object], CanonicalEvent],
    max_event_bytes: int,
    *,
    max_depth: int,
    is_list: bool,
    offset: int = 0,
) -> list[Adapted]:
    """Adapt every item; a failure (too large or too deep included) stays in its slot, its
    index counted from `offset`."""
    adapted: list[Adapted] = []
    for index, item in enumerate(items):
        try:
            check_event_limits(item, max_bytes=max_event_bytes, max_depth=max_depth)
            adapted.append(parse(item))
        except JourneylineError as exc:
            exc.index = offset + index if is_list else None
            adapted.append(exc)
    return adapted


def record_metrics(outcomes: Sequence[EventOutcome], invalid: int = 0) -> None:
    """Count what the pipeline did (and the items no adapter could read) in /metrics."""
    metrics.EVENTS.labels("invalid").inc(invalid)
    for outcome in outcomes:
        if outcome.error is not None:
            metrics.EVENTS.labels("failed").inc()
        elif outcome.suppressed:
            metrics.EVENTS.labels("suppressed").inc()
        elif outcome.conflicting_duplicate:
            metrics.EVENTS.labels("conflicting_duplicate").inc()
        elif outcome.duplicate:
            metrics.EVENTS.labels("duplicate").inc()
        else:
            metrics.EVENTS.labels("stored").inc()
        metrics.MERGES.inc(len(outcome.merged_profile_ids))
        # Identifiers refused (blocked, invalid, owned, over limit); an erased one is not.
        metrics.CONFLICTS.inc(
            sum(1 for w in outcome.warnings if isinstance(w, Rejection | ConflictRecord))
        )


async def ingest(
    committer: GroupCommitter, context: TenantContext, adapted: Sequence[Adapted]
) -> list[EventOutcome]:
    """The synchronous path: valid items go through the pipeline by group commit."""
    events = [item for item in adapted if isinstance(item, CanonicalEvent)]
    processed = await committer.submit(context, events)
    record_metrics(processed, invalid=len(adapted) - len(events))
    results = iter(processed)
    return [
        EventOutcome(error=item) if isinstance(item, JourneylineError) else next(results)
        for item in adapted
    ]
