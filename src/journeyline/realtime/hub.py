"""Per-process subscriptions and fan-out: every live client of a tenant gets its own bounded
queue, so a slow client loses messages (and is told to resync), never the pipeline's time."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from journeyline.realtime.messages import resync

# Messages a client may fall behind by before it is told to resync.
CAPACITY = 1024


class Subscription:
    def __init__(self, tenant_id: uuid.UUID, capacity: int) -> None:
        self.tenant_id = tenant_id
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(capacity)
        self.overflows = 0

    def offer(self, item: dict[str, Any]) -> None:
        """Never blocks: a full queue is emptied and left holding one `resync`."""
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            while not self._queue.empty():
                self._queue.get_nowait()
            self.overflows += 1
            self._queue.put_nowait(resync(self.tenant_id, "the client fell behind"))

    @property
    def backlog(self) -> int:
        """Messages waiting to be sent."""
        return self._queue.qsize()

    async def next(self) -> dict[str, Any]:
        return await self._queue.get()


class Hub:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._subscriptions: dict[uuid.UUID, set[Subscription]] = {}

    @contextmanager
    def subscribe(self, tenant_id: uuid.UUID) -> Iterator[Subscription]:
        subscription = Subscription(tenant_id, self.capacity)
        self._subscriptions.setdefault(tenant_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscriptions.get(tenant_id, set())
            subscribers.discard(subscription)
            if not subscribers:
                self._subscriptions.pop(tenant_id, None)

    def subscribers(self, tenant_id: uuid.UUID) -> int:
        return len(self._subscriptions.get(tenant_id, ()))

    def dispatch(self, messages: Sequence[dict[str, Any]]) -> None:
        """Hand each message to the subscribers of its tenant (and no one else's)."""
        for item in messages:
            try:
                tenant_id = uuid.UUID(str(item["tenant_id"]))
            except (KeyError, ValueError):
                continue
            for subscription in tuple(self._subscriptions.get(tenant_id, ())):
                subscription.offer(item)

    def resync_all(self, reason: str) -> None:
        """Every client may have missed messages (the broker's connection dropped)."""
        for tenant_id, subscribers in tuple(self._subscriptions.items()):
            for subscription in tuple(subscribers):
                subscription.offer(resync(tenant_id, reason))
