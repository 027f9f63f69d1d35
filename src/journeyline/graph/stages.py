"""Funnel stages: which event types move a customer to which stage, monotonically (pure)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Stage = Literal["awareness", "interest", "consideration", "conversion", "retention"]

# Funnel order: a customer's stage only ever moves to a later entry of this tuple.
STAGES: tuple[Stage, ...] = ("awareness", "interest", "consideration", "conversion", "retention")
STAGE_RANK: dict[Stage, int] = {stage: rank for rank, stage in enumerate(STAGES)}

# The one table of stage signals (DESIGN §5), keyed by the normalized event type (DESIGN §6).
STAGE_BY_EVENT_TYPE: dict[str, Stage] = {
    "page_viewed": "awareness",
    "product_viewed": "awareness",
    "screen_viewed": "awareness",
    "campaign_delivered": "awareness",
    "campaign_engaged": "awareness",
    "identified": "interest",
    "form_submitted": "interest",
    "conversation_started": "interest",
    "product_asked": "interest",
    "interest_detected": "interest",
    "product_added": "consideration",
    "cart_updated": "consideration",
    "checkout_started": "consideration",
    "discount_requested": "consideration",
    "discount_accepted": "consideration",
    "purchase_completed": "conversion",
    "subscription_created": "retention",
}

# Custom types (kept in snake_case by the taxonomy) that read as a view: `email_opened`,
# `banner_clicked`, `video_viewed`. They only ever signal awareness.
AWARENESS_SUFFIXES: tuple[str, ...] = ("_viewed", "_opened", "_clicked")

# A purchase by a customer who already converted is a repeat purchase: retention.
REPEAT_PURCHASE_TYPE = "purchase_completed"


def signalled_stage(event_type: str, current: Stage | None) -> Stage | None:
    """The stage an event of `event_type` signals for a customer now at `current`, or None
    when the type says nothing about the funnel."""
    stage = STAGE_BY_EVENT_TYPE.get(event_type)
    if stage is None and event_type.endswith(AWARENESS_SUFFIXES):
        stage = "awareness"
    if (
        event_type == REPEAT_PURCHASE_TYPE
        and current is not None
        and STAGE_RANK[current] >= STAGE_RANK["conversion"]
    ):
        stage = "retention"
    return stage


def later_stage(left: Stage | None, right: Stage | None) -> Stage | None:
    """The further along of two stages (None is before awareness)."""
    if left is None:
        return right
    if right is None:
        return left
    return left if STAGE_RANK[left] >= STAGE_RANK[right] else right


def next_stage(current: Stage | None, event_type: str) -> Stage | None:
    """The stage the customer moves into on this event, or None when it does not move: a
    stage never moves backwards, and re-signalling the current stage is not a move."""
    signalled = signalled_stage(event_type, current)
    if signalled is None or later_stage(current, signalled) == current:
        return None
    return signalled


@dataclass(frozen=True, slots=True)
class StageRow:
    """A stage reached, as the graph stores it (DESIGN §5: a row only when a stage is reached).

    `profile_id` is the customer the row counts for now: a merge moves the merged profile's
    rows to the survivor. `origin_profile_id` is the profile that reached it, the one its event
    was attributed to, so an unmerge gives each side back its own rows."""

    profile_id: uuid.UUID
    origin_profile_id: uuid.UUID
    stage: Stage
    event_id: uuid.UUID
    event_type: str
    occurred_at: datetime
    # What the event that reached the stage was worth (conversions and retention only).
    revenue: float | None = None
    currency: str | None = None


def current_stage(rows: Iterable[StageRow]) -> Stage | None:
    """A customer's stage: the furthest along of its rows (stages never move back)."""
    stage: Stage | None = None
    for row in rows:
        stage = later_stage(stage, row.stage)
    return stage


def contributors(rows: Iterable[StageRow]) -> dict[Stage, StageRow]:
    """The row that moved the customer into each of its stages: after a merge both sides may
    have entered a stage, and the earlier touchpoint keeps the credit (then the lower event id)."""
    first: dict[Stage, StageRow] = {}
    for row in rows:
        known = first.get(row.stage)
        if known is None or (row.occurred_at, row.event_id) < (known.occurred_at, known.event_id):
            first[row.stage] = row
    return first
