"""A per-process cache of authenticated keys, so the hot path skips a query per request."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field

from journeyline.store.repositories.tenants import KeyOwner


@dataclass
class KeyCache:
    ttl_seconds: float
    max_entries: int = 10_000
    _entries: OrderedDict[str, tuple[float, KeyOwner]] = field(default_factory=OrderedDict)

    def get(self, key_hash: str) -> KeyOwner | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        expires, owner = entry
        if expires < time.monotonic():
            del self._entries[key_hash]
            return None
        return owner

    def put(self, key_hash: str, owner: KeyOwner) -> None:
        self._entries[key_hash] = (time.monotonic() + self.ttl_seconds, owner)
        self._entries.move_to_end(key_hash)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
