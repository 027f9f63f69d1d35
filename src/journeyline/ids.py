"""The helpers that make ids (time-ordered UUIDv7, deterministic UUIDv5) and read them. Ids
are plain `uuid.UUID`s: the NewType ids once declared here were never used (decision 65)."""

from __future__ import annotations

import os
import threading
import time
import uuid

NAMESPACE = uuid.UUID("4f6c1d2e-8a1b-5c3d-9e0f-6a7b8c9d0e1f")


class _Uuid7Clock:
    """RFC 9562 §6.2 method 1: a 12-bit counter in rand_a, so ids made in one process are
    strictly increasing even within one millisecond (the log replays in id order)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._millis = -1
        self._counter = 0

    def next(self) -> tuple[int, int]:
        millis = time.time_ns() // 1_000_000
        with self._lock:
            if millis > self._millis:
                self._millis, self._counter = millis, int.from_bytes(os.urandom(1), "big")
            else:
                # Same millisecond, or the clock stepped back: keep counting from the last id.
                self._counter += 1
                if self._counter > 0xFFF:
                    self._millis, self._counter = self._millis + 1, 0
            return self._millis, self._counter


_CLOCK = _Uuid7Clock()


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    """A UUIDv7 (RFC 9562): time-ordered, so new rows land at the right edge of indexes, and
    monotonic within the process. An explicit `now_ms` bypasses the process clock (a random
    counter, no ordering promise) so that it can never drag later ids off the real time."""
    if now_ms is None:
        millis, counter = _CLOCK.next()
    else:
        millis, counter = now_ms, int.from_bytes(os.urandom(2), "big") & 0xFFF
    rand = int.from_bytes(os.urandom(8), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= (counter & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def deterministic_id(tenant_id: uuid.UUID, kind: str, key: str) -> uuid.UUID:
    """UUIDv5 of (tenant, kind, key): the same inputs always give the same id."""
    return uuid.uuid5(NAMESPACE, f"{tenant_id}:{kind}:{key}")


def parse_uuid(value: str) -> uuid.UUID | None:
    """The UUID in `value`, or None when it is not one."""
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None
