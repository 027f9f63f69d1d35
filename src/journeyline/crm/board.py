"""The sales board (served as GET /v1/pipeline and the dashboard's Pipeline page): deals grouped
by stage, in the board's fixed order, with their totals (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from journeyline.crm.deals import STAGES, Deal
from journeyline.statuses import DealStage


@dataclass(frozen=True, slots=True)
class StageColumn:
    """One column. There are no exchange rates in the CRM, so money is never converted:
    `amount` sums the deals in the board's currency (deals with no currency are taken to be in
    it), and `amounts` sums every currency present, the board's included."""

    stage: DealStage
    count: int
    amount: Decimal
    amounts: Mapping[str, Decimal]
    deals: tuple[Deal, ...]


@dataclass(frozen=True, slots=True)
class Board:
    currency: str | None
    stages: tuple[StageColumn, ...]


def board_currency(deals: Iterable[Deal]) -> str | None:
    """The currency most deals are in (ties: alphabetical), for a tenant that named none."""
    counts = Counter(deal.currency for deal in deals if deal.currency is not None)
    if not counts:
        return None
    return min(counts, key=lambda currency: (-counts[currency], currency))


def _column(stage: DealStage, deals: list[Deal], currency: str | None) -> StageColumn:
    amounts: dict[str, Decimal] = {}
    amount = Decimal(0)
    for deal in deals:
        if deal.amount is None:
            continue
        code = deal.currency or currency
        if code is None or code == currency:
            amount += deal.amount
        if code is not None:
            amounts[code] = amounts.get(code, Decimal(0)) + deal.amount
    # Most recent activity first: what a salesperson looks at; the key makes ties stable.
    ordered = sorted(deals, key=lambda deal: deal.key)
    ordered.sort(key=lambda deal: deal.last_activity_at, reverse=True)
    return StageColumn(stage, len(deals), amount, dict(sorted(amounts.items())), tuple(ordered))


def deal_board(deals: Iterable[Deal], *, currency: str | None = None) -> Board:
    """Every stage appears, empty ones included, so the board's shape never depends on data."""
    deals = list(deals)
    main = currency.upper() if currency else board_currency(deals)
    by_stage: dict[DealStage, list[Deal]] = {stage: [] for stage in STAGES}
    for deal in deals:
        by_stage[deal.stage].append(deal)
    return Board(main, tuple(_column(stage, by_stage[stage], main) for stage in STAGES))
