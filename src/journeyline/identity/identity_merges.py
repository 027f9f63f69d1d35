"""The identity half of an operator's merge and unmerge (POST /v1/profiles/{id}/merge and
/unmerge, DESIGN §3): the profiles, their identifiers, attributes, lineage and counts. The
projections follow in ingest/operator_merges.py, which is what the routes call."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from journeyline.errors import MergeConflict, ProfileNotFound
from journeyline.identity import service as identity_service
from journeyline.identity.merge import collapse, diff_attributes, replay_attributes
from journeyline.identity.reads import ProfileView, get_profile, surviving_profile
from journeyline.ids import uuid7
from journeyline.store.db import Session
from journeyline.store.models import Profile
from journeyline.store.repositories.events import EventRepository
from journeyline.store.repositories.profiles import ProfileRepository


async def _lock_profiles(
    session: Session, tenant_id: uuid.UUID, profile_ids: list[uuid.UUID]
) -> list[tuple[str, str]]:
    """Lock the identifiers of the profiles (so no ingest races the change), then re-read them
    under the lock; returns the identifier keys."""
    repo = ProfileRepository(session, tenant_id)
    locked: set[tuple[str, str]] = set()
    while True:
        keys = {(row.kind, row.value) for row in await repo.identities_of(profile_ids)}
        fresh = keys - locked
        if not fresh:
            return sorted(keys)
        await identity_service.lock_identifiers(
            session, tenant_id, [*fresh, *(f"profile:{pid}" for pid in profile_ids)]
        )
        locked |= fresh


@dataclass(frozen=True, slots=True)
class Unmerge:
    """An operator's unmerge of `merged_id` out of `into_id` (or the profile that now survives
    it), at `now`; a rebuild replays it with the log up to `log_through`, its moment."""

    tenant_id: uuid.UUID
    into_id: uuid.UUID
    merged_id: uuid.UUID
    now: datetime
    log_through: uuid.UUID | None = None


async def merge_identities(
    session: Session, tenant_id: uuid.UUID, into_id: uuid.UUID, from_id: uuid.UUID, now: datetime
) -> ProfileView:
    """Merge `from_id`'s identity into `into_id`'s (two anchors may merge only this way)."""
    repo = ProfileRepository(session, tenant_id)
    into = await surviving_profile(repo, into_id)
    source = await surviving_profile(repo, from_id)
    if into.id == source.id:
        raise MergeConflict("both ids lead to the same profile", field="profile_id")
    keys = await _lock_profiles(session, tenant_id, [into.id, source.id])
    identity_map = await identity_service.load_identity_map(
        session, tenant_id, keys, [into.id, source.id]
    )
    collapse(identity_map, source.id, into.id, reason="manual", event_index=None, at=now)
    await identity_service.persist_identity_map(
        session, tenant_id, identity_map, event_ids=[], now=now
    )
    return await get_profile(session, tenant_id, into.id)


async def unmerge_identities(session: Session, unmerge: Unmerge) -> uuid.UUID:
    """Reverse the merge of `merged_id` into `into_id`: the profile, its identifiers, the profiles
    that had been merged into it, and attributes rebuilt from each side's own events (those up
    to `log_through` when a rebuild replays the unmerge at its moment in the log)."""
    tenant_id, into_id, merged_id = unmerge.tenant_id, unmerge.into_id, unmerge.merged_id
    now, log_through = unmerge.now, unmerge.log_through
    repo = ProfileRepository(session, tenant_id)
    into = await surviving_profile(repo, into_id)
    merged = await repo.get(merged_id)
    if merged is None:
        raise ProfileNotFound(f"no profile {merged_id}")
    if merged.status != "merged" or merged.merged_into != into.id:
        raise MergeConflict(f"profile {merged_id} is not merged into {into.id}", field="profile_id")
    record = await repo.active_merge(merged.id)
    if record is None:
        raise MergeConflict(f"no merge of {merged_id} is on record", field="profile_id")
    await _lock_profiles(session, tenant_id, [into.id, merged.id])

    journal = record.journal or {}
    restored: set[uuid.UUID] = set()
    for raw in journal.get("repointed", []):
        row = await repo.get(uuid.UUID(str(raw)))
        if row is not None and row.merged_into == into.id:
            restored.add(row.id)
    back: dict[tuple[str, str], uuid.UUID] = {}
    for kind, value in journal.get("identities", []):
        if await repo.find_owner(kind, value) == into.id:
            back[(kind, value)] = merged.id
    await repo.move_identities(back)
    if restored:
        await repo.update_profiles([{"id": pid, "merged_into": merged.id} for pid in restored])

    await _rebuild(session, tenant_id, merged, [merged.id, *restored], now, log_through)
    remaining = [into.id, *(pid for pid in await repo.merged_into(into.id) if pid != merged.id)]
    await _rebuild(session, tenant_id, into, remaining, now, log_through)
    await repo.mark_unmerged(record.id, now)
    return merged.id


async def _rebuild(
    session: Session,
    tenant_id: uuid.UUID,
    profile: Profile,
    family: list[uuid.UUID],
    now: datetime,
    log_through: uuid.UUID | None,
) -> None:
    """Attributes, counts and first/last seen of `profile`, recomputed from its family's events."""
    events = EventRepository(session, tenant_id)
    attributes, times = replay_attributes(
        await events.traits_for_profiles(family, through=log_through)
    )
    count, first, last = await events.stats_for_profiles(family, through=log_through)
    repo = ProfileRepository(session, tenant_id)
    strong = await repo.strong_counts([profile.id])
    status = "anchor" if strong.get(profile.id) else "shadow"
    await repo.add_attribute_changes(
        [
            {
                "id": uuid7(),
                "profile_id": profile.id,
                "path": path,
                "old_value": old,
                "new_value": new,
                "event_id": None,
                "source": "unmerge",
                "changed_at": now,
            }
            for path, old, new in diff_attributes(profile.attributes or {}, attributes)
        ]
    )
    await repo.update_profiles(
        [
            {
                "id": profile.id,
                "status": status,
                "merged_into": None,
                "attributes": attributes,
                "attribute_times": times,
                "event_count": count,
                "first_seen_at": first or profile.first_seen_at,
                "last_seen_at": last or profile.last_seen_at,
                "updated_at": now,
            }
        ]
    )
