"""An operator's merge and unmerge, whole (POST /v1/profiles/{id}/merge and /unmerge, and their
replay by rebuild): identity first (identity/identity_merges.py), then each projection of the
registry in its order, then the realtime messages."""

from __future__ import annotations

import uuid
from datetime import datetime

from journeyline.identity import identity_merges, reads
from journeyline.identity.identity_merges import Unmerge
from journeyline.identity.reads import ProfileView
from journeyline.ingest import projections
from journeyline.ingest.projections import MergeMove, UnmergeMove
from journeyline.realtime.messages import message
from journeyline.store.db import Session, leave_for_commit


async def merge_profiles(
    session: Session, tenant_id: uuid.UUID, into_id: uuid.UUID, from_id: uuid.UUID, now: datetime
) -> ProfileView:
    """Merge `from_id` into `into_id`, and every projection with it; returns the survivor."""
    # The graph moves the customer that survived until now (a merged id names its survivor).
    shadow = (await reads.family_of(session, tenant_id, from_id))[0]
    view = await identity_merges.merge_identities(session, tenant_id, into_id, from_id, now)
    await projections.follow_merge(
        session, MergeMove(tenant_id, shadow, view.id, tuple(view.merged_from), now)
    )
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


async def unmerge_profile(session: Session, unmerge: Unmerge) -> uuid.UUID:
    """Undo an operator's merge and everything it moved; returns the restored profile's id."""
    tenant_id, now = unmerge.tenant_id, unmerge.now
    restored = await identity_merges.unmerge_identities(session, unmerge)
    survivor = (await reads.family_of(session, tenant_id, unmerge.into_id))[0]
    family = await reads.family_of(session, tenant_id, restored)
    await projections.undo_merge(
        session, UnmergeMove(tenant_id, survivor, restored, tuple(family), now)
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
