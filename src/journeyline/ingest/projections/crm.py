"""The CRM as a projection: deals from the chunk's commerce events, and the persons of the
anchors whose person fields may have changed."""

from __future__ import annotations

import uuid
from typing import Any

from journeyline.crm import service as crm_service
from journeyline.crm.deal_facts import deal_fact
from journeyline.crm.deals import DealFact
from journeyline.identity.normalize import STRONG_KINDS
from journeyline.ingest import mutations
from journeyline.ingest.projections.shapes import Chunk, MergeMove, UnmergeMove
from journeyline.store.db import Session
from journeyline.store.repositories.crm import CrmRepository
from journeyline.store.repositories.orders import OrderRepository


class CrmProjection:
    name = "crm"

    async def project(self, session: Session, chunk: Chunk) -> list[dict[str, Any]]:
        """A person changes with new attributes, new or moved strong identifiers, deals and
        merges (a page view changes no person; a shadow is none)."""
        identity_map = chunk.identity
        facts: list[DealFact] = []
        inserted, moved = identity_map.identity_changes()
        touched = {identity_map.survivor(entry.profile_id) for entry in identity_map.lineage}
        touched |= {
            identity_map.survivor(owner)
            for changes in (inserted, moved)
            for (kind, _value), owner in changes.items()
            if kind in STRONG_KINDS
        }
        for item in chunk.resolved:
            event, outcome = item.event, item.outcome
            if not item.is_stored or outcome.profile_id is None or event.traits is not None:
                continue
            assert outcome.event_id is not None
            fact = deal_fact(
                event.event_type,
                event.payload,
                event_id=outcome.event_id,
                occurred_at=event.occurred_at or chunk.now,
                profile_id=identity_map.survivor(outcome.profile_id),
            )
            if fact is not None:
                facts.append(fact)
        merged = chunk.merged()
        touched |= set(merged.values())
        touched = {
            profile_id
            for profile_id in touched
            if (state := identity_map.profiles.get(profile_id)) is None or state.status == "anchor"
        }
        known = {
            profile_id: (state.status, state.attributes)
            for profile_id in touched
            if (state := identity_map.profiles.get(profile_id)) is not None
        }
        changes = await crm_service.project(
            session, chunk.tenant_id, facts, touched, chunk.now, merged=merged, states=known
        )
        return [
            *mutations.deal_messages(chunk.tenant_id, changes.deals),
            *mutations.person_messages(chunk.tenant_id, changes.persons),
        ]

    async def follow_merge(self, session: Session, move: MergeMove) -> None:
        await crm_service.move_merged(
            session, move.tenant_id, dict.fromkeys(move.merged_from, move.into_id), move.now
        )

    async def undo_merge(self, session: Session, move: UnmergeMove) -> None:
        # The orders projection ran first: the restored profile's orders are back on it (a
        # merged profile holds none, so these are exactly the ones it took back).
        orders = await OrderRepository(session, move.tenant_id).order_ids_of(move.restored_id)
        await crm_service.restore_unmerged(
            session,
            move.tenant_id,
            survivor_id=move.survivor_id,
            restored_id=move.restored_id,
            restored_family=move.restored_family,
            restored_orders=orders,
            now=move.now,
        )

    async def reset(self, session: Session, tenant_id: uuid.UUID) -> None:
        await CrmRepository(session, tenant_id).reset()
