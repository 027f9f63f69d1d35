"""The funnel and the campaign → channel → stage flows, from customers counted by their
furthest stage (pure). Stages are always in the funnel's order (`STAGES`), never by name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from journeyline.graph.stages import STAGES, Stage

Breakdown = Literal["campaign", "channel"]
BREAKDOWNS: tuple[Breakdown, ...] = ("campaign", "channel")
# A touchpoint without a campaign (or a channel) still flows: under this key.
NONE_KEY = "(none)"


@dataclass(frozen=True, slots=True)
class Reach:
    """Customers with a touchpoint of (campaign, channel) whose furthest stage is `stage`."""

    campaign: str | None
    channel: str | None
    stage: Stage
    customers: int


@dataclass(frozen=True, slots=True)
class FunnelRow:
    """One funnel: per stage, the customers who reached it or a later one (a customer who
    bought without a recorded visit still passed awareness), and the rate from each stage to
    the next (None after a stage nobody reached)."""

    key: str | None  # the campaign or channel; None for everyone
    reached: tuple[int, ...]
    rates: tuple[float | None, ...]

    def as_json(self) -> dict[str, object]:
        return {"key": self.key, "reached": list(self.reached), "rates": list(self.rates)}


@dataclass(frozen=True, slots=True)
class Funnel:
    stages: tuple[Stage, ...]
    total: FunnelRow
    by: Breakdown | None
    breakdown: tuple[FunnelRow, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "stages": list(self.stages),
            "total": self.total.as_json(),
            "by": self.by,
            "breakdown": [row.as_json() for row in self.breakdown],
        }


def funnel_row(key: str | None, at_stage: Mapping[Stage, int]) -> FunnelRow:
    """The funnel of customers counted at their furthest stage: each stage's count is its own
    plus every later one's."""
    reached: list[int] = []
    running = 0
    for stage in reversed(STAGES):
        running += at_stage.get(stage, 0)
        reached.append(running)
    reached.reverse()
    rates = tuple(
        round(reached[at + 1] / reached[at], 4) if reached[at] else None
        for at in range(len(STAGES) - 1)
    )
    return FunnelRow(key, tuple(reached), rates)


def funnel(
    total: Iterable[Reach], by: Breakdown | None, grouped: Iterable[Reach], limit: int = 12
) -> Funnel:
    """The whole funnel, and one per campaign or channel (the `limit` widest at the top of
    the funnel, then by key), from `Reach` rows grouped by that dimension alone."""
    everyone: dict[Stage, int] = {}
    for row in total:
        everyone[row.stage] = everyone.get(row.stage, 0) + row.customers
    per_key: dict[str, dict[Stage, int]] = {}
    if by is not None:
        for row in grouped:
            key = (row.campaign if by == "campaign" else row.channel) or NONE_KEY
            counts = per_key.setdefault(key, {})
            counts[row.stage] = counts.get(row.stage, 0) + row.customers
    rows = [funnel_row(key, counts) for key, counts in per_key.items()]
    rows.sort(key=lambda row: (-row.reached[0], row.key or ""))
    return Funnel(STAGES, funnel_row(None, everyone), by, tuple(rows[:limit]))


@dataclass(frozen=True, slots=True)
class FlowNode:
    id: str  # unique across the three columns: "campaign:spring", "channel:email", "stage:…"
    label: str
    column: int  # 0 campaigns, 1 channels, 2 stages


@dataclass(frozen=True, slots=True)
class FlowLink:
    source: str
    target: str
    value: int


@dataclass(frozen=True, slots=True)
class Flows:
    """campaign → channel → furthest stage. A link's width counts (customer, campaign,
    channel) combinations, so what enters a channel is exactly what leaves it."""

    nodes: tuple[FlowNode, ...]
    links: tuple[FlowLink, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "nodes": [{"id": n.id, "label": n.label, "column": n.column} for n in self.nodes],
            "links": [
                {"source": k.source, "target": k.target, "value": k.value} for k in self.links
            ],
        }


def flows(rows: Sequence[Reach]) -> Flows:
    """The flows of touchpoints that carried a campaign or a channel (the rest is traffic no
    campaign explains: it is left out, and the funnel counts it)."""
    campaign_channel: dict[tuple[str, str], int] = {}
    channel_stage: dict[tuple[str, Stage], int] = {}
    for row in rows:
        if row.campaign is None and row.channel is None:
            continue
        campaign, channel = row.campaign or NONE_KEY, row.channel or NONE_KEY
        campaign_channel[(campaign, channel)] = (
            campaign_channel.get((campaign, channel), 0) + row.customers
        )
        channel_stage[(channel, row.stage)] = (
            channel_stage.get((channel, row.stage), 0) + row.customers
        )
    campaigns = sorted({campaign for campaign, _ in campaign_channel})
    channels = sorted({channel for _, channel in campaign_channel})
    stages = [stage for stage in STAGES if any(s == stage for _, s in channel_stage)]
    nodes = (
        *(FlowNode(f"campaign:{key}", key, 0) for key in campaigns),
        *(FlowNode(f"channel:{key}", key, 1) for key in channels),
        *(FlowNode(f"stage:{stage}", stage, 2) for stage in stages),
    )
    links = (
        *(
            FlowLink(f"campaign:{campaign}", f"channel:{channel}", value)
            for (campaign, channel), value in sorted(campaign_channel.items())
        ),
        *(
            FlowLink(f"channel:{channel}", f"stage:{stage}", value)
            for (channel, stage), value in sorted(
                channel_stage.items(), key=lambda item: (item[0][0], STAGES.index(item[0][1]))
            )
        ),
    )
    return Flows(tuple(nodes), tuple(links))
