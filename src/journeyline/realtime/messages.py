"""The messages clients of `/v1/stream` receive: `{"type", "tenant_id", "data"}` (pure)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import Any, Final

# What the pipeline and the operator routes publish after a commit.
MUTATION_TYPES: Final[tuple[str, ...]] = (
    "event.ingested",
    "profile.created",
    "profile.updated",
    "profile.merged",
    "profile.unmerged",
    "order.updated",
    "crm.person",
    "crm.deal",
    "graph.nodes",
    "graph.edges",
    "identity.conflict",
)
# What the stream itself says: subscribed, still here, and "you missed some: read again".
CONTROL_TYPES: Final[tuple[str, ...]] = ("ready", "ping", "resync")
# Beyond this many messages of one type in one commit (a bulk chunk), a client is better off
# reading the state again than applying them one by one: the rest become one `resync`.
MAX_PER_COMMIT: Final = 200


def message(tenant_id: uuid.UUID, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "tenant_id": str(tenant_id), "data": data}


def resync(tenant_id: uuid.UUID, reason: str) -> dict[str, Any]:
    return message(tenant_id, "resync", {"reason": reason})


def capped(tenant_id: uuid.UUID, messages: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """At most MAX_PER_COMMIT messages of each type, in order; then one `resync` naming the
    types that overflowed, after everything else."""
    counts: dict[str, int] = {}
    overflowed: list[str] = []
    for item in messages:
        kind = item["type"]
        counts[kind] = counts.get(kind, 0) + 1
        if counts[kind] <= MAX_PER_COMMIT:
            yield item
        elif counts[kind] == MAX_PER_COMMIT + 1:
            overflowed.append(kind)
    if overflowed:
        kinds = ", ".join(overflowed)
        yield resync(tenant_id, f"more than {MAX_PER_COMMIT} {kinds} in one commit")
