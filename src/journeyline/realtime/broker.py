"""Where committed messages go: straight to this process's hub when embedded, or through
Redis pub/sub (one channel per tenant) so that every API process hears what any worker did."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from journeyline.config import RedisClientSettings
from journeyline.realtime.hub import Hub
from journeyline.realtime.messages import resync

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
    tenant's channel.

    Publishing runs after a commit, before its request is answered, so it is bounded and
    best-effort (decision 45): a publish that fails or overruns pauses publishing for
    `publish_pause_seconds` (no request waits on a Redis known to be away), and every tenant
    whose messages were dropped gets a `resync` on its channel once publishing works again."""

    def __init__(self, redis: Redis, options: RedisClientSettings | None = None) -> None:
        self.redis = redis
        self.options = options or RedisClientSettings()
        self._paused_until = 0.0
        # Tenants whose clients missed messages: told to resync at the next working publish.
        self._missed: set[str] = set()

    @classmethod
    def from_url(cls, url: str, options: RedisClientSettings | None = None) -> RedisBroker:
        options = options or RedisClientSettings()
        return cls(Redis.from_url(url, **options.client_options()), options)

    @property
    def is_paused(self) -> bool:
        return asyncio.get_running_loop().time() < self._paused_until

    async def publish(self, messages: Sequence[dict[str, Any]]) -> None:
        grouped = _by_tenant(messages)
        if self.is_paused:
            self._missed.update(grouped)
            return
        bound = self.options.connect_timeout_seconds + self.options.socket_timeout_seconds
        try:
            async with asyncio.timeout(bound):
                await self._publish_resyncs()
                for tenant_id, batch in grouped.items():
                    await self.redis.publish(channel_of(tenant_id), orjson.dumps(batch))
        except (RedisError, OSError, TimeoutError) as exc:
            # Some of these may have gone out: a resync too many is harmless, one too few not.
            self._missed.update(grouped)
            self._paused_until = (
                asyncio.get_running_loop().time() + self.options.publish_pause_seconds
            )
            log.warning(
                "realtime publish failed (%s); pausing live messages for %.1f s",
                type(exc).__name__,
                self.options.publish_pause_seconds,
            )

    async def _publish_resyncs(self) -> None:
        while self._missed:
            tenant_id = next(iter(self._missed))
            notice = resync(uuid.UUID(tenant_id), "live messages were lost while Redis was away")
            await self.redis.publish(channel_of(tenant_id), orjson.dumps([notice]))
            self._missed.discard(tenant_id)

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
                    await self._relay(pubsub, hub)
            except (RedisError, OSError, TimeoutError) as exc:
                delay = RECONNECT_SECONDS[min(attempt, len(RECONNECT_SECONDS) - 1)]
                attempt += 1
                log.warning("realtime subscription lost (%s); again in %.1f s", exc, delay)
                await asyncio.sleep(delay)

    async def _relay(self, pubsub: PubSub, hub: Hub) -> None:
        """Dispatch what arrives until the connection fails or goes dumb. A subscription waits
        for messages, so the client's reply timeout cannot apply to it (each read has its own,
        and a silent one is no error); instead, after `health_check_seconds` of silence it
        sends a PING, and no answer within a reply timeout is a lost connection (a frozen
        Redis sends nothing at all)."""
        loop = asyncio.get_running_loop()
        tick = self.options.socket_timeout_seconds
        quiet = self.options.health_check_seconds or tick
        heard, pinged = loop.time(), None
        while True:
            received = await pubsub.get_message(timeout=tick)
            now = loop.time()
            if received is None:
                if pinged is not None and now - pinged > tick:
                    raise TimeoutError("Redis did not answer a PING")
                if pinged is None and now - heard >= quiet:
                    await pubsub.ping()
                    pinged = now
                continue
            heard, pinged = now, None
            if received.get("type") != "pmessage":
                continue
            try:
                batch = orjson.loads(received["data"])
            except orjson.JSONDecodeError:
                log.warning("ignoring a malformed realtime message")
                continue
            if isinstance(batch, list):
                hub.dispatch([item for item in batch if isinstance(item, dict)])

    async def close(self) -> None:
        await self.redis.aclose()
