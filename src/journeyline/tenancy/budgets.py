"""Budgets per key and per client address (DESIGN §8), kept by the `limits` library: in Redis
when one is configured, so every process spends from one budget, else in this process's memory.

A token bucket of `per_second` and `burst` is kept as `limits`' moving window of `burst` hits
per `burst / per_second` seconds (decision 47): the same burst and long-run rate, and exact, so a
budget refuses the hit after the last it allows, whenever it comes."""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from journeyline.config import RateLimitSettings
from journeyline.tenancy.settings import Budget

log = logging.getLogger("journeyline.tenancy")

# Addresses remembered as over their failure budget; beyond this the oldest are forgotten (an
# attacker with many addresses must not grow the process without bound).
MAX_BLOCKED_ADDRESSES = 10_000


def redis_storage(redis_url: str) -> RedisStorage:
    """`limits`' Redis storage over redis-py (the client the rest of journeyline uses), with
    timeouts: a frozen Redis must not hold a request."""
    return RedisStorage(
        "async+" + redis_url,
        implementation="redispy",
        wrap_exceptions=True,
        key_prefix="journeyline:budget",
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
    )


@dataclass
class Budgets:
    settings: RateLimitSettings
    shared: Storage | None = None
    _local: MovingWindowRateLimiter = field(init=False)
    _shared: MovingWindowRateLimiter | None = field(init=False)
    _items: dict[tuple[str, float, int], RateLimitItem] = field(default_factory=dict)
    # Redis is not asked again before this (monotonic) time after it failed to answer.
    _shared_down_until: float = 0.0
    # address -> (monotonic time its failure budget is refused until)
    _blocked: OrderedDict[str, float] = field(default_factory=OrderedDict)

    def __post_init__(self) -> None:
        self._local = MovingWindowRateLimiter(MemoryStorage())
        self._shared = MovingWindowRateLimiter(self.shared) if self.shared is not None else None

    @classmethod
    def for_process(cls, settings: RateLimitSettings, redis_url: str | None) -> Budgets:
        return cls(settings, redis_storage(redis_url) if redis_url else None)

    @property
    def failure_budget(self) -> Budget:
        return Budget(self.settings.failed_auth_per_second, self.settings.failed_auth_burst)

    def _item(self, scope: str, budget: Budget) -> RateLimitItem:
        key = (scope, budget.per_second, budget.burst)
        item = self._items.get(key)
        if item is None:
            if len(self._items) > 10_000:
                self._items.clear()
            item = RateLimitItemPerSecond(budget.burst, budget.window_seconds, namespace=scope)
            self._items[key] = item
        return item

    def _limiter(self) -> MovingWindowRateLimiter:
        if self._shared is not None and time.monotonic() >= self._shared_down_until:
            return self._shared
        return self._local

    async def _retry_after(
        self, limiter: MovingWindowRateLimiter, item: RateLimitItem, identifier: str
    ) -> int:
        try:
            stats = await limiter.get_window_stats(item, identifier)
        except StorageError:
            return item.get_expiry()
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def charge(
        self, scope: str, identifier: str, budget: Budget, cost: int = 1
    ) -> int | None:
        """Spend `cost` from `identifier`'s budget: None when it could, else the seconds to
        wait (Retry-After). A cost above the whole burst is never affordable."""
        if not self.settings.enabled:
            return None
        item = self._item(scope, budget)
        limiter = self._limiter()
        try:
            allowed = await limiter.hit(item, identifier, cost=cost)
        except StorageError:
            self._shared_down()
            limiter = self._local
            allowed = await limiter.hit(item, identifier, cost=cost)
        if allowed:
            return None
        return await self._retry_after(limiter, item, identifier)

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
        item = self._item("failed-auth", self.failure_budget)
        limiter = self._limiter()
        try:
            allowed = await limiter.test(item, address)
        except StorageError:
            self._shared_down()
            limiter = self._local
            allowed = await limiter.test(item, address)
        if allowed:
            return None
        retry = await self._retry_after(limiter, item, address)
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
            bridge = getattr(self.shared, "bridge", None)
            storage = getattr(bridge, "storage", None)
            close = getattr(storage, "aclose", None)
            if close is not None:
                await close()
