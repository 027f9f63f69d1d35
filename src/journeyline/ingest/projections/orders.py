"""Orders and products as a projection: facts from the chunk's commerce events, attributed to
the profiles that survive the chunk; orders of merged profiles move to their survivors."""

from __future__ import annotations

import uuid
from typing import Any

from journeyline.ingest import mutations
from journeyline.ingest.projections.shapes import Chunk, MergeMove, UnmergeMove
from journeyline.orders import service as orders_service
from journeyline.orders.facts import order_fact, product_fact
from journeyline.orders.lifecycle import OrderFact, ProductFact
from journeyline.store.db import Session
from journeyline.store.repositories.orders import OrderRepository


class OrdersProjection:
    name = "orders"

    async def project(self, session: Session, chunk: Chunk) -> list[dict[str, Any]]:
        order_facts: list[OrderFact] = []
        product_facts: list[ProductFact] = []
        for item in chunk.resolved:
            event, outcome = item.event, item.outcome
            # An identify's payload is traits, never commerce; a page view names no order.
            if not item.is_stored or event.traits is not None or outcome.event_id is None:
                continue
            at = event.occurred_at or chunk.now
            fact = order_fact(
                event.event_type,
                event.payload,
                event_id=outcome.event_id,
                occurred_at=at,
                profile_id=chunk.survivor(outcome.profile_id),
                source=event.source,
            )
            if fact is not None:
                order_facts.append(fact)
            product = product_fact(event.event_type, event.payload, at)
            if product is not None:
                product_facts.append(product)
        orders = await orders_service.project(
            session, chunk.tenant_id, order_facts, product_facts, merged=chunk.merged()
        )
        return mutations.order_messages(chunk.tenant_id, orders)

    async def follow_merge(self, session: Session, move: MergeMove) -> None:
        # Orders always sit on surviving profiles, so only the one just merged has any to move.
        await orders_service.move_merged(
            session, move.tenant_id, dict.fromkeys(move.merged_from, move.into_id)
        )

    async def undo_merge(self, session: Session, move: UnmergeMove) -> None:
        await orders_service.restore_unmerged(
            session,
            move.tenant_id,
            survivor_id=move.survivor_id,
            restored_family=move.restored_family,
            restored_id=move.restored_id,
        )

    async def reset(self, session: Session, tenant_id: uuid.UUID) -> None:
        await OrderRepository(session, tenant_id).reset()
