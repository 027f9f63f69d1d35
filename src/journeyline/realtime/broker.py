"""Where committed messages go: straight to this process's hub when embedded, or through
Redis pub/sub (one channel per tenant) so that every API process hears what any worker did."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from journeyline.realtime.hub import Hub

log = logging.getLogger("journeyline.realtime")

CHANNEL_PREFIX = "journeyline:realtime:"
# Between attempts to subscribe again after Redis went away.
RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0)


def channel_of(tenant_id: str) -> str:
    return f"{CHANNEL_PREFIX}{tenant_id}"


def _by_tenant(messages: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item in messages:
        grouped.setdefault(str(item["tenant_id"]), []).append(item)
    return grouped


class LocalBroker:
    """The embedded shape: one process, so publishing is dispatching."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def publish(self, messages: Sequence[dict[str, Any]]) -> None:
        self.hub.dispatch(messages)


class RedisBroker:
    """One PUBLISH per tenant per commit (a JSON array); `listen` feeds a hub from every
    tenant's channel."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    @classmethod
    def from_url(cls, url: str) -> RedisBroker:
        return cls(Redis.from_url(url))

    async def publish(self, messages: Sequence[dict[str, Any]]) -> None:
        for tenant_id, batch in _by_tenant(messages).items():
            await self.redis.publish(channel_of(tenant_id), orjson.dumps(batch))

    async def listen(self, hub: Hub, subscribed: asyncio.Event | None = None) -> None:
        """Run until cancelled. After a lost connection, subscribe again and tell every client
        to resync: what was published meanwhile is gone (pub/sub keeps nothing)."""
        attempt = 0
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.psubscribe(f"{CHANNEL_PREFIX}*")
                    if attempt:
                        hub.resync_all("the realtime connection was restored")
                    attempt = 0
                    if subscribed is not None:
                        subscribed.set()
                    async for received in pubsub.listen():
                        if received.get("type") != "pmessage":
                            continue
                        try:
                            batch = orjson.loads(received["data"])
                        except orjson.JSONDecodeError:
                            log.warning("ignoring a malformed realtime message")
                            continue
                        if isinstance(batch, list):
                            hub.dispatch([item for item in batch if isinstance(item, dict)])
            except (RedisError, OSError) as exc:
                delay = RECONNECT_SECONDS[min(attempt, len(RECONNECT_SECONDS) - 1)]
                attempt += 1
                log.warning("realtime subscription lost (%s); again in %.1f s", exc, delay)
                await asyncio.sleep(delay)

    async def close(self) -> None:
        await self.redis.aclose()
