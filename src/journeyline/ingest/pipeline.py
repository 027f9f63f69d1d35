"""The one pipeline every dialect feeds: dedupe -> resolve -> append -> project (DESIGN §1).

`process` takes a list. A synchronous request is a list of one; a batch is thousands; both go
through the same set-based steps: one dedupe query, one identifier lookup, multi-row inserts.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from journeyline.errors import JourneylineError, NoIdentifiers, ProfileNotFound
from journeyline.graph.build import Marketing, event_marketing
from journeyline.identity import service as identity_service
from journeyline.identity.attributes import merge_attributes
from journeyline.identity.identity_map import ConflictRecord, IdentityMap, LineageEntry
from journeyline.identity.normalize import (
    STRONG_KINDS,
    Identifier,
    IdentifierKind,
    Rejection,
    normalize_identifier,
    unusable_because,
)
from journeyline.identity.resolve import ResolveError, ResolveRequest, resolve_event
from journeyline.ids import uuid7
from journeyline.ingest import mutations, projections, suppression
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.idempotency import derive_external_event_id, payload_hash
from journeyline.ingest.outcome import ERASED_IDENTIFIER, EventOutcome
from journeyline.ingest.projections import Resolved
from journeyline.orders.facts import order_id_of
from journeyline.realtime.messages import MAX_PER_COMMIT, capped
from journeyline.store.db import Session, leave_for_commit
from journeyline.store.repositories.events import EventRepository
from journeyline.tenancy.context import TenantContext


@dataclass(slots=True)
class _Prepared:
    event: CanonicalEvent
    identifiers: list[Identifier]
    rejections: list[Rejection]
    external_event_id: str | None
    payload_hash: str
    # The campaign and channel the event is logged with (the graph reads them off the log).
    marketing: Marketing
    # An alias's previous id, as the external id it may be and the anonymous id it may be.
    previous: tuple[Identifier, Identifier] | None = None

    @property
    def lookup_keys(self) -> list[tuple[str, str]]:
        keys: list[tuple[str, str]] = [(i.kind, i.value) for i in self.identifiers]
        if self.previous is not None:
            keys += [(i.kind, i.value) for i in self.previous]
        return keys


_FIELDS: tuple[tuple[IdentifierKind, str], ...] = (
    ("email", "email"),
    ("phone", "phone"),
    ("external_id", "external_id"),
    ("anonymous_id", "anonymous_id"),
    ("session_id", "session_id"),
)


def prepare(event: CanonicalEvent, context: TenantContext) -> _Prepared:
    """Normalize identifiers (blocked or invalid ones become warnings) and idempotency keys."""
    identifiers: list[Identifier] = []
    rejections: list[Rejection] = []
    for kind, attribute in _FIELDS:
        outcome = normalize_identifier(
            kind,
            getattr(event, attribute),
            region=context.phone_region,
            blocklist=context.blocklist,
        )
        if isinstance(outcome, Identifier):
            identifiers.append(outcome)
        elif isinstance(outcome, Rejection):
            rejections.append(outcome)
    strongest = next(
        (f"{ident.kind}:{ident.value}" for ident in identifiers if ident.kind in STRONG_KINDS),
        next((f"{ident.kind}:{ident.value}" for ident in identifiers), None),
    )
    external_id = event.external_event_id or derive_external_event_id(event, strongest)
    previous: tuple[Identifier, Identifier] | None = None
    if event.previous_id is not None:
        as_external, as_anonymous = (
            normalize_identifier(
                kind, event.previous_id, region=context.phone_region, blocklist=context.blocklist
            )
            for kind in ("external_id", "anonymous_id")
        )
        if isinstance(as_external, Identifier) and isinstance(as_anonymous, Identifier):
            previous = (as_external, as_anonymous)
    marketing = event_marketing(
        campaign_id=event.campaign_id,
        channel=event.channel,
        payload=event.payload,
        source=event.source,
        source_type=event.source_type,
    )
    return _Prepared(
        event, identifiers, rejections, external_id, payload_hash(event), marketing, previous
    )


def refusal(error: ResolveError, rejections: Sequence[Rejection] = ()) -> JourneylineError:
    """The domain error of a resolution that found no profile to attribute the event to; when
    identifiers were sent but none was usable, it says why each was not."""
    if error == "profile_not_found":
        return ProfileNotFound("no profile has this id", field="customerId")
    if not rejections:
        return NoIdentifiers("the event carries no usable identifier")
    reasons = "; ".join(
        f"{rejection.kind} {rejection.value!r} cannot be used: {unusable_because(rejection)}"
        for rejection in rejections
    )
    return NoIdentifiers(f"the event carries no usable identifier: {reasons}")


async def process(
    session: Session,
    context: TenantContext,
    events: Sequence[CanonicalEvent],
    *,
    now: datetime | None = None,
) -> list[EventOutcome]:
    """Run `events` (in order) through the pipeline inside the caller's transaction."""
    now = now or datetime.now(UTC)
    tenant_id = context.tenant_id
    prepared = [prepare(event, context) for event in events]
    outcomes = [EventOutcome() for _ in prepared]
    events_repo = EventRepository(session, tenant_id)

    # 1. Deduplicate: one query against the log, then within the chunk itself.
    keys = [(p.event.source, p.external_event_id) for p in prepared if p.external_event_id]
    stored = await events_repo.find_by_external_ids(keys) if keys else {}
    seen: dict[tuple[str, str], int] = {}
    live: list[int] = []
    for index, item in enumerate(prepared):
        outcomes[index].warnings.extend(item.rejections)
        if item.external_event_id is None:
            live.append(index)
            continue
        key = (item.event.source, item.external_event_id)
        if key in stored:
            original = stored[key]
            outcome = outcomes[index]
            outcome.event_id, outcome.profile_id = original.event_id, original.profile_id
            outcome.duplicate = True
            outcome.conflicting_duplicate = original.payload_hash != item.payload_hash
        elif key in seen:
            outcome = outcomes[index]
            outcome.duplicate = True
            outcome.conflicting_duplicate = prepared[seen[key]].payload_hash != item.payload_hash
        else:
            seen[key] = index
            live.append(index)

    # 2. Resolve identity against one identity map loaded for the whole chunk.
    identity_keys = {key for index in live for key in prepared[index].lookup_keys}
    explicit = {p.event.profile_id for p in prepared if p.event.profile_id is not None}
    explicit |= {ref.profile_id for ref in stored.values() if ref.profile_id is not None}
    await identity_service.lock_identifiers(session, tenant_id, identity_keys)
    # Drop what carries an erased identifier: one tombstone lookup for the chunk, under the
    # identifiers' locks, which an erasure takes too (so it cannot commit in between).
    dropped = await suppression.tombstoned(
        session, tenant_id, {index: prepared[index].lookup_keys for index in live}
    )
    if dropped:
        for index in dropped:
            outcomes[index].suppressed = True
            outcomes[index].warnings.append(ERASED_IDENTIFIER)
        live = [index for index in live if index not in dropped]
        identity_keys = {key for index in live for key in prepared[index].lookup_keys}
    identity_map = await identity_service.load_identity_map(
        session, tenant_id, identity_keys, explicit
    )
    event_ids: list[uuid.UUID | None] = [None] * len(prepared)
    stored_rows: list[dict[str, Any]] = []
    for index in live:
        item = prepared[index]
        event_id = uuid7()
        event_ids[index] = event_id
        _resolve_and_update_profile(
            identity_map, context, item, index, outcomes[index], now, event_id
        )
        if outcomes[index].error is None:
            stored_rows.append(_event_row(item, event_id, outcomes[index].profile_id, now))
    for index, outcome in enumerate(outcomes):
        if outcome.duplicate and outcome.event_id is None:
            item = prepared[index]
            first = outcomes[seen[(item.event.source, item.external_event_id or "")]]
            if first.suppressed:
                outcome.duplicate, outcome.conflicting_duplicate = False, False
                outcome.suppressed, outcome.warnings = True, list(first.warnings)
                continue
            if first.error is not None:
                outcome.duplicate, outcome.conflicting_duplicate = False, False
                outcome.error = first.error
            outcome.event_id, outcome.profile_id = first.event_id, first.profile_id
            outcome.anchored = first.anchored
        elif outcome.duplicate and outcome.profile_id is not None:
            outcome.profile_id = identity_map.survivor(outcome.profile_id)
            survivor = identity_map.profiles.get(outcome.profile_id)
            outcome.anchored = survivor is not None and survivor.status == "anchor"

    # 3. Append to the log and 4. persist the projection plans.
    await identity_service.persist_identity_map(
        session, tenant_id, identity_map, event_ids=event_ids, now=now
    )
    await events_repo.append(stored_rows)
    # A redelivered event (a duplicate of a stored one) refreshes its touchpoint.
    redelivered = [
        Resolved(prepared[i].event, o, prepared[i].marketing)
        for i, o in enumerate(outcomes)
        if o.duplicate and o.error is None
    ]
    projected = await projections.project(
        session,
        tenant_id,
        identity_map,
        [Resolved(prepared[i].event, outcomes[i], prepared[i].marketing) for i in live],
        now,
        redelivered=redelivered,
    )
    # 5. Publish, after the commit (store/db.py drops these on a rollback). Beyond the cap a
    # client is told to resync, so rows past it are not turned into messages.
    messages = [
        *mutations.event_messages(tenant_id, stored_rows[: MAX_PER_COMMIT + 1], identity_map),
        *mutations.identity_messages(tenant_id, identity_map, event_ids),
        *projected,
    ]
    leave_for_commit(session, capped(tenant_id, messages))
    return outcomes


def _with_previous(
    identity_map: IdentityMap, item: _Prepared
) -> tuple[list[Identifier], uuid.UUID | None]:
    """An alias joins its previous id to the user under DESIGN §3: an id another anchor holds
    as its external id is that anchor's (a recorded conflict, never a merge: returns its owner);
    any other is what the user was known by anonymously, whose shadow then collapses into the
    user."""
    if item.previous is None:
        return item.identifiers, None
    as_external, as_anonymous = item.previous
    owner = identity_map.owner((as_external.kind, as_external.value))
    users = {
        identity_map.owner((i.kind, i.value)) for i in item.identifiers if i.kind in STRONG_KINDS
    } - {None}
    if owner is not None and owner in users:
        return item.identifiers, None  # the user's own id: nothing to join
    state = identity_map.profiles.get(owner) if owner is not None else None
    if owner is not None and state is not None and state.status == "anchor":
        return item.identifiers, owner
    return [*item.identifiers, as_anonymous], None


def _resolve_and_update_profile(
    identity_map: IdentityMap,
    context: TenantContext,
    item: _Prepared,
    index: int,
    outcome: EventOutcome,
    now: datetime,
    event_id: uuid.UUID,
    new_id: Callable[[], uuid.UUID] = uuid7,
) -> None:
    """Resolve whose event this is in the identity map, fill its outcome and record its
    conflicts, then update that profile's state (seen, traits and their lineage). It projects
    nothing: the projections run once per chunk, after the log is appended."""
    event = item.event
    at = event.occurred_at or now
    identifiers, claimed_by = _with_previous(identity_map, item)
    resolution = resolve_event(
        identity_map,
        ResolveRequest(identifiers, event.profile_id, event.allow_no_identity),
        event_index=index,
        at=at,
        limits=context.limits,
        new_id=new_id,
    )
    if resolution.error is not None:
        outcome.error = refusal(resolution.error, item.rejections)
        return
    outcome.event_id = event_id
    outcome.profile_id = resolution.profile_id
    outcome.matched_by = resolution.matched_by
    outcome.confidence = resolution.confidence
    outcome.created_profile = resolution.created
    outcome.merged_profile_ids = resolution.merged_profile_ids
    outcome.warnings.extend(resolution.conflicts)
    if claimed_by is not None and item.previous is not None:
        refused = ConflictRecord(
            "external_id",
            item.previous[0].value[:255],
            "owned_by_other_anchor",
            claimed_by,
            resolution.profile_id,
            index,
        )
        identity_map.conflicts.append(refused)
        outcome.warnings.append(refused)
    for rejection in item.rejections:
        identity_map.conflicts.append(
            ConflictRecord(
                rejection.kind,
                rejection.value[:255],
                rejection.reason,
                None,
                resolution.profile_id,
                index,
            )
        )
    if resolution.profile_id is None:
        return
    state = identity_map.profiles[resolution.profile_id]
    outcome.anchored = state.status == "anchor"
    state.see(at)
    if event.traits:
        result = merge_attributes(state.attributes, state.times, event.traits, at)
        if result.changes:
            state.attributes, state.times = result.attributes, result.times
            identity_map.lineage.extend(
                LineageEntry(state.id, c.path, c.old_value, c.new_value, index, event.source, at)
                for c in result.changes
            )


def presented_identifiers(event: CanonicalEvent) -> dict[str, Any] | None:
    """The identifiers as sent, kept on the event so `rebuild` can resolve it again."""
    presented: dict[str, Any] = {
        name: value
        for name, value in (
            ("email", event.email),
            ("phone", event.phone),
            ("external_id", event.external_id),
            ("profile_id", str(event.profile_id) if event.profile_id else None),
            ("previous_id", event.previous_id),
        )
        if value is not None
    }
    if event.allow_no_identity:
        presented["allow_no_identity"] = True
    return presented or None


def _event_row(
    item: _Prepared, event_id: uuid.UUID, profile_id: uuid.UUID | None, now: datetime
) -> dict[str, Any]:
    event = item.event
    return {
        "id": event_id,
        "profile_id": profile_id,
        "source_type": event.source_type,
        "source": event.source,
        "event_type": event.event_type,
        "event_name": event.event_name[:255],
        # The order the event names: unmerge finds a profile's orders through it.
        "object_id": event.object_id
        or (order_id_of(event.payload) if event.traits is None else None),
        "object_id_ref": event.object_id_ref,
        "payload": event.payload,
        "raw_payload": event.raw_payload,
        "traits": event.traits,
        "identifiers": presented_identifiers(event),
        "external_event_id": item.external_event_id,
        "payload_hash": item.payload_hash,
        "anonymous_id": event.anonymous_id,
        "session_id": event.session_id,
        "campaign_id": item.marketing.campaign_id,
        "channel": item.marketing.channel,
        "occurred_at": event.occurred_at or now,
        "received_at": event.received_at,
    }


@dataclass(frozen=True, slots=True)
class Replayed:
    """An event from the log, resolved again by `rebuild`: its id, and the profile it was
    first attributed to (a profile it created gets that same id again)."""

    event: CanonicalEvent
    event_id: uuid.UUID
    profile_id: uuid.UUID | None


async def replay(
    session: Session,
    context: TenantContext,
    items: Sequence[Replayed],
    *,
    used_ids: set[uuid.UUID],
    now: datetime,
) -> None:
    """Resolve and project logged events again, in order, without deduplicating or appending
    (they are in the log already). `used_ids` carries the profile ids handed out so far."""
    prepared = [prepare(item.event, context) for item in items]
    keys = {key for item in prepared for key in item.lookup_keys}
    explicit = {item.event.profile_id for item in items if item.event.profile_id is not None}
    await identity_service.lock_identifiers(session, context.tenant_id, keys)
    identity_map = await identity_service.load_identity_map(
        session, context.tenant_id, keys, explicit
    )
    resolved: list[tuple[_Prepared, EventOutcome]] = []
    for index, (item, logged) in enumerate(zip(prepared, items, strict=True)):

        def new_id(original: uuid.UUID | None = logged.profile_id) -> uuid.UUID:
            if original is not None and original not in used_ids:
                used_ids.add(original)
                return original
            return uuid7()

        outcome = EventOutcome()
        _resolve_and_update_profile(
            identity_map, context, item, index, outcome, now, logged.event_id, new_id=new_id
        )
        resolved.append((item, outcome))
    await identity_service.persist_identity_map(
        session, context.tenant_id, identity_map, event_ids=[i.event_id for i in items], now=now
    )
    await projections.project(
        session,
        context.tenant_id,
        identity_map,
        [Resolved(item.event, outcome, item.marketing) for item, outcome in resolved],
        now,
    )
