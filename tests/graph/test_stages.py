"""Funnel stages: the event-type table, monotonic progression and replays (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeyline.graph.stages import (
    STAGE_BY_EVENT_TYPE,
    STAGE_RANK,
    STAGES,
    Contribution,
    Stage,
    TouchpointRecord,
    later_stage,
    next_stage,
    replay_stages,
    signalled_stage,
)

T0 = datetime(2026, 11, 22, 10, tzinfo=UTC)
PROPERTY = settings(max_examples=300, deadline=None, database=None)


@pytest.mark.parametrize(
    ("event_type", "expected"),
    [
        ("page_viewed", "awareness"),
        ("product_viewed", "awareness"),
        ("screen_viewed", "awareness"),
        ("campaign_delivered", "awareness"),
        ("campaign_engaged", "awareness"),
        ("email_opened", "awareness"),
        ("banner_clicked", "awareness"),
        ("video_viewed", "awareness"),
        ("identified", "interest"),
        ("form_submitted", "interest"),
        ("conversation_started", "interest"),
        ("product_asked", "interest"),
        ("interest_detected", "interest"),
        ("product_added", "consideration"),
        ("cart_updated", "consideration"),
        ("checkout_started", "consideration"),
        ("discount_requested", "consideration"),
        ("discount_accepted", "consideration"),
        ("purchase_completed", "conversion"),
        ("subscription_created", "retention"),
        ("sentiment_detected", None),
        ("campaign_ignored", None),
        ("purchase_abandoned", None),
        ("product_removed", None),
        ("order_refunded", None),
        ("subscription_cancelled", None),
        ("payment_processed", None),
        ("viewed_later", None),
    ],
)
def test_event_type_signals_its_stage_for_a_new_customer(
    event_type: str, expected: Stage | None
) -> None:
    assert signalled_stage(event_type, None) == expected
    assert next_stage(None, event_type) == expected


@pytest.mark.parametrize(
    ("current", "event_type", "expected"),
    [
        # Forward moves, including jumps over stages.
        ("awareness", "form_submitted", "interest"),
        ("awareness", "purchase_completed", "conversion"),
        ("interest", "subscription_created", "retention"),
        ("consideration", "purchase_completed", "conversion"),
        # A repeat purchase: purchase_completed at conversion or beyond is retention.
        ("conversion", "purchase_completed", "retention"),
        ("retention", "purchase_completed", None),
        # Never backwards, and the same stage again is no move.
        ("interest", "page_viewed", None),
        ("consideration", "identified", None),
        ("conversion", "checkout_started", None),
        ("retention", "subscription_created", None),
        ("awareness", "email_opened", None),
        # Types outside the funnel leave the stage alone.
        ("interest", "sentiment_detected", None),
    ],
)
def test_next_stage_moves_forward_only(
    current: Stage, event_type: str, expected: Stage | None
) -> None:
    assert next_stage(current, event_type) == expected


def test_every_stage_is_reachable_from_the_table() -> None:
    assert set(STAGE_BY_EVENT_TYPE.values()) == set(STAGES)


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        (None, None, None),
        (None, "interest", "interest"),
        ("conversion", None, "conversion"),
        ("awareness", "retention", "retention"),
        ("consideration", "interest", "consideration"),
    ],
)
def test_later_stage_is_the_further_along(
    left: Stage | None, right: Stage | None, expected: Stage | None
) -> None:
    assert later_stage(left, right) == expected


EVENT_TYPES = st.sampled_from(
    [*STAGE_BY_EVENT_TYPE, "email_opened", "link_clicked", "sentiment_detected", "custom_thing"]
)


@PROPERTY
@given(st.lists(EVENT_TYPES, max_size=30))
def test_stage_never_moves_backwards(event_types: list[str]) -> None:
    stage: Stage | None = None
    for event_type in event_types:
        moved = next_stage(stage, event_type)
        if moved is not None:
            assert stage is None or STAGE_RANK[moved] > STAGE_RANK[stage]
            stage = moved


@PROPERTY
@given(st.lists(EVENT_TYPES, max_size=30))
def test_replay_contributes_once_per_stage_entered_in_order(event_types: list[str]) -> None:
    records = [
        TouchpointRecord(uuid.UUID(int=index), event_type, T0 + timedelta(minutes=index))
        for index, event_type in enumerate(event_types)
    ]
    stage, contributions = replay_stages(reversed(records))
    ranks = [STAGE_RANK[c.stage] for c in contributions]
    assert ranks == sorted(set(ranks))
    assert stage == (contributions[-1].stage if contributions else None)


def test_replay_follows_event_id_order_not_the_given_order() -> None:
    first, second = uuid.UUID(int=1), uuid.UUID(int=2)
    records = [
        TouchpointRecord(second, "purchase_completed", T0 + timedelta(hours=1)),
        TouchpointRecord(first, "purchase_completed", T0),
    ]
    assert replay_stages(records) == (
        "retention",
        (
            Contribution("conversion", first, T0),
            Contribution("retention", second, T0 + timedelta(hours=1)),
        ),
    )


def test_replay_of_nothing_has_no_stage() -> None:
    assert replay_stages([]) == (None, ())
