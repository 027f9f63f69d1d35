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
class Contribution:
    """The touchpoint (by its event id) that moved a customer into `stage`."""

    stage: Stage
    event_id: uuid.UUID
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class TouchpointRecord:
    """What replaying a customer's stages needs to know about one of its touchpoints."""

    event_id: uuid.UUID
    event_type: str
    occurred_at: datetime


def replay_stages(
    touchpoints: Iterable[TouchpointRecord],
) -> tuple[Stage | None, tuple[Contribution, ...]]:
    """A customer's stage and stage contributions recomputed from its touchpoints.

    They are replayed in event id order, which is ingestion order (event ids are UUIDv7 made
    at ingestion), the order incremental processing saw them in and the order the log replays.
    """
    stage: Stage | None = None
    contributions: list[Contribution] = []
    for touchpoint in sorted(touchpoints, key=lambda record: record.event_id):
        moved = next_stage(stage, touchpoint.event_type)
        if moved is not None:
            stage = moved
            contributions.append(Contribution(moved, touchpoint.event_id, touchpoint.occurred_at))
    return stage, tuple(contributions)
