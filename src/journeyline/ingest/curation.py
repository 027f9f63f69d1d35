"""Operator merges and unmerges, with every projection they move (identity first, then the
orders, the CRM and the graph)."""

from __future__ import annotations

import uuid
from datetime import datetime

from journeyline.crm import service as crm_service
from journeyline.graph import service as graph_service
from journeyline.identity import curation, reads
from journeyline.identity.reads import ProfileView
from journeyline.orders import service as orders_service
from journeyline.realtime.messages import message
from journeyline.store.db import Session, leave_for_commit


async def merge_profiles(
    session: Session, tenant_id: uuid.UUID, into_id: uuid.UUID, from_id: uuid.UUID, now: datetime
) -> ProfileView:
    # The graph moves the customer that survived until now (a merged id names its survivor).
    shadow = (await reads.family_of(session, tenant_id, from_id))[0]
    view = await curation.merge_profiles(session, tenant_id, into_id, from_id, now)
    # Orders always sit on surviving profiles, so only the one just merged has any to move.
    moved = dict.fromkeys(view.merged_from, view.id)
    await orders_service.move_merged(session, tenant_id, moved)
    await crm_service.move_merged(session, tenant_id, moved, now)
    await graph_service.move_on_merge(session, tenant_id, shadow, view.id)
    leave_for_commit(
        session,
        [
            message(
                tenant_id,
                "profile.merged",
                {
                    "from_profile_id": str(shadow),
                    "into_profile_id": str(view.id),
                    "reason": "manual",
                },
            ),
            message(tenant_id, "profile.updated", {"profile_id": str(view.id)}),
        ],
    )
    return view


async def unmerge_profile(
    session: Session,
    tenant_id: uuid.UUID,
    into_id: uuid.UUID,
    merged_id: uuid.UUID,
    now: datetime,
    *,
    log_through: uuid.UUID | None = None,
) -> uuid.UUID:
    restored = await curation.unmerge_profile(
        session, tenant_id, into_id, merged_id, now, log_through=log_through
    )
    survivor = (await reads.family_of(session, tenant_id, into_id))[0]
    family = await reads.family_of(session, tenant_id, restored)
    orders = await orders_service.restore_unmerged(
        session, tenant_id, survivor_id=survivor, restored_family=family, restored_id=restored
    )
    await crm_service.restore_unmerged(
        session,
        tenant_id,
        survivor_id=survivor,
        restored_id=restored,
        restored_family=family,
        restored_orders=orders,
        now=now,
    )
    await graph_service.restore_on_unmerge(
        session, tenant_id, survivor_id=survivor, restored_id=restored, restored_family=family
    )
    leave_for_commit(
        session,
        [
            message(
                tenant_id,
                "profile.unmerged",
                {"from_profile_id": str(restored), "into_profile_id": str(survivor)},
            ),
            message(tenant_id, "profile.updated", {"profile_id": str(survivor)}),
            message(tenant_id, "profile.updated", {"profile_id": str(restored)}),
        ],
    )
    return restored
