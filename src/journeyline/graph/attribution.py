"""Multi-touch attribution: each conversion's credit and revenue shared among the campaigns and
channels of the touchpoints before it (pure).

Decisions:

- A conversion's touches are its customer's touchpoints at or before the conversion time
  (within `lookback` when given), *excluding the conversion's own touchpoint* (same event id)
  in every model: a purchase cannot be credited to itself, or last touch would always name the
  payment provider's channel.
- Touches at the same instant are ordered by event id (ingestion order), then campaign and
  channel, so first and last touch are well defined.
- A touch without a campaign credits the campaign bucket `(none)`; a conversion with no touch at
  all credits `(none)` in both breakdowns (not `direct`, which is a real derived channel: a
  visit with no referrer). So every conversion's credit sums to 1 in each breakdown, the credits
  sum to `conversions`, and the revenue credited sums to `revenue`; `attributed_conversions`
  counts the conversions that had at least one touch.
- Sums use `math.fsum`, which is exactly rounded, so the result does not depend on the order
  of the input.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from journeyline.errors import InvalidPayload
from journeyline.graph.stages import StageRow

AttributionModel = Literal["first_touch", "last_touch", "linear", "time_decay"]
MODELS: tuple[AttributionModel, ...] = get_args(AttributionModel)
DEFAULT_HALF_LIFE = timedelta(days=7)
NO_CAMPAIGN = "(none)"
NO_CHANNEL = "(none)"


@dataclass(frozen=True, slots=True)
class Touch:
    """One touchpoint of a customer, as attribution sees it."""

    occurred_at: datetime
    campaign_id: str | None = None
    channel: str | None = None
    event_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Conversion:
    customer_id: uuid.UUID
    occurred_at: datetime
    revenue: float = 0.0
    # The conversion's own touchpoint (the purchase event), never one of its touches.
    event_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Credit:
    """A campaign's or channel's share: `credit` in conversions, `revenue` in money."""

    key: str
    credit: float
    revenue: float


@dataclass(frozen=True, slots=True)
class Attribution:
    model: AttributionModel
    conversions: int
    attributed_conversions: int
    revenue: float
    campaigns: tuple[Credit, ...]
    channels: tuple[Credit, ...]

    def as_json(self) -> dict[str, object]:
        """The shape of `GET /v1/intelligence/attribution` (API.md)."""
        return {
            "model": self.model,
            "conversions": self.conversions,
            "attributed_conversions": self.attributed_conversions,
            "revenue": self.revenue,
            "campaigns": [
                {"campaign_id": c.key, "credit": c.credit, "revenue": c.revenue}
                for c in self.campaigns
            ],
            "channels": [
                {"channel": c.key, "credit": c.credit, "revenue": c.revenue} for c in self.channels
            ],
        }


def parse_model(value: str) -> AttributionModel:
    """`value` as an attribution model, or a 422 naming the `model` field."""
    for model in MODELS:
        if value == model:
            return model
    raise InvalidPayload(f"model must be one of {', '.join(MODELS)}", field="model")


def _touch_order(touch: Touch) -> tuple[datetime, str, str, str]:
    return (
        touch.occurred_at,
        str(touch.event_id or ""),
        touch.campaign_id or "",
        touch.channel or "",
    )


def eligible_touches(
    conversion: Conversion, touches: Iterable[Touch], lookback: timedelta | None = None
) -> list[Touch]:
    """The touches that may share `conversion`'s credit, oldest first."""
    since = None if lookback is None else conversion.occurred_at - lookback
    return sorted(
        (
            touch
            for touch in touches
            if touch.occurred_at <= conversion.occurred_at
            and (since is None or touch.occurred_at >= since)
            and (conversion.event_id is None or touch.event_id != conversion.event_id)
        ),
        key=_touch_order,
    )


def touch_shares(
    model: AttributionModel,
    touches: Sequence[Touch],
    converted_at: datetime,
    half_life: timedelta = DEFAULT_HALF_LIFE,
) -> list[float]:
    """Each touch's share of one conversion (oldest first, summing to 1; empty for no touch)."""
    if not touches:
        return []
    count = len(touches)
    if model == "first_touch":
        return [1.0] + [0.0] * (count - 1)
    if model == "last_touch":
        return [0.0] * (count - 1) + [1.0]
    if model == "linear":
        return [1.0 / count] * count
    # time_decay: weight 2^(-(t_conv - t_touch) / half_life). Measuring the age from the latest
    # touch instead of the conversion scales every weight by the same factor, which the
    # normalization cancels, and keeps the latest weight at 1 so that old touches cannot all
    # underflow to 0.
    latest = max(touch.occurred_at for touch in touches)
    weights = [2.0 ** (-((latest - touch.occurred_at) / half_life)) for touch in touches]
    total = math.fsum(weights)
    return [weight / total for weight in weights]


def _credits(
    shares: Mapping[str, list[float]], revenues: Mapping[str, list[float]]
) -> tuple[Credit, ...]:
    credits = [Credit(key, math.fsum(shares[key]), math.fsum(revenues[key])) for key in shares]
    return tuple(sorted(credits, key=lambda c: (-c.credit, -c.revenue, c.key)))


def attribute(
    conversions: Iterable[Conversion],
    touches: Mapping[uuid.UUID, Sequence[Touch]],
    model: AttributionModel,
    *,
    half_life: timedelta = DEFAULT_HALF_LIFE,
    lookback: timedelta | None = None,
) -> Attribution:
    """Share every conversion among its customer's touches (`touches` by customer id) by
    `model`; results ordered by credit, then revenue (both descending), then key."""
    if model not in MODELS:
        raise InvalidPayload(f"model must be one of {', '.join(MODELS)}", field="model")
    if half_life <= timedelta(0):
        raise InvalidPayload("half_life must be positive", field="half_life")
    campaign_shares: dict[str, list[float]] = defaultdict(list)
    campaign_revenue: dict[str, list[float]] = defaultdict(list)
    channel_shares: dict[str, list[float]] = defaultdict(list)
    channel_revenue: dict[str, list[float]] = defaultdict(list)
    count = attributed = 0
    revenues: list[float] = []
    for conversion in conversions:
        count += 1
        revenues.append(conversion.revenue)
        eligible = eligible_touches(conversion, touches.get(conversion.customer_id, ()), lookback)
        shares = touch_shares(model, eligible, conversion.occurred_at, half_life)
        credited: list[tuple[str, str, float]] = [
            (touch.campaign_id or NO_CAMPAIGN, touch.channel or NO_CHANNEL, share)
            for touch, share in zip(eligible, shares, strict=True)
            # First and last touch leave the other touches at 0: they are not listed.
            if share > 0.0
        ]
        if credited:
            attributed += 1
        else:
            credited = [(NO_CAMPAIGN, NO_CHANNEL, 1.0)]
        for campaign, channel, share in credited:
            campaign_shares[campaign].append(share)
            campaign_revenue[campaign].append(share * conversion.revenue)
            channel_shares[channel].append(share)
            channel_revenue[channel].append(share * conversion.revenue)
    return Attribution(
        model=model,
        conversions=count,
        attributed_conversions=attributed,
        revenue=math.fsum(revenues),
        campaigns=_credits(campaign_shares, campaign_revenue),
        channels=_credits(channel_shares, channel_revenue),
    )


def conversions_of(
    rows: Iterable[StageRow],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Conversion]:
    """The conversions into a stage, from its stage rows (all of one stage): a customer's is
    the row that moved it there (the earliest, if a merge brought two), at `since <=
    occurred_at < until`, worth the revenue of its event."""
    first = contributors_by_customer(rows)
    return [
        Conversion(row.profile_id, row.occurred_at, row.revenue or 0.0, row.event_id)
        for row in first.values()
        if (since is None or row.occurred_at >= since)
        and (until is None or row.occurred_at < until)
    ]


def contributors_by_customer(rows: Iterable[StageRow]) -> dict[uuid.UUID, StageRow]:
    """For rows of one stage: each customer's earliest."""
    first: dict[uuid.UUID, StageRow] = {}
    for row in rows:
        known = first.get(row.profile_id)
        if known is None or (row.occurred_at, row.event_id) < (known.occurred_at, known.event_id):
            first[row.profile_id] = row
    return first
