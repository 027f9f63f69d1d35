"""TrackMate's three write paths (seeds/003) on top of the one pipeline: a session's events,
the identify that links a session to a person, and the tenant's server events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from journeyline.config import LimitSettings
from journeyline.errors import ProfileNotFound
from journeyline.identity import reads
from journeyline.ingest import service as ingest_service
from journeyline.ingest.dialects import trackmate as dialect
from journeyline.ingest.dialects.fields import check_event_limits
from journeyline.ingest.group_commit import GroupCommitter
from journeyline.ingest.outcome import EventOutcome
from journeyline.tenancy.context import TenantContext


@dataclass(frozen=True, slots=True)
class SessionEvents:
    stored: int
    duplicates: int
    # Set once the session belongs to a known person (after identify).
    profile_id: uuid.UUID | None
    suppressed: int = 0


@dataclass(frozen=True, slots=True)
class Identified:
    profile_id: uuid.UUID | None
    linked_events: int
    # The identify carried an erased identifier and was dropped (decision 51).
    suppressed: bool = False


@dataclass(frozen=True, slots=True)
class ServerEvent:
    profile_id: uuid.UUID | None
    event_id: uuid.UUID | None
    duplicate: bool
    suppressed: bool = False


async def _one(committer: GroupCommitter, context: TenantContext, event: Any) -> EventOutcome:
    [outcome] = await ingest_service.ingest(committer, context, [event])
    if outcome.error is not None:
        raise outcome.error
    return outcome


async def record_session_events(
    committer: GroupCommitter,
    context: TenantContext,
    body: dict[str, Any],
    *,
    received_at: datetime,
    limits: LimitSettings,
) -> SessionEvents:
    events = dialect.parse_session_events(
        body,
        received_at=received_at,
        max_event_bytes=limits.max_event_bytes,
        max_depth=limits.max_json_depth,
        max_events=limits.max_sync_batch_events,
    )
    outcomes = await ingest_service.ingest(committer, context, events)
    failed = next((outcome.error for outcome in outcomes if outcome.error is not None), None)
    if failed is not None:
        raise failed
    last = outcomes[-1]
    return SessionEvents(
        stored=sum(1 for o in outcomes if not o.duplicate and not o.suppressed),
        duplicates=sum(1 for outcome in outcomes if outcome.duplicate),
        profile_id=last.profile_id if last.anchored else None,
        suppressed=sum(1 for outcome in outcomes if outcome.suppressed),
    )


async def identify_session(
    committer: GroupCommitter,
    context: TenantContext,
    body: dict[str, Any],
    *,
    received_at: datetime,
    limits: LimitSettings,
) -> Identified:
    """Record the identify, then count the session's earlier events now on the person's
    timeline (read after the commit, so it counts what a reader would see)."""
    check_event_limits(body, max_bytes=limits.max_event_bytes, max_depth=limits.max_json_depth)
    event = dialect.parse_profile(body, received_at=received_at)
    outcome = await _one(committer, context, event)
    if outcome.suppressed:
        return Identified(None, 0, suppressed=True)
    assert outcome.profile_id is not None
    assert outcome.event_id is not None
    linked = 0
    if event.session_id is not None:
        async with committer.database.read() as session:
            linked = await reads.linked_session_events(
                session,
                context.tenant_id,
                outcome.profile_id,
                event.session_id,
                before=outcome.event_id,
            )
    return Identified(outcome.profile_id, linked)


async def record_server_event(
    committer: GroupCommitter,
    context: TenantContext,
    body: dict[str, Any],
    *,
    received_at: datetime,
    limits: LimitSettings,
) -> ServerEvent:
    check_event_limits(body, max_bytes=limits.max_event_bytes, max_depth=limits.max_json_depth)
    event = dialect.parse_server_event(body, received_at=received_at)
    try:
        outcome = await _one(committer, context, event)
    except ProfileNotFound as exc:
        # The pipeline names the native API's field; TrackMate sent the id as `userId`.
        raise ProfileNotFound(exc.message, field="identifier.userId") from None
    if outcome.suppressed:
        return ServerEvent(None, None, duplicate=False, suppressed=True)
    assert outcome.event_id is not None
    return ServerEvent(outcome.profile_id, outcome.event_id, outcome.duplicate)
