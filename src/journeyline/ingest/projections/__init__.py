"""Step 4 of the pipeline: every projection beyond identity, behind one interface (DESIGN §5).

Orders, the CRM and the intelligence graph each project a chunk, follow an operator's merge,
undo a merge and reset for rebuild. `PROJECTIONS` lists them in the order they run — orders
before the CRM (a deal follows its order back on an unmerge), the graph last (its campaign and
channel counters are rows every writer of the tenant meets: the later they are written, the
shorter their locks are held) — and the pipeline, operator merges and rebuild iterate it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from journeyline.identity.identity_map import IdentityMap
from journeyline.ingest.projections.crm import CrmProjection
from journeyline.ingest.projections.graph import GraphProjection
from journeyline.ingest.projections.orders import OrdersProjection
from journeyline.ingest.projections.shapes import Chunk, MergeMove, Resolved, UnmergeMove
from journeyline.store.db import Session

Message = dict[str, Any]

__all__ = [
    "PROJECTIONS",
    "Chunk",
    "MergeMove",
    "Projection",
    "Resolved",
    "UnmergeMove",
    "follow_merge",
    "project",
    "reset",
    "undo_merge",
]


class Projection(Protocol):
    """One projection of the log. Every method runs inside the caller's unit of work."""

    name: str

    async def project(self, session: Session, chunk: Chunk) -> list[Message]:
        """Apply a resolved chunk (merges of the chunk included); the realtime messages of
        what it wrote."""
        ...

    async def follow_merge(self, session: Session, move: MergeMove) -> None:
        """An operator merged two surviving profiles: move the rows keyed by the merged one."""
        ...

    async def undo_merge(self, session: Session, move: UnmergeMove) -> None:
        """An unmerge: give the restored profile back what came from its own events."""
        ...

    async def reset(self, session: Session, tenant_id: uuid.UUID) -> None:
        """Delete what the log derives, before `rebuild` derives it again."""
        ...


PROJECTIONS: tuple[Projection, ...] = (OrdersProjection(), CrmProjection(), GraphProjection())


async def project(
    session: Session,
    tenant_id: uuid.UUID,
    identity: IdentityMap,
    resolved: Sequence[Resolved],
    now: datetime,
    *,
    redelivered: Sequence[Resolved] = (),
) -> list[Message]:
    chunk = Chunk(tenant_id, identity, resolved, redelivered, now)
    messages: list[Message] = []
    for projection in PROJECTIONS:
        messages.extend(await projection.project(session, chunk))
    return messages


async def follow_merge(session: Session, move: MergeMove) -> None:
    for projection in PROJECTIONS:
        await projection.follow_merge(session, move)


async def undo_merge(session: Session, move: UnmergeMove) -> None:
    for projection in PROJECTIONS:
        await projection.undo_merge(session, move)


async def reset(session: Session, tenant_id: uuid.UUID) -> None:
    for projection in PROJECTIONS:
        await projection.reset(session, tenant_id)
