"""A per-process cache of authenticated keys, so the hot path skips a query per request.

Entries live at most `ttl_seconds` (config bounds it at 5 s): that is how a key revoked, or a
tenant's settings changed, by another process reach this one. The process that makes such a
change evicts its own entries at once."""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from journeyline.store.repositories.tenants import KeyOwner


@dataclass
class KeyCache:
    ttl_seconds: float
    max_entries: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _entries: OrderedDict[str, tuple[float, KeyOwner]] = field(default_factory=OrderedDict)
    # Keys revoked here, until no lookup begun before the revocation can still cache them.
    _revoked: dict[str, float] = field(default_factory=dict)

    def get(self, key_hash: str) -> KeyOwner | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        expires, owner = entry
        if expires <= self.clock():
            del self._entries[key_hash]
            return None
        return owner

    def put(self, key_hash: str, owner: KeyOwner) -> None:
        if self.ttl_seconds <= 0 or self._is_revoked(key_hash):
            return
        self._entries[key_hash] = (self.clock() + self.ttl_seconds, owner)
        self._entries.move_to_end(key_hash)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def _is_revoked(self, key_hash: str) -> bool:
        until = self._revoked.get(key_hash)
        if until is None:
            return False
        if until <= self.clock():
            del self._revoked[key_hash]
            return False
        return True

    def evict(self, key_hash: str) -> None:
        """A key revoked by this process: gone now, and not cached again by a lookup that
        read it before the revocation committed."""
        self._entries.pop(key_hash, None)
        now = self.clock()
        self._revoked = {h: until for h, until in self._revoked.items() if until > now}
        self._revoked[key_hash] = now + max(self.ttl_seconds, 1.0)

    def evict_tenant(self, tenant_id: uuid.UUID) -> None:
        """Every key of the tenant: its settings changed (they travel with the owner)."""
        stale = [h for h, (_, owner) in self._entries.items() if owner.tenant_id == tenant_id]
        for key_hash in stale:
            del self._entries[key_hash]
