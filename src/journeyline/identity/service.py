"""Loading a chunk's identity map in a few queries, and persisting what resolution changed."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from journeyline.identity.identity_map import IdentityKey, IdentityMap, ProfileState
from journeyline.identity.normalize import PROVIDER_NAMESPACES
from journeyline.ids import uuid7
from journeyline.store.db import Session, advisory_keys
from journeyline.store.models import Profile
from journeyline.store.repositories.profiles import ProfileColumns, ProfileRepository


def state_of(profile: Profile | ProfileColumns) -> ProfileState:
    return ProfileState(
        id=profile.id,
        status=profile.status,
        merged_into=profile.merged_into,
        attributes=dict(profile.attributes or {}),
        times=dict(profile.attribute_times or {}),
        first_seen_at=profile.first_seen_at,
        last_seen_at=profile.last_seen_at,
        event_count=profile.event_count,
    )


async def lock_identifiers(
    session: Session, tenant_id: uuid.UUID, keys: Iterable[IdentityKey | str]
) -> None:
    """Serialise every writer that touches the same identifiers (a no-op on SQLite, whose
    writers are already serialised)."""
    names = [key if isinstance(key, str) else f"{key[0]}:{key[1]}" for key in keys]
    await ProfileRepository(session, tenant_id).lock_keys(advisory_keys(tenant_id, names))


async def load_identity_map(
    session: Session,
    tenant_id: uuid.UUID,
    keys: Iterable[IdentityKey],
    profile_ids: Iterable[uuid.UUID] = (),
) -> IdentityMap:
    """The owners of `keys` and every profile they (or `profile_ids`) lead to, with survivors."""
    repo = ProfileRepository(session, tenant_id)
    owners = await repo.owners_of(keys)
    wanted = set(owners.values()) | set(profile_ids)
    profiles: dict[uuid.UUID, ProfileState] = {}
    while wanted:
        for profile in await repo.states_of(wanted):
            profiles[profile.id] = state_of(profile)
        wanted = {
            state.merged_into
            for state in profiles.values()
            if state.merged_into is not None and state.merged_into not in profiles
        }
    counts = await repo.strong_counts(list(profiles), exempt_namespaces=PROVIDER_NAMESPACES)
    for profile_id, per_kind in counts.items():
        profiles[profile_id].counts = dict(per_kind)
    return IdentityMap(owners=owners, profiles=profiles)


async def persist_identity_map(
    session: Session,
    tenant_id: uuid.UUID,
    identity_map: IdentityMap,
    *,
    event_ids: Sequence[uuid.UUID | None],
    now: datetime,
) -> None:
    """Write the chunk's plan: new profiles, merges (with their journal), identifiers, profile
    updates, lineage and conflicts. `event_ids[i]` is the stored id of the chunk's i-th event."""
    repo = ProfileRepository(session, tenant_id)
    states = identity_map.profiles.values()
    await repo.insert_states([state for state in states if state.is_new], now)

    await _persist_merges(repo, identity_map, event_ids)

    inserts, moves = identity_map.identity_changes()
    await repo.insert_identities(inserts, now)
    await repo.move_identities(moves)

    await repo.update_states(
        [state for state in states if state.is_dirty and not state.is_new], now
    )
    await repo.add_attribute_changes(
        [
            {
                "id": uuid7(),
                "profile_id": entry.profile_id,
                "path": entry.path,
                "old_value": entry.old_value,
                "new_value": entry.new_value,
                "event_id": event_ids[entry.event_index] if entry.event_index is not None else None,
                "source": entry.source,
                "changed_at": entry.at,
            }
            for entry in identity_map.lineage
        ]
    )
    await repo.add_conflicts(
        [
            {
                "id": uuid7(),
                "kind": conflict.kind,
                "value": conflict.value,
                "reason": conflict.reason,
                "owner_profile_id": conflict.owner_profile_id,
                "attempted_profile_id": conflict.attempted_profile_id,
                "event_id": event_ids[conflict.event_index]
                if conflict.event_index is not None
                else None,
                "created_at": now,
            }
            for conflict in identity_map.conflicts
        ]
    )


async def _persist_merges(
    repo: ProfileRepository, identity_map: IdentityMap, event_ids: Sequence[uuid.UUID | None]
) -> None:
    """The chunk's merges, in order, in a fixed number of statements. Each journal records
    what the merged profile held in storage at its merge (including what earlier merges of the
    chunk moved onto it) plus what this chunk gave it, so that unmerge can hand it all back."""
    if not identity_map.merges:
        return
    involved = {m.from_profile_id for m in identity_map.merges} | {
        m.into_profile_id for m in identity_map.merges
    }
    stored_keys = await repo.identities_by_profile(involved)
    children = await repo.children_by_parent(involved)
    rows: list[dict[str, object]] = []
    for merge in identity_map.merges:
        held = stored_keys.pop(merge.from_profile_id, set())
        identities = sorted(held | set(merge.identities))
        stored_keys.setdefault(merge.into_profile_id, set()).update(held)
        repointed_here = children.pop(merge.from_profile_id, set())
        repointed = sorted(repointed_here | set(merge.repointed), key=str)
        children.setdefault(merge.into_profile_id, set()).update(repointed_here)
        rows.append(
            {
                "id": uuid7(),
                "from_profile_id": merge.from_profile_id,
                "into_profile_id": merge.into_profile_id,
                "reason": merge.reason,
                "event_id": event_ids[merge.event_index] if merge.event_index is not None else None,
                "merged_at": merge.at,
                "journal": {
                    "identities": [list(key) for key in identities],
                    "repointed": [str(profile_id) for profile_id in repointed],
                    "from_status": merge.from_status,
                },
            }
        )
    pairs = [(m.from_profile_id, m.into_profile_id) for m in identity_map.merges]
    await repo.reassign_identities_in_order(pairs)
    await repo.repoint_merged_in_order(pairs)
    await repo.add_merges(rows)
