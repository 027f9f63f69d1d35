"""The identity map of one chunk, in memory: who owns which identifier, and every change made.

Loaded with one query per chunk, mutated event by event in order, then persisted as a plan.
Pure: no I/O, no clock, no randomness (new ids come from a factory the caller passes in).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from journeyline.identity.normalize import is_limited
from journeyline.statuses import ProfileStatus

IdentityKey = tuple[str, str]


@dataclass(slots=True)
class ProfileState:
    id: uuid.UUID
    status: ProfileStatus
    merged_into: uuid.UUID | None
    attributes: dict[str, Any]
    times: dict[str, str]
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    event_count: int
    # Strong identifiers owned, per kind (for the per-profile limits).
    counts: dict[str, int] = field(default_factory=dict)
    is_new: bool = False
    is_dirty: bool = False

    def see(self, at: datetime) -> None:
        if self.first_seen_at is None or at < self.first_seen_at:
            self.first_seen_at = at
        if self.last_seen_at is None or at > self.last_seen_at:
            self.last_seen_at = at
        self.event_count += 1
        self.is_dirty = True


@dataclass(frozen=True, slots=True)
class LineageEntry:
    profile_id: uuid.UUID
    path: str
    old_value: Any
    new_value: Any
    event_index: int | None
    source: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ConflictRecord:
    kind: str
    value: str
    reason: str  # "owned_by_other_anchor" | "limit_exceeded" | "blocked" | "invalid"
    owner_profile_id: uuid.UUID | None
    attempted_profile_id: uuid.UUID | None
    event_index: int | None


@dataclass(frozen=True, slots=True)
class MergeRecord:
    from_profile_id: uuid.UUID
    into_profile_id: uuid.UUID
    reason: str  # "identity_collapse" | "manual"
    event_index: int | None
    at: datetime
    from_status: ProfileStatus
    # Identifiers the merged profile owned in this chunk's map at merge time.
    identities: tuple[IdentityKey, ...]
    # Profiles that had been merged into the merged profile and now point at the survivor.
    repointed: tuple[uuid.UUID, ...]


@dataclass
class IdentityMap:
    owners: dict[IdentityKey, uuid.UUID]
    profiles: dict[uuid.UUID, ProfileState]
    initial_owners: dict[IdentityKey, uuid.UUID] = field(init=False)
    # The reverse of `owners`, so a merge moves a profile's keys without scanning every key.
    keys_of: dict[uuid.UUID, set[IdentityKey]] = field(init=False)
    merges: list[MergeRecord] = field(default_factory=list)
    conflicts: list[ConflictRecord] = field(default_factory=list)
    lineage: list[LineageEntry] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.initial_owners = dict(self.owners)
        self.keys_of = {}
        for key, owner in self.owners.items():
            self.keys_of.setdefault(owner, set()).add(key)

    def survivor(self, profile_id: uuid.UUID) -> uuid.UUID:
        seen = 0
        current = profile_id
        while (state := self.profiles.get(current)) is not None and state.merged_into is not None:
            current = state.merged_into
            seen += 1
            if seen > 16:  # a corrupt cycle must not hang the pipeline
                break
        return current

    def owner(self, key: IdentityKey) -> uuid.UUID | None:
        owner = self.owners.get(key)
        return None if owner is None else self.survivor(owner)

    def add_profile(
        self, profile_id: uuid.UUID, status: ProfileStatus, at: datetime
    ) -> ProfileState:
        state = ProfileState(
            id=profile_id,
            status=status,
            merged_into=None,
            attributes={},
            times={},
            first_seen_at=at,
            last_seen_at=at,
            event_count=0,
            is_new=True,
            is_dirty=True,
        )
        self.profiles[profile_id] = state
        return state

    def assign(self, key: IdentityKey, profile_id: uuid.UUID, *, is_strong: bool) -> None:
        previous = self.owners.get(key)
        if previous is not None:
            self.keys_of.get(previous, set()).discard(key)
        self.owners[key] = profile_id
        self.keys_of.setdefault(profile_id, set()).add(key)
        if is_strong and is_limited(*key):
            state = self.profiles[profile_id]
            state.counts[key[0]] = state.counts.get(key[0], 0) + 1

    def move_all(self, from_id: uuid.UUID, into_id: uuid.UUID) -> tuple[IdentityKey, ...]:
        """Give every key of `from_id` to `into_id`; returns the moved keys, sorted."""
        moved = self.keys_of.pop(from_id, set())
        for key in moved:
            self.owners[key] = into_id
        self.keys_of.setdefault(into_id, set()).update(moved)
        return tuple(sorted(moved))

    def identity_changes(self) -> tuple[dict[IdentityKey, uuid.UUID], dict[IdentityKey, uuid.UUID]]:
        """(identifiers to insert, identifiers whose owner changed) since the map was loaded."""
        inserts: dict[IdentityKey, uuid.UUID] = {}
        moves: dict[IdentityKey, uuid.UUID] = {}
        for key, owner in self.owners.items():
            before = self.initial_owners.get(key)
            if before is None:
                inserts[key] = owner
            elif before != owner:
                moves[key] = owner
        return inserts, moves
