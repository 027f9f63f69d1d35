"""One customer's journey, as the dashboard draws it (pure): their touchpoints in time order,
each with its campaign and channel and the stage it moved them into, and how a person is
named on screen (a name, else an email, never an id)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from journeyline.graph.stages import Stage, StageRow, contributors, current_stage

# Who a person with neither a name nor an email is, on screen.
ANONYMOUS = "anonymous visitor"


def person_label(name: str | None, email: str | None) -> str:
    return name or email or ANONYMOUS


@dataclass(frozen=True, slots=True)
class Step:
    event_id: uuid.UUID
    occurred_at: datetime
    event_type: str
    event_name: str
    source: str
    source_type: str
    campaign: str | None
    channel: str | None
    # The stage this touchpoint moved the customer into, if it did.
    stage: Stage | None

    def as_json(self) -> dict[str, object]:
        return {
            "event_id": str(self.event_id),
            "occurred_at": self.occurred_at.isoformat(),
            "event_type": self.event_type,
            "event_name": self.event_name,
            "source": self.source,
            "source_type": self.source_type,
            "campaign": self.campaign,
            "channel": self.channel,
            "stage": self.stage,
        }


@dataclass(frozen=True, slots=True)
class Journey:
    customer_id: uuid.UUID
    label: str
    email: str | None
    stage: Stage | None
    steps: tuple[Step, ...]
    # More touchpoints exist than the view shows (the oldest are shown).
    truncated: bool

    def as_json(self) -> dict[str, object]:
        return {
            "customer_id": str(self.customer_id),
            "label": self.label,
            "email": self.email,
            "stage": self.stage,
            "steps": [step.as_json() for step in self.steps],
            "truncated": self.truncated,
        }


@dataclass(frozen=True, slots=True)
class Touch:
    """A touchpoint as read from the log."""

    event_id: uuid.UUID
    occurred_at: datetime
    event_type: str
    event_name: str
    source: str
    source_type: str
    campaign: str | None
    channel: str | None


def journey(
    customer_id: uuid.UUID,
    label: str,
    email: str | None,
    touches: Sequence[Touch],
    stage_rows: Iterable[StageRow],
    limit: int,
) -> Journey:
    """The journey of `touches` (oldest first, up to `limit`), each marked with the stage
    it moved the customer into: the row that first reached each stage (`contributors`)."""
    rows = list(stage_rows)
    moved: Mapping[uuid.UUID, Stage] = {
        row.event_id: stage for stage, row in contributors(rows).items()
    }
    steps = tuple(
        Step(
            touch.event_id,
            touch.occurred_at,
            touch.event_type,
            touch.event_name,
            touch.source,
            touch.source_type,
            touch.campaign,
            touch.channel,
            moved.get(touch.event_id),
        )
        for touch in touches[:limit]
    )
    return Journey(
        customer_id, label, email, current_stage(rows), steps, truncated=len(touches) > limit
    )
