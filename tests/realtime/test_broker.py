"""The realtime publish after a commit is best-effort (decision 45): a failing Redis pauses it
instead of holding up answers, and the tenants whose messages were dropped are told to resync
once publishing works again."""

from __future__ import annotations

import uuid
from typing import Any, cast

import orjson
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from journeyline.config import RedisClientSettings
from journeyline.realtime.broker import RedisBroker, channel_of
from journeyline.realtime.messages import message


class FlakyRedis:
    """Records what is published; fails while `down`."""

    def __init__(self) -> None:
        self.down = False
        self.published: list[tuple[str, list[dict[str, Any]]]] = []
        self.calls = 0

    async def publish(self, channel: str, data: bytes) -> int:
        self.calls += 1
        if self.down:
            raise RedisConnectionError("Connection refused")
        self.published.append((channel, orjson.loads(data)))
        return 1


def broker(redis: FlakyRedis, pause: float) -> RedisBroker:
    return RedisBroker(cast(Redis, redis), RedisClientSettings(publish_pause_seconds=pause))


def ingested(tenant: uuid.UUID) -> dict[str, Any]:
    return message(tenant, "event.ingested", {"event_id": str(uuid.uuid4())})


async def test_a_failed_publish_pauses_publishing_without_calling_redis() -> None:
    redis = FlakyRedis()
    publisher = broker(redis, pause=3600)
    tenant = uuid.uuid4()
    redis.down = True
    await publisher.publish([ingested(tenant)])  # fails: logged, not raised
    assert publisher.is_paused
    calls = redis.calls
    await publisher.publish([ingested(tenant)])
    assert redis.calls == calls  # skipped: nothing waits on a Redis known to be away


async def test_the_tenants_that_missed_messages_are_told_to_resync_first() -> None:
    redis = FlakyRedis()
    publisher = broker(redis, pause=0)
    missed, other = uuid.uuid4(), uuid.uuid4()
    redis.down = True
    await publisher.publish([ingested(missed)])
    redis.down = False
    latest = ingested(other)
    await publisher.publish([latest])
    assert [channel for channel, _ in redis.published] == [
        channel_of(str(missed)),
        channel_of(str(other)),
    ]
    notice = redis.published[0][1]
    assert [item["type"] for item in notice] == ["resync"]
    assert redis.published[1][1] == [latest]
    await publisher.publish([latest])
    assert len(redis.published) == 3  # told once
