"""The intelligence graph as a projection: each stored event a touchpoint of the profile it
resolved to, each merge of the chunk placed just before the event that caused it, so the chunk
is planned in event order (as if its events came one at a time); redeliveries refresh their
touchpoints' re-sync counters."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from journeyline.graph import service as graph_service
from journeyline.graph.build import MergeStep, TouchFact
from journeyline.ingest import mutations
from journeyline.ingest.projections.shapes import Chunk, MergeMove, Resolved, UnmergeMove
from journeyline.store.db import Session


def _fact(item: Resolved, now: datetime, *, redelivery: bool = False) -> TouchFact:
    event, outcome = item.event, item.outcome
    assert outcome.event_id is not None
    return TouchFact(
        event_id=outcome.event_id,
        profile_id=outcome.profile_id,
        event_type=event.event_type,
        occurred_at=event.occurred_at or now,
        received_at=event.received_at,
        campaign_id=item.marketing.campaign_id,
        channel=item.marketing.channel,
        payload=event.payload,
        redelivery=redelivery,
    )


class GraphProjection:
    name = "graph"

    async def project(self, session: Session, chunk: Chunk) -> list[dict[str, Any]]:
        merges = {m.from_profile_id: m for m in chunk.identity.merges}
        steps: list[TouchFact | MergeStep] = []
        for item in chunk.resolved:
            # A collapse appends the merged profile to its event's `merged_profile_ids`.
            for merged_id in item.outcome.merged_profile_ids:
                record = merges.pop(merged_id, None)
                if record is not None:
                    steps.append(MergeStep(record.from_profile_id, record.into_profile_id))
            if item.is_stored:
                steps.append(_fact(item, chunk.now))
        steps.extend(MergeStep(m.from_profile_id, m.into_profile_id) for m in merges.values())
        steps.extend(
            _fact(item, chunk.now, redelivery=True)
            for item in chunk.redelivered
            if item.outcome.duplicate and item.is_stored
        )
        new_profiles = {p for p, state in chunk.identity.profiles.items() if state.is_new}
        plan = await graph_service.project(
            session, chunk.tenant_id, steps, new_profiles=new_profiles
        )
        return mutations.graph_messages(chunk.tenant_id, plan)

    async def follow_merge(self, session: Session, move: MergeMove) -> None:
        await graph_service.follow_merge(session, move.tenant_id, move.from_id, move.into_id)

    async def undo_merge(self, session: Session, move: UnmergeMove) -> None:
        await graph_service.undo_merge(
            session,
            move.tenant_id,
            survivor_id=move.survivor_id,
            restored_id=move.restored_id,
            restored_family=move.restored_family,
        )

    async def reset(self, session: Session, tenant_id: uuid.UUID) -> None:
        await graph_service.reset(session, tenant_id)
