"""What the pipeline answers for each event it was given."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class EventOutcome:
    """What happened to one event; `error` is set instead when it was not stored."""

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
    warnings: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    error_status: int = 422
    # Dropped: the event carries an erased identifier (a tombstone); not an error, not stored.
    suppressed: bool = False
