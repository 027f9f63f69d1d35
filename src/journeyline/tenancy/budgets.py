"""Budgets per key and per client address (DESIGN §8): token buckets, in Redis when one is
configured (every process spends from one budget), else in this process's memory.

Each bucket is kept as the generic cell rate algorithm (GCRA) keeps it: one number per bucket,
its theoretical arrival time (TAT). A hit of `cost` at `now` moves the TAT to
`max(TAT, now) + cost / per_second`; it is allowed while that stays within `burst / per_second`
of now, and refused otherwise with the wait until it would be. One key and O(1) work per hit
in Redis (a short Lua script, which reads Redis's own clock so every process agrees), where the
moving window tried first (decision 47) kept a sorted-set member per hit: at the benchmark's
budgets that was a set of a million members per key, and it halved sync ingest (decision 56)."""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from journeyline.config import RateLimitSettings
from journeyline.tenancy.settings import Budget

log = logging.getLogger("journeyline.tenancy")

# Addresses remembered as over their failure budget; beyond this the oldest are forgotten (an
# attacker with many addresses must not grow the process without bound).
MAX_BLOCKED_ADDRESSES = 10_000
# Buckets kept in memory; beyond this the least recently used go (a full one is refilled by
# then, or its key is an attacker's).
MAX_LOCAL_BUCKETS = 100_000
PREFIX = "journeyline:budget:"

# KEYS[1] the bucket; ARGV: increment and capacity (seconds), spend (1) or only look (0).
# Answers the seconds to wait, "0" when the hit is (or would be) allowed.
_GCRA = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < t then tat = t end
local next = tat + tonumber(ARGV[1])
local over = next - t - tonumber(ARGV[2])
if over > 0 then return tostring(over) end
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], tostring(next), 'PX', math.max(1, math.ceil((next - t) * 1000)))
end
return '0'
"""


def redis_client(redis_url: str) -> Redis:
    """The budgets' Redis, with timeouts: a frozen Redis must not hold a request."""
    client: Redis = Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return client


def _wait(over: float) -> int:
    return max(1, math.ceil(over))


@dataclass
class Budgets:
    settings: RateLimitSettings
    shared: Redis | None = None
    _script: Any = None
    # bucket key -> its TAT (monotonic seconds), least recently used first
    _local: OrderedDict[str, float] = field(default_factory=OrderedDict)
    # Redis is not asked again before this (monotonic) time after it failed to answer.
    _shared_down_until: float = 0.0
    # address -> (monotonic time its failure budget is refused until)
    _blocked: OrderedDict[str, float] = field(default_factory=OrderedDict)

    def __post_init__(self) -> None:
        if self.shared is not None:
            self._script = self.shared.register_script(_GCRA)

    @classmethod
    def for_process(cls, settings: RateLimitSettings, redis_url: str | None) -> Budgets:
        return cls(settings, redis_client(redis_url) if redis_url else None)

    @property
    def failure_budget(self) -> Budget:
        return Budget(self.settings.failed_auth_per_second, self.settings.failed_auth_burst)

    def _spend_local(self, key: str, increment: float, capacity: float, spend: bool) -> float:
        now = time.monotonic()
        tat = max(self._local.get(key, now), now)
        after = tat + increment
        over = after - now - capacity
        if over > 0:
            return over
        if spend:
            self._local[key] = after
            self._local.move_to_end(key)
            while len(self._local) > MAX_LOCAL_BUCKETS:
                self._local.popitem(last=False)
        return 0.0

    async def _spend(self, key: str, budget: Budget, cost: int, spend: bool) -> float:
        """Seconds to wait before `cost` fits in the bucket (0: it fits, and is spent when
        `spend`)."""
        increment = cost / budget.per_second
        capacity = budget.burst / budget.per_second
        if self._script is not None and time.monotonic() >= self._shared_down_until:
            try:
                answer = await self._script(
                    keys=[PREFIX + key], args=[increment, capacity, int(spend)]
                )
                return float(answer)
            except (RedisError, OSError):
                self._shared_down()
        return self._spend_local(key, increment, capacity, spend)

    async def charge(
        self, scope: str, identifier: str, budget: Budget, cost: int = 1
    ) -> int | None:
        """Spend `cost` from `identifier`'s budget: None when it could, else the seconds to
        wait (Retry-After). A cost above the whole burst is never affordable."""
        if not self.settings.enabled:
            return None
        if cost > budget.burst:
            return budget.window_seconds
        over = await self._spend(f"{scope}:{identifier}", budget, cost, spend=True)
        return None if over <= 0 else _wait(over)

    def _shared_down(self) -> None:
        if time.monotonic() >= self._shared_down_until:
            log.warning(
                "budgets: Redis does not answer; this process keeps its own for %.0f s",
                self.settings.redis_retry_seconds,
            )
        self._shared_down_until = time.monotonic() + self.settings.redis_retry_seconds

    async def refused_address(self, address: str) -> int | None:
        """Seconds until `address` may present a credential again (its failure budget is
        spent), or None. Asked before any database work: what this process already knows costs
        a dict lookup, anything else one look at the budget (which spends nothing)."""
        until = self._blocked.get(address)
        if until is not None:
            left = until - time.monotonic()
            if left > 0:
                return max(1, math.ceil(left))
            del self._blocked[address]
        if not self.settings.enabled:
            return None
        over = await self._spend(f"failed-auth:{address}", self.failure_budget, 1, spend=False)
        if over <= 0:
            return None
        retry = _wait(over)
        self._block(address, retry)
        return retry

    async def charge_failure(self, address: str) -> int | None:
        """A failed authentication from `address`: None while its budget lasts, else the
        seconds to wait, and the address is refused without a lookup until then."""
        retry = await self.charge("failed-auth", address, self.failure_budget)
        if retry is not None and self.settings.enabled:
            self._block(address, retry)
        return retry

    def _block(self, address: str, seconds: int) -> None:
        self._blocked[address] = time.monotonic() + seconds
        self._blocked.move_to_end(address)
        while len(self._blocked) > MAX_BLOCKED_ADDRESSES:
            self._blocked.popitem(last=False)

    async def close(self) -> None:
        if self.shared is not None:
            await self.shared.aclose()
