"""Graph building (Waypath), pure: the marketing columns an event is stored with, and a chunk's
events and merges in, the `GraphPlan` of what the graph stores out (`plan.py`)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from journeyline.graph.channels import derive_channel
from journeyline.graph.plan import GraphPlan, Resync, SharedCount, SharedType
from journeyline.graph.stages import Stage, StageRow, current_stage, later_stage, next_stage
from journeyline.payloads import text

# Event types whose amount is revenue (a conversion or a retention): attribution credits it.
REVENUE_EVENT_TYPES: frozenset[str] = frozenset({"purchase_completed", "subscription_created"})
REVENUE_FIELDS: tuple[str, ...] = ("revenue", "amount", "total", "value")
# The log's column widths (store/models/events.py).
CAMPAIGN_LENGTH = 255
CHANNEL_LENGTH = 100


@dataclass(frozen=True, slots=True)
class MarketingContext:
    utm_campaign: str | None
    utm_medium: str | None
    referrer: str | None
    page_url: str | None


def read_marketing_context(payload: Mapping[str, object]) -> MarketingContext:
    """The UTM and page fields of an event payload, where the tracker puts them (top level)."""
    return MarketingContext(
        utm_campaign=text(payload.get("utm_campaign"), strip=True),
        utm_medium=text(payload.get("utm_medium"), strip=True),
        referrer=text(payload.get("referrer"), strip=True),
        page_url=text(payload.get("url"), strip=True),
    )


@dataclass(frozen=True, slots=True)
class Marketing:
    """The campaign and channel an event is logged with: the touchpoint's INFLUENCED_BY and
    VIA_CHANNEL edges are read from these columns."""

    campaign_id: str | None
    channel: str


def event_marketing(
    *,
    campaign_id: str | None,
    channel: str | None,
    payload: Mapping[str, object],
    source: str,
    source_type: str,
) -> Marketing:
    """The campaign is the campaign id as sent, else the payload's `utm_campaign` (trimmed);
    the channel is the explicit one, else derived (`channels.py`) from `utm_medium`, the
    referrer, the page and the source."""
    context = read_marketing_context(payload)
    campaign = campaign_id if campaign_id is not None else context.utm_campaign
    # Cut, then trim: a cut may end on a space, which a rebuild (reading the column back as the
    # campaign id) would trim into another key.
    campaign = (
        (campaign.strip()[:CAMPAIGN_LENGTH].strip() or None) if campaign is not None else None
    )
    derived = derive_channel(
        channel=channel,
        utm_medium=context.utm_medium,
        referrer=context.referrer,
        page_url=context.page_url,
        source=source,
        source_type=source_type,
    )
    return Marketing(campaign, _settled_channel(derived, source, source_type))


def _settled_channel(channel: str, source: str, source_type: str) -> str:
    """The stored channel is read back as an explicit one by `rebuild`, so it must be a fixed
    point of derivation: cut to the column, derived again as explicit until it stays (a source
    named like a medium, `newsletter`, settles on `email`; a cut ending on `_` loses it)."""
    for _ in range(4):
        cut = channel[:CHANNEL_LENGTH]
        again = derive_channel(
            channel=cut,
            utm_medium=None,
            referrer=None,
            page_url=None,
            source=source,
            source_type=source_type,
        )
        if again == cut:
            return cut
        channel = again
    return channel[:CHANNEL_LENGTH]


def revenue_of(event_type: str, payload: Mapping[str, object]) -> float | None:
    """The revenue an event carries: the first finite number among `REVENUE_FIELDS`, for the
    revenue event types only (a cart's value is not revenue)."""
    if event_type not in REVENUE_EVENT_TYPES:
        return None
    for key in REVENUE_FIELDS:
        value = payload.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    return None


def currency_of(payload: Mapping[str, object]) -> str | None:
    currency = text(payload.get("currency"), strip=True)
    return currency.upper()[:8] if currency is not None else None


@dataclass(frozen=True, slots=True)
class TouchFact:
    """What the graph needs of one stored event (or of a redelivery of one)."""

    event_id: uuid.UUID
    # The profile the event was attributed to; None for provider events with no customer.
    profile_id: uuid.UUID | None
    event_type: str
    occurred_at: datetime
    # When this delivery arrived: a redelivery of a known event refreshes `last_synced_at`.
    received_at: datetime
    campaign_id: str | None
    channel: str
    payload: Mapping[str, object] = field(default_factory=dict)
    # A redelivery of an event already in the log (or earlier in the chunk).
    redelivery: bool = False


@dataclass(frozen=True, slots=True)
class MergeStep:
    """A profile collapse or manual merge, in its place among the chunk's events."""

    from_profile_id: uuid.UUID
    into_profile_id: uuid.UUID


class _Chunk:
    """The graph as a chunk is planned: each customer's current stage, and what it did so far."""

    def __init__(self, stored: Mapping[uuid.UUID, Sequence[StageRow]]) -> None:
        self.plan = GraphPlan()
        self.stage: dict[uuid.UUID, Stage | None] = {
            profile: current_stage(rows) for profile, rows in stored.items()
        }
        self.merged_into: dict[uuid.UUID, uuid.UUID] = {}

    def survivor(self, profile_id: uuid.UUID) -> uuid.UUID:
        while profile_id in self.merged_into:
            profile_id = self.merged_into[profile_id]
        return profile_id

    def share(self, kind: SharedType, key: str, at: datetime, name: str | None = None) -> None:
        known = self.plan.shared.get((kind, key))
        if known is None:
            self.plan.shared[kind, key] = SharedCount(kind, key, 1, at, at, name)
        else:
            known.add(at, name)

    def add(self, fact: TouchFact) -> None:
        if fact.profile_id is None:
            # A touchpoint is a customer's interaction: a provider event with no customer
            # (a catalogue update) has none to belong to.
            return
        if fact.redelivery:
            self.resync(fact)
            return
        self.share("Channel", fact.channel, fact.occurred_at)
        if fact.campaign_id is not None:
            name = text(fact.payload.get("campaign_name"), strip=True)
            self.share("Campaign", fact.campaign_id, fact.occurred_at, name)
        owner = self.survivor(fact.profile_id)
        moved = next_stage(self.stage.get(owner), fact.event_type)
        if moved is None:
            return
        self.stage[owner] = moved
        self.plan.stages[owner] = moved
        self.plan.reached.append(
            StageRow(
                profile_id=owner,
                origin_profile_id=fact.profile_id,
                stage=moved,
                event_id=fact.event_id,
                event_type=fact.event_type,
                occurred_at=fact.occurred_at,
                revenue=revenue_of(fact.event_type, fact.payload),
                currency=currency_of(fact.payload),
            )
        )

    def resync(self, fact: TouchFact) -> None:
        """A redelivered event refreshes its touchpoint's bookkeeping and nothing else: it is
        not a new interaction, so it neither counts again nor moves the customer's stage (a
        redelivered purchase must not read as a repeat purchase)."""
        known = self.plan.resyncs.get(fact.event_id)
        if known is None:
            self.plan.resyncs[fact.event_id] = Resync(fact.event_id, 1, fact.received_at)
        else:
            known.redeliveries += 1
            known.last_synced_at = max(known.last_synced_at, fact.received_at)

    def merge(self, step: MergeStep) -> None:
        shadow = self.survivor(step.from_profile_id)
        target = self.survivor(step.into_profile_id)
        if shadow == target:
            return
        self.merged_into[shadow] = target
        self.plan.moved[shadow] = target
        before = self.stage.get(target)
        stage = later_stage(self.stage.pop(shadow, None), before)
        self.plan.stages.pop(shadow, None)
        self.stage[target] = stage
        if stage is not None and stage != before:
            self.plan.stages[target] = stage

    def finish(self) -> GraphPlan:
        """Rows and moves name the profiles that survive the chunk."""
        plan = self.plan
        plan.moved = {shadow: self.survivor(shadow) for shadow in plan.moved}
        plan.reached = [
            row
            if row.profile_id not in self.merged_into
            else replace(row, profile_id=self.survivor(row.profile_id))
            for row in plan.reached
        ]
        return plan


def plan_chunk(
    stored: Mapping[uuid.UUID, Sequence[StageRow]], steps: Iterable[TouchFact | MergeStep]
) -> GraphPlan:
    """The graph writes of a chunk's events and merges, applied in order, as one plan.

    `stored` holds the stage rows of every profile of the chunk that existed before it (a
    profile the chunk created has none). Events of profiles merged earlier in the chunk count
    for the survivor; a merge moves the shadow's rows to the survivor, whose stage becomes the
    later of the two (not re-derived from the combined history: a merge costs the shadow's
    rows, not the survivor's history).
    """
    chunk = _Chunk(stored)
    for step in steps:
        if isinstance(step, MergeStep):
            chunk.merge(step)
        else:
            chunk.add(step)
    return chunk.finish()
