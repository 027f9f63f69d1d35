"""Funnel stages: the event-type table, monotonic progression, a customer's current stage and
the rows that moved it into each stage (no I/O)."""

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
    Stage,
    StageRow,
    contributors,
    current_stage,
    later_stage,
    next_stage,
    signalled_stage,
)

T0 = datetime(2026, 11, 22, 10, tzinfo=UTC)
ANN, BEN = uuid.UUID(int=1), uuid.UUID(int=2)
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


def stage_row(stage: Stage, minutes: int = 0, event: int = 0, origin: uuid.UUID = ANN) -> StageRow:
    return StageRow(
        profile_id=ANN,
        origin_profile_id=origin,
        stage=stage,
        event_id=uuid.UUID(int=100 + event),
        event_type="x",
        occurred_at=T0 + timedelta(minutes=minutes),
    )


@pytest.mark.parametrize(
    ("stages", "expected"),
    [
        ([], None),
        (["awareness"], "awareness"),
        (["conversion", "awareness"], "conversion"),
        (["interest", "retention", "consideration"], "retention"),
        (["interest", "interest"], "interest"),
    ],
)
def test_current_stage_is_the_furthest_of_the_rows(
    stages: list[Stage], expected: Stage | None
) -> None:
    assert current_stage(stage_row(stage) for stage in stages) == expected


def test_contributors_name_one_row_per_stage_reached() -> None:
    rows = [stage_row("awareness", 0, 1), stage_row("conversion", 5, 2)]
    assert contributors(rows) == {"awareness": rows[0], "conversion": rows[1]}


EARLY = stage_row("awareness", minutes=1, event=9, origin=BEN)
LATE = stage_row("awareness", minutes=2, event=1)
SAME_TIME_LOWER_ID = stage_row("awareness", minutes=1, event=3)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([EARLY, LATE], EARLY),
        ([LATE, EARLY], EARLY),
        ([EARLY, SAME_TIME_LOWER_ID], SAME_TIME_LOWER_ID),
        ([SAME_TIME_LOWER_ID, EARLY], SAME_TIME_LOWER_ID),
    ],
)
def test_the_earliest_row_of_a_stage_contributes_then_the_lower_event_id(
    rows: list[StageRow], expected: StageRow
) -> None:
    """After a merge both sides may have entered a stage: the earlier touchpoint keeps it."""
    assert contributors(rows) == {"awareness": expected}


def test_no_rows_have_no_contributors() -> None:
    assert contributors([]) == {}
