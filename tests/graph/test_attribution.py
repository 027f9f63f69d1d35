"""Attribution models on hand-computed examples, and their invariants (no I/O)."""

from __future__ import annotations

import math
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeyline.errors import InvalidPayload
from journeyline.graph.attribution import (
    MODELS,
    NO_CAMPAIGN,
    NO_CHANNEL,
    Attribution,
    AttributionModel,
    Conversion,
    Credit,
    Touch,
    attribute,
    conversions_of,
    eligible_touches,
    parse_model,
    touch_shares,
)
from journeyline.graph.build import TouchFact, plan_chunk
from journeyline.graph.stages import Stage, StageRow

T0 = datetime(2026, 11, 1, tzinfo=UTC)
ALICE, BOB = uuid.UUID(int=1), uuid.UUID(int=2)
PURCHASE = uuid.UUID(int=100)
PROPERTY = settings(max_examples=200, deadline=None, database=None)


def day(number: float) -> datetime:
    return T0 + timedelta(days=number)


# Alice converts on day 10 for 100.00. Her touchpoints:
#   day 0   campaign a, email            (10 days before)
#   day 3   no campaign, organic_search  (7 days before)
#   day 10  campaign b, paid_search      (same instant as the conversion: counts)
#   day 10  campaign c, stripe           the purchase's own touchpoint: never counts
#   day 11  campaign a, email            after the conversion: never counts
ALICE_TOUCHES = [
    Touch(day(0), "a", "email", uuid.UUID(int=10)),
    Touch(day(3), None, "organic_search", uuid.UUID(int=11)),
    Touch(day(10), "b", "paid_search", uuid.UUID(int=12)),
    Touch(day(10), "c", "stripe", PURCHASE),
    Touch(day(11), "a", "email", uuid.UUID(int=13)),
]
ALICE_CONVERSION = Conversion(ALICE, day(10), 100.0, PURCHASE)

# time_decay, half-life 7 days: weight 2^(-age/7) for ages 10, 7 and 0 days.
W_A, W_NONE, W_B = 2 ** (-10 / 7), 2 ** (-7 / 7), 2 ** (-0 / 7)  # 0.3715, 0.5, 1.0
W_TOTAL = W_A + W_NONE + W_B  # 1.8715

EXPECTED: dict[AttributionModel, dict[str, float]] = {
    "first_touch": {"a": 1.0},
    "last_touch": {"b": 1.0},
    "linear": {"a": 1 / 3, NO_CAMPAIGN: 1 / 3, "b": 1 / 3},
    "time_decay": {"a": W_A / W_TOTAL, NO_CAMPAIGN: W_NONE / W_TOTAL, "b": W_B / W_TOTAL},
}
CHANNEL_OF = {"a": "email", NO_CAMPAIGN: "organic_search", "b": "paid_search"}


@pytest.mark.parametrize("model", MODELS)
def test_hand_computed_example(model: AttributionModel) -> None:
    result = attribute([ALICE_CONVERSION], {ALICE: ALICE_TOUCHES}, model)
    assert (result.model, result.conversions, result.attributed_conversions, result.revenue) == (
        model,
        1,
        1,
        100.0,
    )
    assert {c.key: c.credit for c in result.campaigns} == pytest.approx(EXPECTED[model])
    assert {c.key: c.revenue for c in result.campaigns} == pytest.approx(
        {key: 100.0 * share for key, share in EXPECTED[model].items()}
    )
    assert {c.key: c.credit for c in result.channels} == pytest.approx(
        {CHANNEL_OF[key]: share for key, share in EXPECTED[model].items()}
    )


def test_time_decay_shares_are_the_normalized_weights() -> None:
    # 0.3715 / 1.8715 = 0.1985, 0.5 / 1.8715 = 0.2672, 1 / 1.8715 = 0.5343
    shares = touch_shares("time_decay", ALICE_TOUCHES[:3], day(10))
    assert shares == pytest.approx([0.1985, 0.2672, 0.5343], abs=1e-4)


def test_a_longer_half_life_flattens_time_decay() -> None:
    shares = touch_shares("time_decay", ALICE_TOUCHES[:3], day(10), timedelta(days=70))
    # 2^(-10/70) = 0.9057, 2^(-7/70) = 0.9330, 1; total 2.8387
    assert shares == pytest.approx([0.3191, 0.3287, 0.3523], abs=1e-4)


def test_the_conversions_own_touchpoint_and_later_ones_are_not_touches() -> None:
    eligible = eligible_touches(ALICE_CONVERSION, ALICE_TOUCHES)
    assert [t.event_id for t in eligible] == [uuid.UUID(int=n) for n in (10, 11, 12)]


def test_lookback_drops_older_touches() -> None:
    eligible = eligible_touches(ALICE_CONVERSION, ALICE_TOUCHES, timedelta(days=7))
    assert [t.event_id for t in eligible] == [uuid.UUID(int=11), uuid.UUID(int=12)]


def test_same_instant_touches_are_ordered_by_event_id() -> None:
    first = Touch(day(1), "late-id", "email", uuid.UUID(int=9))
    second = Touch(day(1), "early-id", "social", uuid.UUID(int=8))
    conversion = Conversion(ALICE, day(2), 10.0)
    result = attribute([conversion], {ALICE: [first, second]}, "first_touch")
    assert result.campaigns == (Credit("early-id", 1.0, 10.0),)


@pytest.mark.parametrize("model", MODELS)
def test_a_conversion_with_no_touch_goes_to_the_none_bucket(model: AttributionModel) -> None:
    # Bob converts with nothing before (his only touch comes after).
    conversion = Conversion(BOB, day(5), 50.0)
    result = attribute([conversion], {BOB: [Touch(day(6), "a", "email")]}, model)
    assert (result.conversions, result.attributed_conversions) == (1, 0)
    assert result.campaigns == (Credit(NO_CAMPAIGN, 1.0, 50.0),)
    assert result.channels == (Credit(NO_CHANNEL, 1.0, 50.0),)


def test_results_are_ordered_by_credit_then_revenue_then_key() -> None:
    conversions = [
        Conversion(ALICE, day(10), 10.0),
        Conversion(BOB, day(10), 30.0),
        Conversion(uuid.UUID(int=3), day(10), 30.0),
    ]
    touches = {
        ALICE: [Touch(day(1), "x", "email")],
        BOB: [Touch(day(1), "z", "social")],
        uuid.UUID(int=3): [Touch(day(1), "y", "social")],
    }
    result = attribute(conversions, touches, "last_touch")
    assert [c.key for c in result.campaigns] == ["y", "z", "x"]
    assert [(c.key, c.credit, c.revenue) for c in result.channels] == [
        ("social", 2.0, 60.0),
        ("email", 1.0, 10.0),
    ]


def test_as_json_has_the_api_shape() -> None:
    result = attribute([ALICE_CONVERSION], {ALICE: ALICE_TOUCHES}, "last_touch")
    assert result.as_json() == {
        "model": "last_touch",
        "conversions": 1,
        "attributed_conversions": 1,
        "revenue": 100.0,
        "campaigns": [{"campaign_id": "b", "credit": 1.0, "revenue": 100.0}],
        "channels": [{"channel": "paid_search", "credit": 1.0, "revenue": 100.0}],
    }


def test_no_conversions_attribute_nothing() -> None:
    assert attribute([], {}, "linear") == Attribution("linear", 0, 0, 0.0, (), ())


@pytest.mark.parametrize("model", MODELS)
def test_parse_model_accepts_each_model(model: str) -> None:
    assert parse_model(model) == model


@pytest.mark.parametrize("value", ["", "position_based", "LINEAR"])
def test_parse_model_rejects_others_naming_the_field(value: str) -> None:
    with pytest.raises(InvalidPayload) as raised:
        parse_model(value)
    assert raised.value.field == "model"


def test_a_non_positive_half_life_is_rejected() -> None:
    with pytest.raises(InvalidPayload) as raised:
        attribute([], {}, "time_decay", half_life=timedelta(0))
    assert raised.value.field == "half_life"


# --- invariants ------------------------------------------------------------------------------

CUSTOMERS = [uuid.UUID(int=n) for n in range(1, 4)]
touches_strategy = st.builds(
    Touch,
    occurred_at=st.integers(0, 400 * 24).map(lambda hours: T0 + timedelta(hours=hours)),
    campaign_id=st.sampled_from([None, "a", "b", "c"]),
    channel=st.sampled_from([None, "email", "social", "direct"]),
    event_id=st.one_of(st.none(), st.integers(0, 20).map(lambda n: uuid.UUID(int=n))),
)
conversions_strategy = st.builds(
    Conversion,
    customer_id=st.sampled_from(CUSTOMERS),
    occurred_at=st.integers(0, 400 * 24).map(lambda hours: T0 + timedelta(hours=hours)),
    revenue=st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
    event_id=st.one_of(st.none(), st.integers(0, 20).map(lambda n: uuid.UUID(int=n))),
)
touch_map = st.dictionaries(st.sampled_from(CUSTOMERS), st.lists(touches_strategy, max_size=8))


@PROPERTY
@given(
    st.sampled_from(MODELS),
    st.lists(touches_strategy, min_size=1, max_size=12),
    st.integers(1, 60),
)
def test_shares_of_one_conversion_sum_to_one(
    model: AttributionModel, touches: list[Touch], half_life_days: int
) -> None:
    converted_at = max(t.occurred_at for t in touches)
    shares = touch_shares(model, touches, converted_at, timedelta(days=half_life_days))
    assert len(shares) == len(touches)
    assert all(share >= 0.0 for share in shares)
    assert math.fsum(shares) == pytest.approx(1.0)


@PROPERTY
@given(st.sampled_from(MODELS), st.lists(conversions_strategy, max_size=10), touch_map)
def test_credits_sum_to_conversions_and_revenue_to_total(
    model: AttributionModel, conversions: list[Conversion], touches: dict[uuid.UUID, list[Touch]]
) -> None:
    result = attribute(conversions, touches, model)
    assert result.conversions == len(conversions)
    assert result.revenue == pytest.approx(math.fsum(c.revenue for c in conversions))
    for breakdown in (result.campaigns, result.channels):
        assert math.fsum(c.credit for c in breakdown) == pytest.approx(len(conversions))
        assert math.fsum(c.revenue for c in breakdown) == pytest.approx(
            result.revenue, rel=1e-9, abs=1e-6
        )
        assert all(c.credit > 0.0 for c in breakdown)
    unattributed = sum(
        1 for c in conversions if not eligible_touches(c, touches.get(c.customer_id, []))
    )
    assert result.attributed_conversions == len(conversions) - unattributed


@PROPERTY
@given(st.sampled_from(["first_touch", "last_touch"]), st.lists(conversions_strategy), touch_map)
def test_single_touch_models_give_whole_conversions(
    model: AttributionModel, conversions: list[Conversion], touches: dict[uuid.UUID, list[Touch]]
) -> None:
    result = attribute(conversions, touches, model)
    for credit in (*result.campaigns, *result.channels):
        assert credit.credit == int(credit.credit)


@PROPERTY
@given(
    st.sampled_from(MODELS),
    st.lists(conversions_strategy, max_size=10),
    touch_map,
    st.randoms(use_true_random=False),
)
def test_the_result_does_not_depend_on_input_order(
    model: AttributionModel,
    conversions: list[Conversion],
    touches: dict[uuid.UUID, list[Touch]],
    shuffler: random.Random,
) -> None:
    shuffled_conversions = shuffler.sample(conversions, len(conversions))
    shuffled_touches = {
        customer: shuffler.sample(items, len(items)) for customer, items in touches.items()
    }
    assert attribute(conversions, touches, model) == attribute(
        shuffled_conversions, shuffled_touches, model
    )


# --- conversions from the stage rows --------------------------------------------------------


def conversion_row(
    customer: uuid.UUID,
    at_day: float,
    number: int,
    *,
    origin: uuid.UUID | None = None,
    revenue: float | None = None,
    stage: Stage = "conversion",
) -> StageRow:
    return StageRow(
        profile_id=customer,
        origin_profile_id=customer if origin is None else origin,
        stage=stage,
        event_id=uuid.UUID(int=number),
        event_type="purchase_completed",
        occurred_at=day(at_day),
        revenue=revenue,
        currency=None if revenue is None else "USD",
    )


def test_a_conversion_is_its_rows_customer_time_revenue_and_event() -> None:
    rows = [conversion_row(ALICE, 2, 20, revenue=100.0)]
    assert conversions_of(rows) == [Conversion(ALICE, day(2), 100.0, uuid.UUID(int=20))]


def test_a_conversion_without_revenue_is_worth_nothing() -> None:
    [conversion] = conversions_of([conversion_row(ALICE, 2, 20)])
    assert conversion.revenue == 0.0


@pytest.mark.parametrize(
    "rows",
    [
        [conversion_row(ALICE, 5, 1, origin=BOB), conversion_row(ALICE, 2, 20)],
        [conversion_row(ALICE, 2, 20), conversion_row(ALICE, 5, 1, origin=BOB)],
        [conversion_row(ALICE, 2, 30, origin=BOB), conversion_row(ALICE, 2, 20)],
    ],
)
def test_a_merged_customer_converts_once_at_its_earliest_row(rows: list[StageRow]) -> None:
    """Both sides of a merge converted: the earlier (then the lower event id) is the one."""
    assert [(c.customer_id, c.event_id) for c in conversions_of(rows)] == [
        (ALICE, uuid.UUID(int=20))
    ]


WINDOW_ROWS = [conversion_row(ALICE, 2, 20), conversion_row(BOB, 3, 30)]


@pytest.mark.parametrize(
    ("since", "until", "customers"),
    [
        (None, None, {ALICE, BOB}),
        (day(2), None, {ALICE, BOB}),
        (day(2.5), None, {BOB}),
        (None, day(3), {ALICE}),
        (None, day(3.5), {ALICE, BOB}),
        (day(2), day(3), {ALICE}),
        (day(2.5), day(3), set()),
    ],
)
def test_conversions_are_those_at_since_up_to_but_excluding_until(
    since: datetime | None, until: datetime | None, customers: set[uuid.UUID]
) -> None:
    found = conversions_of(WINDOW_ROWS, since=since, until=until)
    assert {c.customer_id for c in found} == customers


def test_a_customer_who_converted_before_the_window_does_not_convert_in_it() -> None:
    rows = [conversion_row(ALICE, 2, 20), conversion_row(ALICE, 5, 50, origin=BOB)]
    assert conversions_of(rows, since=day(4)) == []


def graph_fact(
    number: int,
    event_type: str,
    customer: uuid.UUID,
    *,
    campaign_id: str | None = None,
    channel: str = "direct",
    amount: float | None = None,
) -> TouchFact:
    return TouchFact(
        event_id=uuid.UUID(int=number),
        profile_id=customer,
        event_type=event_type,
        occurred_at=day(number),
        received_at=day(number),
        campaign_id=campaign_id,
        channel=channel,
        payload={} if amount is None else {"amount": amount},
    )


PLANNED = plan_chunk(
    {},
    [
        graph_fact(1, "page_viewed", ALICE, campaign_id="spring", channel="email"),
        graph_fact(2, "purchase_completed", ALICE, channel="stripe", amount=100.0),
        graph_fact(3, "purchase_completed", BOB, channel="stripe", amount=50.0),
        # A repeat purchase is retention, not a second conversion.
        graph_fact(4, "purchase_completed", ALICE, channel="stripe", amount=70.0),
    ],
)


def rows_at(stage: Stage) -> list[StageRow]:
    return [row for row in PLANNED.reached if row.stage == stage]


def test_planned_conversions_are_each_customers_first_purchase() -> None:
    assert sorted(conversions_of(rows_at("conversion")), key=lambda c: c.occurred_at) == [
        Conversion(ALICE, day(2), 100.0, uuid.UUID(int=2)),
        Conversion(BOB, day(3), 50.0, uuid.UUID(int=3)),
    ]


def test_a_planned_repeat_purchase_is_a_retention() -> None:
    assert conversions_of(rows_at("retention")) == [
        Conversion(ALICE, day(4), 70.0, uuid.UUID(int=4))
    ]


def test_planned_conversions_credit_the_touches_before_them() -> None:
    touches = {
        ALICE: [
            Touch(day(1), "spring", "email", uuid.UUID(int=1)),
            Touch(day(2), None, "stripe", uuid.UUID(int=2)),
            Touch(day(4), None, "stripe", uuid.UUID(int=4)),
        ],
        BOB: [Touch(day(3), None, "stripe", uuid.UUID(int=3))],
    }
    result = attribute(conversions_of(rows_at("conversion")), touches, "last_touch")
    assert result.campaigns == (Credit("spring", 1.0, 100.0), Credit(NO_CAMPAIGN, 1.0, 50.0))
    assert result.channels == (Credit("email", 1.0, 100.0), Credit(NO_CHANNEL, 1.0, 50.0))
