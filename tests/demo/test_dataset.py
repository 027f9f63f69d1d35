"""The demo data set (pure): seeded, inside its month, and every call readable by the real
adapters, its deliveries verified with each provider's own scheme."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from journeyline.demo.dataset import build_dataset
from journeyline.demo.shop import CAMPAIGNS
from journeyline.demo.signing import shopify_hmac, stripe_signature
from journeyline.demo.timeline import ProviderCall, TrackedCall
from journeyline.ingest.dialects.keystone import parse_keystone_event
from journeyline.webhooks.provider import Delivery
from journeyline.webhooks.registry import PROVIDERS

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
SECRET = "whsec_demo_test_secret"


def signed(call: ProviderCall) -> Delivery:
    if call.provider == "stripe":
        header = {"stripe-signature": stripe_signature(SECRET, call.body, int(call.at.timestamp()))}
    else:
        header = {"x-shopify-hmac-sha256": shopify_hmac(SECRET, call.body)}
    return Delivery(call.body, {**call.headers, **header}, call.at)


def test_the_same_seed_and_now_give_the_same_calls() -> None:
    assert build_dataset(5, NOW) == build_dataset(5, NOW)


def test_another_seed_gives_other_ids() -> None:
    def ids(seed: int) -> set[str]:
        return {
            call.body["message_id"]
            for call in build_dataset(seed, NOW).calls
            if isinstance(call, TrackedCall)
        }

    assert ids(1).isdisjoint(ids(2))


def test_the_calls_are_in_order_within_the_month_before_now() -> None:
    calls = build_dataset(1, NOW).calls
    moments = [call.at for call in calls]
    assert moments == sorted(moments)
    assert NOW - timedelta(days=31) < moments[0]
    assert moments[-1] < NOW


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone"):
        build_dataset(1, datetime(2026, 11, 22))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_tracked_call_is_a_valid_keystone_event(seed: int) -> None:
    tracked = [call for call in build_dataset(seed, NOW).calls if isinstance(call, TrackedCall)]
    events = [
        parse_keystone_event(
            call.body, source="web", source_type="direct", received_at=NOW, phone_region="US"
        )
        for call in tracked
    ]
    types = Counter(event.event_type for event in events)
    # Every person once in a browser; the three on two devices and the three the shop's server
    # imported for its newsletter once more.
    assert types["identified"] == 15 + 3 + 3
    assert {"page_viewed", "product_viewed", "product_added", "checkout_started"} <= set(types)
    assert types["purchase_completed"] == 4
    campaigns = {event.campaign_id for event in events if event.campaign_id}
    assert campaigns == {campaign.name for campaign in CAMPAIGNS}


@pytest.mark.parametrize("seed", [1, 2])
def test_every_delivery_verifies_and_maps_with_the_real_adapters(seed: int) -> None:
    kinds: Counter[str] = Counter()
    for call in build_dataset(seed, NOW).calls:
        if not isinstance(call, ProviderCall):
            continue
        delivery = signed(call)
        provider = PROVIDERS[call.provider]
        provider.verify(delivery, [SECRET], call.at)
        mapped = provider.parse(delivery)
        [event] = mapped.events
        assert event.occurred_at is not None
        assert abs(event.occurred_at - call.at) < timedelta(seconds=1)
        kinds[f"{call.provider}:{mapped.kind}"] += 1
    assert kinds == {
        "stripe:checkout.session.completed": 4,
        "stripe:customer.subscription.created": 1,
        "stripe:customer.subscription.deleted": 1,
        "shopify:orders/paid": 3,
    }
