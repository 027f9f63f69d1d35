"""Budgets in memory, and their fallback to memory while Redis does not answer."""

from __future__ import annotations

import socket

from journeyline.config import RateLimitSettings
from journeyline.tenancy.budgets import Budgets, redis_client
from journeyline.tenancy.settings import Budget

# 0.01 per second: nothing is given back while a test runs.
SMALL = Budget(0.01, 3)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_a_budget_allows_its_burst_then_says_how_long_to_wait() -> None:
    budgets = Budgets(RateLimitSettings())
    assert [await budgets.charge("requests", "k", SMALL) for _ in range(3)] == [None] * 3
    retry = await budgets.charge("requests", "k", SMALL)
    assert retry is not None
    assert 1 <= retry <= SMALL.window_seconds
    assert await budgets.charge("requests", "other key", SMALL) is None


async def test_a_cost_counts_as_that_many_hits() -> None:
    budgets = Budgets(RateLimitSettings())
    assert await budgets.charge("batch-events", "k", Budget(0.01, 10), cost=7) is None
    assert await budgets.charge("batch-events", "k", Budget(0.01, 10), cost=4) is not None
    assert await budgets.charge("batch-events", "k", Budget(0.01, 10), cost=3) is None


async def test_disabled_budgets_allow_everything() -> None:
    budgets = Budgets(RateLimitSettings(enabled=False, failed_auth_burst=1))
    assert [await budgets.charge("requests", "k", SMALL) for _ in range(10)] == [None] * 10
    for _ in range(3):
        assert await budgets.charge_failure("10.0.0.1") is None
    assert await budgets.refused_address("10.0.0.1") is None


async def test_an_address_is_refused_once_its_failures_are_spent() -> None:
    budgets = Budgets(RateLimitSettings(failed_auth_per_second=0.01, failed_auth_burst=2))
    assert await budgets.refused_address("10.0.0.2") is None
    assert await budgets.charge_failure("10.0.0.2") is None
    assert await budgets.charge_failure("10.0.0.2") is None
    assert await budgets.refused_address("10.0.0.2") is not None
    assert await budgets.refused_address("10.0.0.3") is None


async def test_budgets_fall_back_to_memory_while_redis_does_not_answer() -> None:
    unreachable = redis_client(f"redis://127.0.0.1:{closed_port()}/0")
    budgets = Budgets(RateLimitSettings(), unreachable)
    try:
        answers = [await budgets.charge("requests", "k", SMALL) for _ in range(4)]
    finally:
        await budgets.close()
    assert answers[:3] == [None] * 3
    assert answers[3] is not None
