"""What the projections are given: a resolved chunk, an operator's merge, an unmerge."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from journeyline.graph.build import Marketing
from journeyline.identity.identity_map import IdentityMap
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.outcome import EventOutcome


@dataclass(frozen=True, slots=True)
class Resolved:
    """A stored event (or a redelivery of one, whose outcome names the original), with the
    campaign and channel columns it was logged with."""

    event: CanonicalEvent
    outcome: EventOutcome
    marketing: Marketing

    @property
    def is_stored(self) -> bool:
        return self.outcome.error is None and self.outcome.event_id is not None


@dataclass(frozen=True, slots=True)
class Chunk:
    tenant_id: uuid.UUID
    identity: IdentityMap
    # The chunk's live events in order (some failed: `outcome.error`).
    resolved: Sequence[Resolved]
    # Duplicates of stored events, or of events earlier in the chunk.
    redelivered: Sequence[Resolved]
    now: datetime

    def survivor(self, profile_id: uuid.UUID | None) -> uuid.UUID | None:
        return None if profile_id is None else self.identity.survivor(profile_id)

    def merged(self) -> dict[uuid.UUID, uuid.UUID]:
        """Each profile merged in the chunk -> the profile that survives the chunk."""
        return {
            merge.from_profile_id: self.identity.survivor(merge.into_profile_id)
            for merge in self.identity.merges
        }


@dataclass(frozen=True, slots=True)
class MergeMove:
    """An operator merge: `from_id` (a surviving profile until now) went into `into_id`;
    `merged_from` is every profile now merged into `into_id`."""

    tenant_id: uuid.UUID
    from_id: uuid.UUID
    into_id: uuid.UUID
    merged_from: Sequence[uuid.UUID]
    now: datetime


@dataclass(frozen=True, slots=True)
class UnmergeMove:
    tenant_id: uuid.UUID
    survivor_id: uuid.UUID
    restored_id: uuid.UUID
    # The restored profile and every profile merged into it.
    restored_family: Sequence[uuid.UUID]
    now: datetime
