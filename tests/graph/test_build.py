"""Graph building: the marketing columns an event is logged with, and a chunk's events and merges
planned into stage rows, counters and moves (no I/O).

The properties at the end apply plans the way the repository does (moves, then new rows, then
counters summed), so they hold for the plans as persisted: a chunk stores what its steps store
one at a time.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeyline.graph.build import (
    CAMPAIGN_LENGTH,
    CHANNEL_LENGTH,
    Marketing,
    MergeStep,
    TouchFact,
    currency_of,
    event_marketing,
    plan_chunk,
    read_marketing_context,
    revenue_of,
)
from journeyline.graph.plan import GraphPlan, Resync, SharedCount, SharedType
from journeyline.graph.stages import STAGE_BY_EVENT_TYPE, Stage, StageRow, current_stage

T0 = datetime(2026, 11, 22, 10, tzinfo=UTC)
P1, P2, P3, P4 = (uuid.UUID(int=n) for n in range(1, 5))
PROFILES = (P1, P2, P3, P4)
PROPERTY = settings(max_examples=200, deadline=None, database=None)

# An event type that signals each stage, for stored rows.
EVENT_OF: dict[Stage, str] = {
    "awareness": "page_viewed",
    "interest": "identified",
    "consideration": "product_added",
    "conversion": "purchase_completed",
    "retention": "subscription_created",
}


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def event_id(number: int) -> uuid.UUID:
    return uuid.UUID(int=1000 + number)


def fact(
    number: int,
    event_type: str,
    profile_id: uuid.UUID | None = P1,
    *,
    occurred: int | None = None,
    received: int | None = None,
    campaign_id: str | None = None,
    channel: str = "direct",
    payload: Mapping[str, object] | None = None,
    redelivery: bool = False,
) -> TouchFact:
    return TouchFact(
        event_id=event_id(number),
        profile_id=profile_id,
        event_type=event_type,
        occurred_at=at(number if occurred is None else occurred),
        received_at=at(number if received is None else received),
        campaign_id=campaign_id,
        channel=channel,
        payload=payload or {},
        redelivery=redelivery,
    )


def reached(
    number: int,
    stage: Stage,
    profile_id: uuid.UUID = P1,
    origin: uuid.UUID | None = None,
    event_type: str | None = None,
    *,
    revenue: float | None = None,
    currency: str | None = None,
) -> StageRow:
    return StageRow(
        profile_id=profile_id,
        origin_profile_id=profile_id if origin is None else origin,
        stage=stage,
        event_id=event_id(number),
        event_type=EVENT_OF[stage] if event_type is None else event_type,
        occurred_at=at(number),
        revenue=revenue,
        currency=currency,
    )


def stored_at(profile_id: uuid.UUID, stage: Stage) -> list[StageRow]:
    """Stored rows of a profile already at `stage` (from an earlier chunk)."""
    return [reached(-1, stage, profile_id)]


# --- event_marketing ---------------------------------------------------------------------------


def marketing(
    *,
    campaign_id: str | None = None,
    channel: str | None = None,
    payload: Mapping[str, object] | None = None,
    source: str = "web",
    source_type: str = "direct",
) -> Marketing:
    return event_marketing(
        campaign_id=campaign_id,
        channel=channel,
        payload=payload or {},
        source=source,
        source_type=source_type,
    )


@pytest.mark.parametrize(
    ("campaign_id", "payload", "expected"),
    [
        ("spring", {}, "spring"),
        (" spring ", {}, "spring"),
        ("spring", {"utm_campaign": "fall"}, "spring"),
        (None, {"utm_campaign": " fall "}, "fall"),
        ("  ", {}, None),
        (None, {"utm_campaign": "   "}, None),
        (None, {"utm_campaign": 7}, None),
        (None, {}, None),
    ],
)
def test_campaign_is_the_campaign_id_else_utm_campaign_trimmed(
    campaign_id: str | None, payload: dict[str, object], expected: str | None
) -> None:
    assert marketing(campaign_id=campaign_id, payload=payload).campaign_id == expected


@pytest.mark.parametrize(
    ("campaign_id", "payload"),
    [("c" * 300, {}), (None, {"utm_campaign": "u" * 300})],
)
def test_campaign_is_cut_to_its_column_width(
    campaign_id: str | None, payload: dict[str, object]
) -> None:
    campaign = marketing(campaign_id=campaign_id, payload=payload).campaign_id
    assert campaign is not None
    assert len(campaign) == CAMPAIGN_LENGTH


@pytest.mark.parametrize(
    ("channel", "payload", "source", "source_type", "expected"),
    [
        ("Email", {"utm_medium": "cpc"}, "web", "direct", "email"),
        (None, {"utm_medium": "cpc"}, "web", "direct", "paid_search"),
        (
            None,
            {"referrer": "https://t.co/x", "url": "https://shop.example.com/"},
            "web",
            "direct",
            "social",
        ),
        (
            None,
            {"referrer": "https://shop.example.com/a", "url": "https://shop.example.com/b"},
            "web",
            "direct",
            "direct",
        ),
        (None, {}, "api", "internal", "api"),
        (None, {}, "stripe", "external", "stripe"),
        (None, {}, "web", "direct", "direct"),
    ],
)
def test_channel_is_the_explicit_one_else_derived(
    channel: str | None,
    payload: dict[str, object],
    source: str,
    source_type: str,
    expected: str,
) -> None:
    derived = marketing(channel=channel, payload=payload, source=source, source_type=source_type)
    assert derived.channel == expected


@pytest.mark.parametrize(
    ("channel", "source"),
    [("x" * 150, "web"), (None, "s" * 150)],
)
def test_channel_is_cut_to_its_column_width(channel: str | None, source: str) -> None:
    assert len(marketing(channel=channel, source=source).channel) == CHANNEL_LENGTH


# Realistic inputs; the rebuild feeds the stored columns back in as the explicit values.
SOURCES = ("web", "api", "webhook", "stripe", "shopify", "hotmart", "typeform", "Partner App")
SOURCE_TYPES = ("direct", "internal", "external")
MEDIA = (None, "cpc", "Paid Social", "e-mail", "newsletter", "podcast", "  ")
REFERRERS = (None, "https://t.co/x", "https://www.google.com.br/", "https://blog.example.org/")
EXPLICIT = (None, "Email", "WhatsApp", "--", "Paid Search", "affiliates")


@PROPERTY
@given(
    st.sampled_from(EXPLICIT),
    st.sampled_from(MEDIA),
    st.sampled_from(REFERRERS),
    st.sampled_from(SOURCES),
    st.sampled_from(SOURCE_TYPES),
    st.sampled_from([None, "spring", " fall ", "c" * 300]),
)
def test_feeding_the_stored_columns_back_gives_the_same_marketing(
    channel: str | None,
    utm_medium: str | None,
    referrer: str | None,
    source: str,
    source_type: str,
    campaign_id: str | None,
) -> None:
    payload: dict[str, object] = {"url": "https://shop.example.com/"}
    payload |= {"utm_medium": utm_medium} if utm_medium is not None else {}
    payload |= {"referrer": referrer} if referrer is not None else {}
    first = marketing(
        campaign_id=campaign_id,
        channel=channel,
        payload=payload,
        source=source,
        source_type=source_type,
    )
    again = marketing(
        campaign_id=first.campaign_id,
        channel=first.channel,
        payload=payload,
        source=source,
        source_type=source_type,
    )
    assert again == first


# The stored channel and campaign derive themselves again (rebuild reads them back as explicit).


@pytest.mark.parametrize("source", ["newsletter", "e-mail", "organic"])
def test_a_source_named_like_a_medium_keeps_its_channel_when_fed_back(source: str) -> None:
    first = marketing(source=source)
    assert marketing(channel=first.channel, source=source) == first


def test_a_channel_cut_at_a_separator_keeps_its_value_when_fed_back() -> None:
    first = marketing(channel="a" * (CHANNEL_LENGTH - 1) + " b")
    assert marketing(channel=first.channel) == first


def test_a_campaign_cut_at_a_space_keeps_its_key_when_fed_back() -> None:
    first = marketing(campaign_id="c" * (CAMPAIGN_LENGTH - 1) + " d")
    assert marketing(campaign_id=first.campaign_id, channel=first.channel) == first


def test_read_marketing_context_takes_the_trackers_top_level_fields() -> None:
    context = read_marketing_context(
        {
            "utm_campaign": " spring ",
            "utm_medium": "cpc",
            "referrer": "https://t.co/x",
            "url": "https://shop.example.com/",
            "extra": 1,
        }
    )
    assert (context.utm_campaign, context.utm_medium, context.referrer, context.page_url) == (
        "spring",
        "cpc",
        "https://t.co/x",
        "https://shop.example.com/",
    )


@pytest.mark.parametrize("payload", [{"utm_medium": 3}, {"utm_medium": ""}, {"utm_medium": " "}])
def test_read_marketing_context_ignores_blank_and_non_text_fields(
    payload: dict[str, object],
) -> None:
    assert read_marketing_context(payload).utm_medium is None


@pytest.mark.parametrize(
    ("event_type", "payload", "expected"),
    [
        ("purchase_completed", {"amount": 10}, 10.0),
        ("purchase_completed", {"revenue": 7.5, "amount": 10}, 7.5),
        ("subscription_created", {"total": 20.25}, 20.25),
        ("purchase_completed", {"amount": "10"}, None),
        ("purchase_completed", {"amount": True}, None),
        ("purchase_completed", {"amount": float("nan"), "value": 3}, 3.0),
        ("purchase_completed", {"amount": float("inf")}, None),
        ("purchase_abandoned", {"cart_value": 50, "amount": 50}, None),
    ],
)
def test_revenue_of(event_type: str, payload: dict[str, object], expected: float | None) -> None:
    assert revenue_of(event_type, payload) == expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"currency": "usd"}, "USD"),
        ({"currency": " brl "}, "BRL"),
        ({"currency": "averylongcode"}, "AVERYLON"),
        ({"currency": ""}, None),
        ({"currency": 840}, None),
        ({}, None),
    ],
)
def test_currency_of(payload: dict[str, object], expected: str | None) -> None:
    assert currency_of(payload) == expected


# --- stages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "stage"),
    [
        ("page_viewed", "awareness"),
        ("email_opened", "awareness"),
        ("form_submitted", "interest"),
        ("checkout_started", "consideration"),
        ("purchase_completed", "conversion"),
        ("subscription_created", "retention"),
    ],
)
def test_an_event_moves_a_new_customer_to_the_stage_its_type_signals(
    event_type: str, stage: Stage
) -> None:
    plan = plan_chunk({}, [fact(1, event_type)])
    assert plan.reached == [reached(1, stage, event_type=event_type)]
    assert plan.stages == {P1: stage}


@pytest.mark.parametrize("event_type", ["sentiment_detected", "order_refunded", "product_removed"])
def test_an_event_outside_the_funnel_reaches_no_stage(event_type: str) -> None:
    plan = plan_chunk({}, [fact(1, event_type)])
    assert (plan.reached, plan.stages) == ([], {})


def test_a_chunk_reaches_each_later_stage_once_in_event_order() -> None:
    steps = [
        fact(1, "page_viewed"),
        fact(2, "product_added"),
        fact(3, "page_viewed"),
        fact(4, "identified"),
        fact(5, "purchase_completed"),
    ]
    plan = plan_chunk({}, steps)
    assert [(row.stage, row.event_id) for row in plan.reached] == [
        ("awareness", event_id(1)),
        ("consideration", event_id(2)),
        ("conversion", event_id(5)),
    ]
    assert plan.stages == {P1: "conversion"}


@pytest.mark.parametrize("event_type", ["page_viewed", "identified", "checkout_started"])
def test_a_stored_stage_never_moves_backwards(event_type: str) -> None:
    plan = plan_chunk({P1: stored_at(P1, "consideration")}, [fact(1, event_type)])
    assert (plan.reached, plan.stages) == ([], {})


def test_a_repeat_purchase_of_a_converted_customer_is_retention() -> None:
    plan = plan_chunk({P1: stored_at(P1, "conversion")}, [fact(1, "purchase_completed")])
    assert plan.reached == [reached(1, "retention", event_type="purchase_completed")]
    assert plan.stages == {P1: "retention"}


def test_a_second_purchase_in_the_chunk_is_retention() -> None:
    plan = plan_chunk({}, [fact(1, "purchase_completed"), fact(2, "purchase_completed")])
    assert [row.stage for row in plan.reached] == ["conversion", "retention"]


def test_a_reached_row_carries_its_events_revenue_and_currency() -> None:
    purchase = fact(1, "purchase_completed", payload={"amount": 99.5, "currency": "usd"})
    plan = plan_chunk({}, [purchase])
    assert plan.reached == [reached(1, "conversion", revenue=99.5, currency="USD")]


# --- redeliveries ----------------------------------------------------------------------------


def test_a_redelivered_purchase_neither_moves_the_stage_nor_counts_a_touchpoint() -> None:
    redelivered = fact(1, "purchase_completed", received=60, campaign_id="spring", redelivery=True)
    plan = plan_chunk({P1: stored_at(P1, "conversion")}, [redelivered])
    assert (plan.reached, plan.stages, plan.shared) == ([], {}, {})
    assert plan.resyncs == {event_id(1): Resync(event_id(1), 1, at(60))}


def test_a_redelivery_of_a_customer_with_no_stage_reaches_none() -> None:
    plan = plan_chunk({}, [fact(1, "page_viewed", redelivery=True)])
    assert (plan.reached, plan.stages) == ([], {})


def test_redeliveries_of_an_event_add_up_keeping_the_latest_sync_time() -> None:
    steps = [
        fact(1, "page_viewed"),
        fact(1, "page_viewed", received=30, redelivery=True),
        fact(1, "page_viewed", received=10, redelivery=True),
        fact(2, "page_viewed", received=5, redelivery=True),
    ]
    plan = plan_chunk({}, steps)
    assert plan.resyncs == {
        event_id(1): Resync(event_id(1), 2, at(30)),
        event_id(2): Resync(event_id(2), 1, at(5)),
    }


def test_an_event_and_its_redelivery_in_one_chunk_count_one_touchpoint() -> None:
    plan = plan_chunk({}, [fact(1, "page_viewed"), fact(1, "page_viewed", redelivery=True)])
    assert plan.shared == {("Channel", "direct"): SharedCount("Channel", "direct", 1, at(1), at(1))}


@pytest.mark.parametrize("redelivery", [False, True])
def test_an_event_with_no_profile_plans_nothing(redelivery: bool) -> None:
    steps = [fact(1, "purchase_completed", None, campaign_id="spring", redelivery=redelivery)]
    plan = plan_chunk({}, steps)
    assert plan == GraphPlan()
    assert not plan


# --- campaign and channel counters -----------------------------------------------------------


def test_channel_counters_are_one_per_key_with_count_and_first_and_last_seen() -> None:
    steps = [
        fact(1, "page_viewed", P1, occurred=5, channel="email"),
        fact(2, "page_viewed", P2, occurred=2, channel="email"),
        fact(3, "sentiment_detected", P1, occurred=9, channel="email"),
        fact(4, "page_viewed", P2, occurred=3),
    ]
    plan = plan_chunk({}, steps)
    assert plan.shared == {
        ("Channel", "email"): SharedCount("Channel", "email", 3, at(2), at(9)),
        ("Channel", "direct"): SharedCount("Channel", "direct", 1, at(3), at(3)),
    }


def test_a_campaign_counter_counts_the_touchpoints_of_its_campaign() -> None:
    steps = [
        fact(1, "page_viewed", P1, campaign_id="spring"),
        fact(2, "page_viewed", P2, campaign_id="spring"),
        fact(3, "page_viewed", P1, campaign_id="fall"),
        fact(4, "page_viewed", P1),
    ]
    campaigns = {k: v for k, v in plan_chunk({}, steps).shared.items() if k[0] == "Campaign"}
    assert campaigns == {
        ("Campaign", "spring"): SharedCount("Campaign", "spring", 2, at(1), at(2)),
        ("Campaign", "fall"): SharedCount("Campaign", "fall", 1, at(3), at(3)),
    }


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["Spring"], "Spring"),
        (["Spring", None], "Spring"),
        ([None, "Spring sale"], "Spring sale"),
        (["Spring", "Spring sale"], "Spring sale"),
        (["  "], None),
        ([None, None], None),
    ],
)
def test_a_campaign_counter_takes_the_last_name_its_touchpoints_give(
    names: list[str | None], expected: str | None
) -> None:
    steps = [
        fact(
            n, "page_viewed", campaign_id="spring", payload={"campaign_name": name} if name else {}
        )
        for n, name in enumerate(names)
    ]
    assert plan_chunk({}, steps).shared["Campaign", "spring"].name == expected


# --- merges ----------------------------------------------------------------------------------


def test_events_after_a_merge_in_the_chunk_count_for_the_survivor() -> None:
    steps: list[TouchFact | MergeStep] = [
        fact(1, "page_viewed", P2),
        MergeStep(P2, P1),
        fact(2, "form_submitted", P2),
    ]
    plan = plan_chunk({}, steps)
    assert plan.reached == [
        reached(1, "awareness", P1, origin=P2),
        reached(2, "interest", P1, origin=P2, event_type="form_submitted"),
    ]
    assert plan.moved == {P2: P1}
    assert plan.stages == {P1: "interest"}


@pytest.mark.parametrize(
    ("shadow", "survivor", "changed"),
    [
        ("interest", "awareness", {P1: "interest"}),
        ("consideration", None, {P1: "consideration"}),
        ("awareness", "conversion", {}),
        ("interest", "interest", {}),
        (None, "awareness", {}),
    ],
)
def test_a_merge_gives_the_survivor_the_later_stage(
    shadow: Stage | None, survivor: Stage | None, changed: dict[uuid.UUID, Stage]
) -> None:
    stored = {
        **({P2: stored_at(P2, shadow)} if shadow else {}),
        **({P1: stored_at(P1, survivor)} if survivor else {}),
    }
    plan = plan_chunk(stored, [MergeStep(P2, P1)])
    assert plan.stages == changed
    assert plan.moved == {P2: P1}
    assert plan.reached == []


def test_a_merge_keeps_counting_stages_from_the_later_stage() -> None:
    stored = {P2: stored_at(P2, "consideration")}
    plan = plan_chunk(
        stored, [MergeStep(P2, P1), fact(1, "identified"), fact(2, "checkout_started")]
    )
    assert plan.reached == []
    assert plan.stages == {P1: "consideration"}


@pytest.mark.parametrize(
    ("steps", "moved"),
    [
        ([MergeStep(P1, P1)], {}),
        ([MergeStep(P2, P1), MergeStep(P2, P1)], {P2: P1}),
        ([MergeStep(P2, P1), MergeStep(P1, P2)], {P2: P1}),
    ],
)
def test_a_merge_into_its_own_survivor_moves_nothing(
    steps: list[MergeStep], moved: dict[uuid.UUID, uuid.UUID]
) -> None:
    plan = plan_chunk({P1: stored_at(P1, "interest")}, steps)
    assert (plan.moved, plan.stages) == (moved, {})


def test_moved_maps_each_merged_profile_to_the_final_survivor() -> None:
    steps = [MergeStep(P3, P2), MergeStep(P2, P1), MergeStep(P4, P3)]
    assert plan_chunk({}, steps).moved == {P3: P1, P2: P1, P4: P1}


def test_rows_of_a_profile_merged_later_name_the_final_survivor_and_keep_their_origin() -> None:
    steps: list[TouchFact | MergeStep] = [
        fact(1, "page_viewed", P3),
        fact(2, "identified", P2),
        MergeStep(P3, P2),
        MergeStep(P2, P1),
    ]
    plan = plan_chunk({}, steps)
    assert plan.reached == [
        reached(1, "awareness", P1, origin=P3),
        reached(2, "interest", P1, origin=P2),
    ]


def test_plan_stages_hold_only_surviving_profiles() -> None:
    steps: list[TouchFact | MergeStep] = [
        fact(1, "page_viewed", P3),
        fact(2, "identified", P2),
        MergeStep(P3, P2),
        MergeStep(P2, P1),
    ]
    assert plan_chunk({}, steps).stages == {P1: "interest"}


# --- the persistence contract, as properties -------------------------------------------------


SharedKey = tuple[SharedType, str]


@dataclass(frozen=True)
class Stored:
    """What the repository holds after applying plans."""

    rows: tuple[StageRow, ...] = ()
    shared: tuple[tuple[SharedKey, SharedCount], ...] = ()
    resyncs: tuple[tuple[uuid.UUID, Resync], ...] = ()

    def by_profile(self) -> dict[uuid.UUID, list[StageRow]]:
        found: dict[uuid.UUID, list[StageRow]] = {}
        for row in self.rows:
            found.setdefault(row.profile_id, []).append(row)
        return found


def applied(stored: Stored, plan: GraphPlan) -> Stored:
    """A plan applied as GraphRepository does: moves, new rows, counters added (min/max seen,
    the name coalesced), re-syncs added (max last_synced_at)."""
    rows = [
        replace(row, profile_id=plan.moved[row.profile_id]) if row.profile_id in plan.moved else row
        for row in stored.rows
    ]
    shared = dict(stored.shared)
    for key, count in plan.shared.items():
        known = shared.get(key)
        shared[key] = (
            replace(count)
            if known is None
            else SharedCount(
                count.type,
                count.key,
                known.touchpoints + count.touchpoints,
                min(known.first_seen_at, count.first_seen_at),
                max(known.last_seen_at, count.last_seen_at),
                count.name if count.name is not None else known.name,
            )
        )
    resyncs = dict(stored.resyncs)
    for event, resync in plan.resyncs.items():
        old = resyncs.get(event)
        resyncs[event] = (
            replace(resync)
            if old is None
            else Resync(
                event,
                old.redeliveries + resync.redeliveries,
                max(old.last_synced_at, resync.last_synced_at),
            )
        )
    return Stored(
        (*rows, *plan.reached),
        tuple(sorted(shared.items())),
        tuple(sorted(resyncs.items())),
    )


def row_order(row: StageRow) -> tuple[int, str]:
    return (row.origin_profile_id.int, row.stage)


EVENT_TYPES = [*STAGE_BY_EVENT_TYPE, "email_opened", "sentiment_detected", "order_refunded"]


@st.composite
def chunks(draw: st.DrawFn) -> list[TouchFact | MergeStep]:
    """Steps as the projection hands them over: events of profiles alive at the time (a merged
    profile sends no more events), redeliveries of earlier events, merges between alive ones."""
    alive = list(PROFILES)
    steps: list[TouchFact | MergeStep] = []
    facts: list[TouchFact] = []
    for number in range(draw(st.integers(0, 16))):
        kind = draw(st.sampled_from(["event", "event", "event", "redelivery", "merge"]))
        if kind == "merge" and len(alive) > 1:
            shadow = draw(st.sampled_from(alive))
            target = draw(st.sampled_from([p for p in alive if p != shadow]))
            alive.remove(shadow)
            steps.append(MergeStep(shadow, target))
            continue
        if kind == "redelivery" and facts:
            original = draw(st.sampled_from(facts))
            steps.append(
                replace(original, received_at=at(draw(st.integers(0, 90))), redelivery=True)
            )
            continue
        name = draw(st.sampled_from([None, "Spring", "Fall"]))
        new = fact(
            number,
            draw(st.sampled_from(EVENT_TYPES)),
            draw(st.sampled_from([*alive, None])),
            occurred=draw(st.integers(0, 60)),
            channel=draw(st.sampled_from(["direct", "email", "social"])),
            campaign_id=draw(st.sampled_from([None, "spring", "fall"])),
            payload={"campaign_name": name} if name else {},
        )
        facts.append(new)
        steps.append(new)
    return steps


def stored_chunked(steps: Sequence[TouchFact | MergeStep]) -> Stored:
    return applied(Stored(), plan_chunk({}, steps))


def stored_one_at_a_time(steps: Sequence[TouchFact | MergeStep]) -> Stored:
    stored = Stored()
    for step in steps:
        stored = applied(stored, plan_chunk(stored.by_profile(), [step]))
    return stored


@PROPERTY
@given(chunks())
def test_a_chunk_stores_the_stage_rows_its_steps_store_one_at_a_time(
    steps: list[TouchFact | MergeStep],
) -> None:
    chunked, stepped = stored_chunked(steps), stored_one_at_a_time(steps)
    assert sorted(chunked.rows, key=row_order) == sorted(stepped.rows, key=row_order)


@PROPERTY
@given(chunks())
def test_a_chunk_adds_the_counters_its_steps_add_one_at_a_time(
    steps: list[TouchFact | MergeStep],
) -> None:
    chunked, stepped = stored_chunked(steps), stored_one_at_a_time(steps)
    assert (chunked.shared, chunked.resyncs) == (stepped.shared, stepped.resyncs)


@PROPERTY
@given(chunks())
def test_a_profile_reaches_each_stage_at_most_once(steps: list[TouchFact | MergeStep]) -> None:
    """The stage table's key is (origin profile, stage): a plan must never repeat one."""
    rows = stored_chunked(steps).rows
    assert len({(row.origin_profile_id, row.stage) for row in rows}) == len(rows)


@PROPERTY
@given(chunks())
def test_plan_stages_are_the_changed_survivors_current_stages(
    steps: list[TouchFact | MergeStep],
) -> None:
    plan = plan_chunk({}, steps)
    by_profile = applied(Stored(), plan).by_profile()
    assert plan.stages == {
        profile: stage
        for profile, rows in by_profile.items()
        if (stage := current_stage(rows)) is not None
    }
