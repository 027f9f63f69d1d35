"""The key cache: entries end after their TTL, evictions hold against a lookup in flight."""

from __future__ import annotations

import uuid

from journeyline.store.repositories.tenants import KeyOwner
from journeyline.tenancy.cache import KeyCache


def owner(tenant_id: uuid.UUID | None = None) -> KeyOwner:
    return KeyOwner(tenant_id or uuid.uuid4(), "secret", {}, uuid.uuid4())


def cache_at(now: list[float], ttl: float = 5.0) -> KeyCache:
    return KeyCache(ttl, clock=lambda: now[0])


def test_an_entry_lives_exactly_its_ttl() -> None:
    now = [100.0]
    cache = cache_at(now)
    cache.put("h", entry := owner())
    now[0] = 104.999
    assert cache.get("h") is entry
    now[0] = 105.0
    assert cache.get("h") is None


def test_a_zero_ttl_caches_nothing() -> None:
    cache = cache_at([0.0], ttl=0.0)
    cache.put("h", owner())
    assert cache.get("h") is None


def test_an_evicted_key_is_not_cached_again_by_a_lookup_that_began_before() -> None:
    now = [0.0]
    cache = cache_at(now)
    cache.put("h", stale := owner())
    cache.evict("h")
    cache.put("h", stale)
    assert cache.get("h") is None
    now[0] = 6.0
    cache.put("h", stale)
    assert cache.get("h") is stale


def test_evicting_a_tenant_drops_only_its_keys() -> None:
    cache = cache_at([0.0])
    tenant = uuid.uuid4()
    cache.put("a1", owner(tenant))
    cache.put("a2", owner(tenant))
    cache.put("b", kept := owner())
    cache.evict_tenant(tenant)
    assert (cache.get("a1"), cache.get("a2"), cache.get("b")) == (None, None, kept)


def test_the_oldest_entries_go_first_beyond_the_bound() -> None:
    cache = KeyCache(5.0, max_entries=2, clock=lambda: 0.0)
    for name in ("a", "b", "c"):
        cache.put(name, owner())
    assert cache.get("a") is None
    assert cache.get("b") is not None
    assert cache.get("c") is not None
