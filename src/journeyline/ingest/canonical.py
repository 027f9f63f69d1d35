"""CanonicalEvent: what every dialect adapter produces and the pipeline consumes (DESIGN §2)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

SourceType = Literal["external", "internal", "direct"]

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class CanonicalEvent:
    """One signal, already in journeyline's vocabulary.

    Identifier fields hold the values as sent (not yet normalized): the pipeline normalizes them
    with the tenant's settings and reports blocked values as warnings.
    """

    event_type: str
    event_name: str
    source_type: SourceType
    source: str
    received_at: datetime
    occurred_at: datetime | None = None
    payload: JsonObject = field(default_factory=dict)
    raw_payload: JsonObject | None = None
    # The attribute patch this event applies to its profile (DESIGN §4); may hold "$unset".
    traits: JsonObject | None = None
    external_event_id: str | None = None
    profile_id: uuid.UUID | None = None
    email: str | None = None
    phone: str | None = None
    external_id: str | None = None
    anonymous_id: str | None = None
    session_id: str | None = None
    campaign_id: str | None = None
    channel: str | None = None
    object_id: str | None = None
    object_id_ref: str | None = None
    # Segment's alias: the id the user was known by before (DESIGN §3; pipeline.py settles it).
    previous_id: str | None = None
    # Provider webhooks may carry no customer at all (DESIGN §3 rule 7).
    allow_no_identity: bool = False

    @property
    def effective_occurred_at(self) -> datetime:
        return self.occurred_at if self.occurred_at is not None else self.received_at
