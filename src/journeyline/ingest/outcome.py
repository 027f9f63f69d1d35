"""What the pipeline answers for each event it was given: typed, rendered by ingest/wire.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from journeyline.errors import JourneylineError
from journeyline.identity.identity_map import ConflictRecord
from journeyline.identity.normalize import Rejection


@dataclass(frozen=True, slots=True)
class ErasedIdentifier:
    """The event carries an erased identifier and was dropped: not an error (decision 51)."""


ERASED_IDENTIFIER = ErasedIdentifier()

# What an event is warned of: an identifier ignored for matching (blocked or invalid), one the
# resolution refused to move (owned by another anchor, over the profile's limit), or its drop.
EventWarning = Rejection | ConflictRecord | ErasedIdentifier


@dataclass(slots=True)
class EventOutcome:
    """What happened to one event; `error` is set instead when it was not stored: the domain
    error itself, whose class gives its status and code (a 404 `ProfileNotFound`, …)."""

    event_id: uuid.UUID | None = None
    profile_id: uuid.UUID | None = None
    duplicate: bool = False
    conflicting_duplicate: bool = False
    matched_by: str | None = None
    confidence: float | None = None
    created_profile: bool = False
    # The profile holds a strong identifier (it is a known person, not an anonymous shadow).
    anchored: bool = False
    merged_profile_ids: list[uuid.UUID] = field(default_factory=list)
    warnings: list[EventWarning] = field(default_factory=list)
    error: JourneylineError | None = None
    # Dropped: the event carries an erased identifier (a tombstone); not an error, not stored.
    suppressed: bool = False
