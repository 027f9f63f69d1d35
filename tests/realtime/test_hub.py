"""Fan-out: each tenant's messages reach that tenant's subscribers only; a subscriber that
falls behind is told to resync instead of slowing the publisher."""

from __future__ import annotations

import uuid
from typing import Any

from journeyline.realtime.hub import Hub, Subscription
from journeyline.realtime.messages import message

A, B = uuid.UUID(int=1), uuid.UUID(int=2)


async def drained(subscription: Subscription) -> list[dict[str, Any]]:
    """What is waiting for the client, without waiting for more."""
    return [await subscription.next() for _ in range(subscription.backlog)]


async def test_messages_reach_their_tenants_subscribers_only() -> None:
    hub = Hub()
    with hub.subscribe(A) as a1, hub.subscribe(A) as a2, hub.subscribe(B) as b:
        hub.dispatch([message(A, "crm.deal", {"n": 1}), message(B, "crm.deal", {"n": 2})])
        assert [m["data"] for m in await drained(a1)] == [{"n": 1}]
        assert [m["data"] for m in await drained(a2)] == [{"n": 1}]
        assert [m["data"] for m in await drained(b)] == [{"n": 2}]


async def test_a_message_without_a_valid_tenant_reaches_no_one() -> None:
    hub = Hub()
    with hub.subscribe(A) as a:
        hub.dispatch([{"type": "x", "data": {}}, {"type": "x", "tenant_id": "nope", "data": {}}])
        assert await drained(a) == []


async def test_a_full_queue_is_replaced_by_one_resync_and_later_messages_follow_it() -> None:
    hub = Hub(capacity=3)
    with hub.subscribe(A) as slow:
        hub.dispatch([message(A, "event.ingested", {"n": n}) for n in range(5)])
        received = await drained(slow)
        assert received[0]["type"] == "resync"
        assert [m["data"] for m in received[1:]] == [{"n": 4}]
        assert slow.overflows == 1


async def test_unsubscribing_forgets_the_subscriber() -> None:
    hub = Hub()
    with hub.subscribe(A):
        assert hub.subscribers(A) == 1
    assert hub.subscribers(A) == 0
    hub.dispatch([message(A, "crm.deal", {})])  # nobody listening: nothing to do, no error


async def test_resync_all_reaches_every_subscriber() -> None:
    hub = Hub()
    with hub.subscribe(A) as a, hub.subscribe(B) as b:
        hub.resync_all("reconnected")
        assert [m["type"] for m in await drained(a)] == ["resync"]
        assert (await drained(b))[0]["tenant_id"] == str(B)
