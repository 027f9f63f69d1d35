"""The funnel and the flows from customers counted at their furthest stage (pure)."""

from __future__ import annotations

import pytest

from journeyline.graph.funnel import Reach, flows, funnel, funnel_row
from journeyline.graph.stages import STAGES


@pytest.mark.parametrize(
    ("at_stage", "reached", "rates"),
    [
        ({}, (0, 0, 0, 0, 0), (None, None, None, None)),
        ({"awareness": 3, "conversion": 1}, (4, 1, 1, 1, 0), (0.25, 1.0, 1.0, 0.0)),
        ({"retention": 2}, (2, 2, 2, 2, 2), (1.0, 1.0, 1.0, 1.0)),
    ],
)
def test_a_stage_counts_everyone_who_got_there_or_further(
    at_stage: dict[str, int], reached: tuple[int, ...], rates: tuple[float | None, ...]
) -> None:
    row = funnel_row(None, at_stage)  # type: ignore[arg-type]  # stage names from STAGES
    assert row.reached == reached
    assert row.rates == rates


def test_the_funnel_keeps_the_stage_order_and_ranks_breakdowns_by_their_top() -> None:
    grouped = [
        Reach("spring", None, "conversion", 1),
        Reach("autumn", None, "awareness", 3),
        Reach(None, None, "interest", 1),
    ]
    result = funnel([Reach(None, None, "awareness", 4)], "campaign", grouped)
    assert result.stages == STAGES
    assert [row.key for row in result.breakdown] == ["autumn", "(none)", "spring"]


def test_flows_balance_at_each_channel_and_list_stages_in_funnel_order() -> None:
    rows = [
        Reach("spring", "email", "retention", 2),
        Reach("spring", "email", "awareness", 1),
        Reach(None, "social", "interest", 1),
        Reach(None, None, "conversion", 5),  # no campaign and no channel: left out
    ]
    result = flows(rows)
    assert [n.id for n in result.nodes if n.column == 2] == [
        "stage:awareness",
        "stage:interest",
        "stage:retention",
    ]
    links = {(link.source, link.target): link.value for link in result.links}
    assert links[("campaign:spring", "channel:email")] == 3
    assert links[("campaign:(none)", "channel:social")] == 1
    assert (
        links[("channel:email", "stage:retention")] + links[("channel:email", "stage:awareness")]
        == 3
    )
