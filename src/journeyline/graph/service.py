"""The intelligence graph as a projection and as a view (DESIGN §5).

Writing: a chunk's plan (`build.py`) is saved in at most five statements, none of them per
event: the stage rows of the chunk's known profiles read, merged profiles' rows moved, reached
stages inserted, re-sync counters and campaign/channel counters upserted. A merge moves the
shadow's stage rows (a handful), an unmerge gives them back; neither touches a row per event.

Reading: touchpoints are the events, customers the surviving profiles; `GET /v1/intelligence`
and attribution read them from the log with the timeline's indexes, bounded.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import cast

from journeyline.graph.attribution import Attribution, AttributionModel, Touch, attribute
from journeyline.graph.attribution import conversions_of as read_conversions
from journeyline.graph.build import MergeStep, TouchFact, plan_chunk
from journeyline.graph.plan import GraphPlan, SharedType
from journeyline.graph.stages import STAGES, Stage, StageRow, current_stage
from journeyline.graph.view import (
    GraphStats,
    IntelligenceView,
    Mode,
    Shared,
    Touchpoint,
    assemble,
    counted_stats,
)
from journeyline.store.db import Session
from journeyline.store.repositories.graph import GraphRepository, SharedRecord, StageRecord
from journeyline.store.repositories.scoped import aware

_STAGE_OF: dict[str, Stage] = {stage: stage for stage in STAGES}


def _row(record: StageRecord) -> StageRow | None:
    stage = _STAGE_OF.get(record.stage)
    if stage is None:
        return None
    return StageRow(
        profile_id=record.profile_id,
        origin_profile_id=record.origin_profile_id,
        stage=stage,
        event_id=record.event_id,
        event_type=record.event_type,
        occurred_at=record.occurred_at,
        revenue=record.revenue,
        currency=record.currency,
    )


def stage_rows(records: Iterable[StageRecord]) -> list[StageRow]:
    return [row for record in records if (row := _row(record)) is not None]


async def stages_of(
    session: Session, tenant_id: uuid.UUID, profile_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Stage]:
    """Each surviving profile's funnel stage (the furthest it reached); none for a profile
    that reached no stage yet."""
    by_profile: dict[uuid.UUID, list[StageRow]] = {}
    records = await GraphRepository(session, tenant_id).stages_of(set(profile_ids))
    for row in stage_rows(records):
        by_profile.setdefault(row.profile_id, []).append(row)
    return {
        profile_id: stage
        for profile_id, rows in by_profile.items()
        if (stage := current_stage(rows)) is not None
    }


# Projecting.


async def project(
    session: Session,
    tenant_id: uuid.UUID,
    steps: Sequence[TouchFact | MergeStep],
    *,
    new_profiles: Collection[uuid.UUID] = frozenset(),
) -> GraphPlan:
    """Plan and save a chunk's events and merges, in their order. `new_profiles` were created
    by this chunk: they have no stage rows yet, so theirs are not looked up."""
    if not steps:
        return GraphPlan()
    profiles: set[uuid.UUID] = set()
    for step in steps:
        if isinstance(step, MergeStep):
            profiles.update((step.from_profile_id, step.into_profile_id))
        elif step.profile_id is not None and not step.redelivery:
            profiles.add(step.profile_id)
    profiles -= set(new_profiles)
    repo = GraphRepository(session, tenant_id)
    stored: dict[uuid.UUID, list[StageRow]] = {}
    if profiles:
        for row in stage_rows(await repo.stages_of(profiles)):
            stored.setdefault(row.profile_id, []).append(row)
    plan = plan_chunk(stored, steps)
    await save(repo, plan)
    return plan


async def save(repo: GraphRepository, plan: GraphPlan) -> None:
    """Moves first (a row reached in the chunk names the final survivor already), then the
    new rows, then the counters: the shared ones last, since every writer of the tenant meets
    them and each holds their row locks until it commits."""
    await repo.move_stages(plan.moved)
    await repo.add_stages(
        [
            {
                "origin_profile_id": row.origin_profile_id,
                "stage": row.stage,
                "profile_id": row.profile_id,
                "rank": STAGES.index(row.stage),
                "event_id": row.event_id,
                "event_type": row.event_type,
                "occurred_at": row.occurred_at,
                "revenue": row.revenue,
                "currency": row.currency,
            }
            for row in plan.reached
        ]
    )
    await repo.count_resyncs(
        [
            {
                "event_id": resync.event_id,
                "redeliveries": resync.redeliveries,
                "last_synced_at": resync.last_synced_at,
            }
            for resync in plan.resyncs.values()
        ]
    )
    await repo.count_shared(
        [
            {
                "type": count.type,
                "key": count.key,
                "name": count.name,
                "touchpoints": count.touchpoints,
                "first_seen_at": count.first_seen_at,
                "last_seen_at": count.last_seen_at,
            }
            for count in plan.shared.values()
        ]
    )


async def follow_merge(
    session: Session, tenant_id: uuid.UUID, from_id: uuid.UUID, into_id: uuid.UUID
) -> None:
    """An operator merged `from_id` (a surviving profile until then) into `into_id`: its stage
    rows count for the survivor, whose stage becomes the later of the two."""
    await GraphRepository(session, tenant_id).move_stages({from_id: into_id})


async def undo_merge(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    survivor_id: uuid.UUID,
    restored_id: uuid.UUID,
    restored_family: Iterable[uuid.UUID],
) -> None:
    """After an unmerge each side holds the stage rows it reached itself: the survivor's stage
    may move back, raised as it was by history that turned out not to be its own."""
    await GraphRepository(session, tenant_id).return_stages(
        survivor_id, restored_id, set(restored_family)
    )


async def reset(session: Session, tenant_id: uuid.UUID) -> None:
    await GraphRepository(session, tenant_id).reset()


# Reading.


def _shared(records: Iterable[SharedRecord]) -> list[Shared]:
    return [
        Shared(
            cast(SharedType, record.type),
            record.key,
            record.name,
            record.touchpoints,
            record.first_seen_at,
            record.last_seen_at,
        )
        for record in records
        if record.type in ("Campaign", "Channel")
    ]


async def intelligence(
    session: Session,
    tenant_id: uuid.UUID,
    mode: Mode,
    limit: int,
    *,
    before: uuid.UUID | None = None,
) -> IntelligenceView:
    """The graph as `GET /v1/intelligence` serves it, bounded: every Campaign, Channel and
    reached Stage, the newest `limit` Customers and (in `full`) a page of `limit` Touchpoints,
    newest first (`before`: the cursor of the previous page), with the edges between the nodes
    returned. The stats describe the whole graph (counting queries)."""
    repo = GraphRepository(session, tenant_id)
    shared = _shared(await repo.shared_nodes())
    reached = await _reached(repo)
    customers = await repo.newest_customers(limit + 1)
    touchpoints: list[Touchpoint] = []
    next_cursor: uuid.UUID | None = None
    if mode == "full":
        records = await repo.newest_touchpoints(limit + 1, before)
        if len(records) > limit:
            records = records[:limit]
            next_cursor = records[-1].event_id
        survivors = await repo.survivors_of({record.profile_id for record in records})
        resyncs = await repo.resyncs_of([record.event_id for record in records])
        for record in records:
            redeliveries, last_synced = resyncs.get(record.event_id, (0, None))
            touchpoints.append(
                Touchpoint(
                    event_id=record.event_id,
                    customer_id=survivors.get(record.profile_id, record.profile_id),
                    event_type=record.event_type,
                    source=record.source,
                    source_type=record.source_type,
                    occurred_at=record.occurred_at,
                    received_at=record.received_at,
                    campaign_id=record.campaign_id,
                    channel=record.channel,
                    payload=record.payload,
                    redeliveries=redeliveries,
                    last_synced_at=last_synced,
                )
            )
    truncated = len(customers) > limit or next_cursor is not None
    customers = customers[:limit]
    nodes, edges = assemble(
        tenant_id,
        shared=shared,
        reached=reached,
        customers=customers,
        stage_rows=stage_rows(await repo.stages_of(customers)),
        touchpoints=touchpoints,
    )
    stats = await _stats(repo, shared, reached)
    return IntelligenceView(tuple(nodes), tuple(edges), stats, truncated, next_cursor)


async def stats(session: Session, tenant_id: uuid.UUID) -> GraphStats:
    """The whole graph's stats alone (the dashboard's counts), from counting queries."""
    repo = GraphRepository(session, tenant_id)
    reached = await _reached(repo)
    return await _stats(repo, _shared(await repo.shared_nodes()), reached)


async def _reached(repo: GraphRepository) -> list[Stage]:
    return [_STAGE_OF[stage] for stage in await repo.reached_stages() if stage in _STAGE_OF]


async def _stats(repo: GraphRepository, shared: list[Shared], reached: list[Stage]) -> GraphStats:
    total, with_campaign = await repo.touchpoint_counts()
    return counted_stats(
        customers=await repo.customer_count(),
        touchpoints=total,
        with_campaign=with_campaign,
        shared=shared,
        reached=reached,
        current_by_rank=await repo.current_stage_counts(),
        contributions=await repo.contribution_count(),
    )


async def attribution(
    session: Session,
    tenant_id: uuid.UUID,
    model: AttributionModel,
    *,
    stage: Stage = "conversion",
    since: datetime | None = None,
    until: datetime | None = None,
) -> Attribution:
    """Every conversion into `stage` in [since, until), shared among its customer's touchpoints
    by `model` (`attribution.py`): the conversions are the stage's rows, the touches the events
    of the converted customers' merge families up to their latest conversion, read from the
    log's campaign and channel columns."""
    repo = GraphRepository(session, tenant_id)
    conversions = read_conversions(
        stage_rows(await repo.stages_at(stage)), since=since, until=until
    )
    if not conversions:
        return attribute([], {}, model)
    family = await repo.families_of({conversion.customer_id for conversion in conversions})
    latest = max(conversion.occurred_at for conversion in conversions)
    touches: dict[uuid.UUID, list[Touch]] = {}
    for event_id, profile_id, at, campaign, channel in await repo.touch_rows(family, until=latest):
        touches.setdefault(family[profile_id], []).append(
            Touch(aware(at), campaign, channel, event_id)
        )
    return attribute(conversions, touches, model)
