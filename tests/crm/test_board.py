"""The sales board: fixed stage order, counts, per-currency totals, deal order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from journeyline.crm.board import board_currency, deal_board
from journeyline.crm.deals import STAGES, Deal
from journeyline.statuses import DealStage

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def deal(
    key: str,
    stage: DealStage = "open",
    amount: str | None = None,
    currency: str | None = None,
    minute: int = 0,
) -> Deal:
    return Deal(
        id=uuid.uuid5(uuid.NAMESPACE_URL, key),
        key=key,
        kind="order",
        stage=stage,
        name=key,
        amount=None if amount is None else Decimal(amount),
        currency=currency,
        profile_id=None,
        company_id=None,
        subscription_id=None,
        cancelled=False,
        first_seen_at=T0,
        last_activity_at=T0 + timedelta(minutes=minute),
        basis_stage=None,
        basis_at=None,
        basis_event_id=None,
    )


def test_an_empty_board_has_every_stage_in_order() -> None:
    board = deal_board([])
    assert [column.stage for column in board.stages] == [
        "open",
        "checkout",
        "won",
        "lost",
        "refunded",
    ]
    assert all(column.count == 0 and column.amount == 0 for column in board.stages)
    assert all(column.amounts == {} and column.deals == () for column in board.stages)
    assert board.currency is None


def test_board_groups_deals_by_stage_with_counts_and_sums() -> None:
    deals = [
        deal("order:1", "won", "10.50", "USD"),
        deal("order:2", "won", "4.50", "USD"),
        deal("order:3", "open", "7", "USD"),
        deal("order:4", "lost", None, None),
    ]
    board = deal_board(deals, currency="USD")
    columns = {column.stage: column for column in board.stages}
    assert (columns["won"].count, columns["won"].amount) == (2, Decimal("15.00"))
    assert (columns["open"].count, columns["open"].amount) == (1, Decimal("7"))
    assert (columns["lost"].count, columns["lost"].amount, columns["lost"].amounts) == (
        1,
        Decimal(0),
        {},
    )
    assert sum(column.count for column in board.stages) == len(deals)
    assert set(STAGES) == set(columns)


def test_mixed_currencies_are_summed_apart_and_never_converted() -> None:
    deals = [
        deal("order:1", "won", "100", "USD"),
        deal("order:2", "won", "50", "BRL"),
        deal("order:3", "won", "5", None),  # no currency: counted in the board's
        deal("order:4", "won", "20", "EUR"),
    ]
    won = deal_board(deals, currency="usd").stages[2]
    assert won.amount == Decimal("105")
    assert won.amounts == {"BRL": Decimal("50"), "EUR": Decimal("20"), "USD": Decimal("105")}
    assert list(won.amounts) == ["BRL", "EUR", "USD"]


@pytest.mark.parametrize(
    ("currencies", "expected"),
    [
        (["USD", "BRL", "BRL"], "BRL"),
        (["USD", "BRL"], "BRL"),
        (["EUR", None, None], "EUR"),
        ([None], None),
        ([], None),
    ],
)
def test_board_currency_is_the_most_common(
    currencies: list[str | None], expected: str | None
) -> None:
    deals = [deal(f"order:{index}", currency=code) for index, code in enumerate(currencies)]
    assert board_currency(deals) == expected
    assert deal_board(deals).currency == expected


def test_without_a_board_currency_deals_without_currency_still_count_in_amount() -> None:
    board = deal_board([deal("order:1", "open", "3"), deal("order:2", "open", "4")])
    assert (board.stages[0].amount, board.stages[0].amounts) == (Decimal("7"), {})


def test_deals_are_listed_most_recent_activity_first() -> None:
    deals = [
        deal("order:b", minute=1),
        deal("order:c", minute=5),
        deal("order:a", minute=1),
    ]
    column = deal_board(deals).stages[0]
    assert [item.key for item in column.deals] == ["order:c", "order:a", "order:b"]
