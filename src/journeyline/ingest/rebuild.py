"""Rebuild: replay a tenant's log, in order, into fresh projections (DESIGN §1).

The log holds events, not operator actions, so the merges an operator made and every merge
that was undone are read from the merge journal first and applied again at their moment in the
log (by the millisecond in the UUIDv7 event ids). Everything runs in one transaction: readers
see the old projections until the new ones are complete, and a failure changes nothing.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from journeyline.errors import JourneylineError
from journeyline.identity.identity_merges import Unmerge
from journeyline.ingest import operator_merges, projections
from journeyline.ingest.canonical import CanonicalEvent, SourceType
from journeyline.ingest.pipeline import Replayed, replay
from journeyline.realtime.messages import resync
from journeyline.store.db import Database, Session, leave_for_commit
from journeyline.store.models import Event
from journeyline.store.repositories.events import EventRepository
from journeyline.store.repositories.profiles import ProfileRepository
from journeyline.tenancy.context import TenantContext


@dataclass(frozen=True, slots=True)
class OperatorAction:
    kind: Literal["merge", "unmerge"]
    at: datetime
    into_id: uuid.UUID
    from_id: uuid.UUID

    @property
    def millis(self) -> int:
        return int(self.at.timestamp() * 1000)


@dataclass
class RebuildSummary:
    events: int = 0
    actions: int = 0
    # Operator actions that no longer apply to the rebuilt profiles, with the reason.
    skipped: list[str] = field(default_factory=list)


def _source_type(value: str) -> SourceType:
    return "external" if value == "external" else "direct" if value == "direct" else "internal"


def logged_event(row: Event) -> Replayed:
    """The canonical event a log row was made from, as far as resolution needs it."""
    presented: dict[str, Any] = dict(row.identifiers or {})
    requested = presented.get("profile_id")
    event = CanonicalEvent(
        event_type=row.event_type,
        event_name=row.event_name,
        source_type=_source_type(row.source_type),
        source=row.source,
        received_at=row.received_at,
        occurred_at=row.occurred_at,
        payload=dict(row.payload or {}),
        raw_payload=row.raw_payload,
        traits=row.traits,
        external_event_id=row.external_event_id,
        profile_id=uuid.UUID(requested) if isinstance(requested, str) else None,
        email=presented.get("email"),
        phone=presented.get("phone"),
        external_id=presented.get("external_id"),
        anonymous_id=row.anonymous_id,
        session_id=row.session_id,
        campaign_id=row.campaign_id,
        channel=row.channel,
        object_id=row.object_id,
        object_id_ref=row.object_id_ref,
        allow_no_identity=bool(presented.get("allow_no_identity", False)),
        previous_id=presented.get("previous_id"),
    )
    return Replayed(event=event, event_id=row.id, profile_id=row.profile_id)


async def _operator_actions(repo: ProfileRepository) -> deque[OperatorAction]:
    actions: list[OperatorAction] = []
    for record in await repo.operator_actions():
        into, source = record.into_profile_id, record.from_profile_id
        if record.reason == "manual":
            actions.append(OperatorAction("merge", record.merged_at, into, source))
        if record.unmerged_at is not None:
            actions.append(OperatorAction("unmerge", record.unmerged_at, into, source))
    return deque(sorted(actions, key=lambda action: action.at))


async def _apply(
    session: Session,
    context: TenantContext,
    action: OperatorAction,
    summary: RebuildSummary,
    log_through: uuid.UUID | None,
) -> None:
    try:
        if action.kind == "merge":
            await operator_merges.merge_profiles(
                session, context.tenant_id, action.into_id, action.from_id, action.at
            )
        else:
            await operator_merges.unmerge_profile(
                session,
                Unmerge(context.tenant_id, action.into_id, action.from_id, action.at, log_through),
            )
        summary.actions += 1
    except JourneylineError as exc:
        summary.skipped.append(f"{action.kind} {action.from_id} -> {action.into_id}: {exc}")


async def rebuild_tenant(
    database: Database,
    context: TenantContext,
    *,
    chunk_size: int = 1000,
    on_chunk: Callable[[int], None] | None = None,
) -> RebuildSummary:
    """Replace the tenant's projections with those its log produces, replayed in order."""

    async def work(session: Session) -> RebuildSummary:
        summary = RebuildSummary()
        profiles = ProfileRepository(session, context.tenant_id)
        events = EventRepository(session, context.tenant_id)
        actions = await _operator_actions(profiles)
        await profiles.delete_projections()
        await projections.reset(session, context.tenant_id)
        used_ids: set[uuid.UUID] = set()
        now = datetime.now(UTC)
        after: uuid.UUID | None = None
        replayed_through = uuid.UUID(int=0)  # before the first event: an empty log
        while rows := await events.log_page(after, chunk_size):
            segment: list[Replayed] = []
            for row in rows:
                written_ms = row.id.int >> 80
                while actions and actions[0].millis < written_ms:
                    if segment:
                        await replay(session, context, segment, used_ids=used_ids, now=now)
                        segment = []
                    # The action saw the log as it stood: up to the last event replayed.
                    await _apply(session, context, actions.popleft(), summary, replayed_through)
                segment.append(logged_event(row))
                replayed_through = row.id
            if segment:
                await replay(session, context, segment, used_ids=used_ids, now=now)
            summary.events += len(rows)
            after = rows[-1].id
            if on_chunk is not None:
                on_chunk(len(rows))
        while actions:
            await _apply(session, context, actions.popleft(), summary, replayed_through)
        # Live clients hold views of the old projections: after the commit, they read again.
        leave_for_commit(session, [resync(context.tenant_id, "the tenant was rebuilt")])
        return summary

    return await database.run(work)


async def log_length(database: Database, context: TenantContext) -> int:
    async with database.read() as session:
        return await EventRepository(session, context.tenant_id).count()
