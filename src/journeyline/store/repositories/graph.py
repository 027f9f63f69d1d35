"""The intelligence graph's stored part (stage rows, campaign and channel counters, re-sync
counters) and its reads over the log: touchpoints are events, customers surviving profiles."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, bindparam, delete, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from journeyline.store.models import (
    Event,
    Identity,
    Profile,
    ProfileStage,
    SharedNode,
    TouchpointSync,
)
from journeyline.store.repositories.scoped import TenantRepository, aware, slices, table_of

STAGES = table_of(ProfileStage)
SHARED = table_of(SharedNode)
SYNCS = table_of(TouchpointSync)


@dataclass(frozen=True, slots=True)
class StageRecord:
    profile_id: uuid.UUID
    origin_profile_id: uuid.UUID
    stage: str
    event_id: uuid.UUID
    event_type: str
    occurred_at: datetime
    revenue: float | None
    currency: str | None


@dataclass(frozen=True, slots=True)
class SharedRecord:
    type: str
    key: str
    name: str | None
    touchpoints: int
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class TouchpointRecord:
    """An event as a touchpoint: the columns the graph reads."""

    event_id: uuid.UUID
    profile_id: uuid.UUID
    event_type: str
    source: str
    source_type: str
    occurred_at: datetime
    received_at: datetime
    campaign_id: str | None
    channel: str | None
    payload: dict[str, Any]


_SHARED_COUNTED = """ON CONFLICT (tenant_id, type, key) DO UPDATE SET
    touchpoints = graph_shared_nodes.touchpoints + excluded.touchpoints,
    first_seen_at = least(graph_shared_nodes.first_seen_at, excluded.first_seen_at),
    last_seen_at = greatest(graph_shared_nodes.last_seen_at, excluded.last_seen_at),
    name = coalesce(excluded.name, graph_shared_nodes.name)"""

_RESYNCED = """ON CONFLICT (tenant_id, event_id) DO UPDATE SET
    redeliveries = graph_touchpoint_syncs.redeliveries + excluded.redeliveries,
    last_synced_at = greatest(graph_touchpoint_syncs.last_synced_at, excluded.last_synced_at)"""

# What the funnel and the flows break customers down by: the log's columns of a touchpoint.
Dimension = Literal["campaign", "channel"]


@dataclass(frozen=True, slots=True)
class ReachRecord:
    """Customers with a touchpoint of (campaign, channel) whose furthest stage has `rank`."""

    campaign: str | None
    channel: str | None
    rank: int
    customers: int


@dataclass(frozen=True, slots=True)
class JourneyRecord:
    """One event of a customer's journey, as the journey view reads it."""

    event_id: uuid.UUID
    event_type: str
    event_name: str
    source: str
    source_type: str
    occurred_at: datetime
    campaign_id: str | None
    channel: str | None


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """What names a customer on the dashboard: its name attribute and its first email."""

    profile_id: uuid.UUID
    name: str | None
    email: str | None


STAGE_COLUMNS = (
    "profile_id",
    "origin_profile_id",
    "stage",
    "event_id",
    "event_type",
    "occurred_at",
    "revenue",
    "currency",
)


def _stage_of(row: Sequence[Any]) -> StageRecord:
    """A row of STAGE_COLUMNS."""
    profile_id, origin, stage, event_id, event_type, occurred_at, revenue, currency = row
    return StageRecord(
        profile_id, origin, stage, event_id, event_type, aware(occurred_at), revenue, currency
    )


def _stage(row: Any) -> StageRecord:
    return StageRecord(
        row.profile_id,
        row.origin_profile_id,
        row.stage,
        row.event_id,
        row.event_type,
        aware(row.occurred_at),
        row.revenue,
        row.currency,
    )


class GraphRepository(TenantRepository):
    # Stage rows.

    async def stages_of(self, profile_ids: Collection[uuid.UUID]) -> list[StageRecord]:
        """The stage rows the profiles hold now (a handful each)."""
        rows = await self.lookup(STAGES, ("profile_id",), set(profile_ids), STAGE_COLUMNS)
        return [_stage_of(row) for row in rows]

    async def stages_at(self, stage: str) -> list[StageRecord]:
        """Every row of one stage (attribution's conversions)."""
        rows = await self.session.execute(
            select(STAGES).where(STAGES.c.tenant_id == self.tenant_id, STAGES.c.stage == stage)
        )
        return [_stage(row) for row in rows]

    async def add_stages(self, rows: Sequence[dict[str, Any]]) -> None:
        await self.append_rows(STAGES, rows)

    async def move_stages(self, moves: Mapping[uuid.UUID, uuid.UUID]) -> None:
        """The stage rows of merged profiles go to their survivors: one executemany."""
        if not moves:
            return
        statement = (
            update(STAGES)
            .where(STAGES.c.tenant_id == self.tenant_id, STAGES.c.profile_id == bindparam("b_from"))
            .values(profile_id=bindparam("b_into"))
        )
        await self.session.execute(
            statement, [{"b_from": old, "b_into": new} for old, new in sorted(moves.items())]
        )

    async def return_stages(
        self, survivor_id: uuid.UUID, restored_id: uuid.UUID, origins: Collection[uuid.UUID]
    ) -> None:
        """An unmerge: the survivor's rows reached by the restored family go back to it."""
        await self.session.execute(
            update(STAGES)
            .where(
                STAGES.c.tenant_id == self.tenant_id,
                STAGES.c.profile_id == survivor_id,
                self.among(STAGES.c.origin_profile_id, sorted(origins)),
            )
            .values(profile_id=restored_id)
        )

    async def current_stage_counts(self) -> dict[int, int]:
        """Customers per current stage rank (each customer's greatest)."""
        current = (
            select(func.max(STAGES.c.rank).label("top"))
            .where(STAGES.c.tenant_id == self.tenant_id)
            .group_by(STAGES.c.profile_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(current.c.top, func.count()).group_by(current.c.top)
        )
        return {int(top): int(count) for top, count in rows}

    async def contribution_count(self) -> int:
        """CONTRIBUTES_TO edges: one per customer and stage reached."""
        pairs = (
            select(STAGES.c.profile_id, STAGES.c.stage)
            .where(STAGES.c.tenant_id == self.tenant_id)
            .distinct()
            .subquery()
        )
        return int(await self.session.scalar(select(func.count()).select_from(pairs)) or 0)

    async def reached_stages(self) -> list[str]:
        rows = await self.session.scalars(
            select(STAGES.c.stage).where(STAGES.c.tenant_id == self.tenant_id).distinct()
        )
        return list(rows)

    # Campaign and Channel counters.

    async def count_shared(self, rows: Sequence[dict[str, Any]]) -> None:
        """Add a chunk's touchpoints to the counters: one upsert per distinct key, in key
        order (every writer of the tenant meets the same hot rows, `direct` first among them:
        one order keeps them from deadlocking)."""
        if not rows:
            return
        ordered = sorted(rows, key=lambda row: (row["type"], row["key"]))
        if self._dialect == "postgresql":
            await self.insert_unnest(SHARED, ordered, on_conflict=_SHARED_COUNTED)
            return
        values = [{**row, "tenant_id": self.tenant_id} for row in ordered]
        lite = sqlite_insert(SHARED)
        await self.session.execute(
            lite.on_conflict_do_update(
                index_elements=["tenant_id", "type", "key"],
                set_={
                    "touchpoints": SHARED.c.touchpoints + lite.excluded.touchpoints,
                    # SQLite's two-argument min and max are scalar; its timestamps are ISO
                    # text of one zone, which orders as time does.
                    "first_seen_at": func.min(SHARED.c.first_seen_at, lite.excluded.first_seen_at),
                    "last_seen_at": func.max(SHARED.c.last_seen_at, lite.excluded.last_seen_at),
                    "name": func.coalesce(lite.excluded.name, SHARED.c.name),
                },
            ),
            values,
        )

    async def shared_nodes(self) -> list[SharedRecord]:
        rows = await self.session.execute(
            select(SHARED)
            .where(SHARED.c.tenant_id == self.tenant_id)
            .order_by(SHARED.c.type, SHARED.c.key)
        )
        return [
            SharedRecord(
                row.type,
                row.key,
                row.name,
                row.touchpoints,
                aware(row.first_seen_at),
                aware(row.last_seen_at),
            )
            for row in rows
        ]

    # Re-sync counters.

    async def count_resyncs(self, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        ordered = sorted(rows, key=lambda row: row["event_id"])
        if self._dialect == "postgresql":
            await self.insert_unnest(SYNCS, ordered, on_conflict=_RESYNCED)
            return
        values = [{**row, "tenant_id": self.tenant_id} for row in ordered]
        lite = sqlite_insert(SYNCS)
        await self.session.execute(
            lite.on_conflict_do_update(
                index_elements=["tenant_id", "event_id"],
                set_={
                    "redeliveries": SYNCS.c.redeliveries + lite.excluded.redeliveries,
                    "last_synced_at": func.max(
                        SYNCS.c.last_synced_at, lite.excluded.last_synced_at
                    ),
                },
            ),
            values,
        )

    async def resyncs_of(
        self, event_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[int, datetime]]:
        found: dict[uuid.UUID, tuple[int, datetime]] = {}
        for part in slices(sorted(event_ids)):
            rows = await self.session.execute(
                select(SYNCS.c.event_id, SYNCS.c.redeliveries, SYNCS.c.last_synced_at).where(
                    SYNCS.c.tenant_id == self.tenant_id, self.among(SYNCS.c.event_id, part)
                )
            )
            found.update((event_id, (count, aware(at))) for event_id, count, at in rows)
        return found

    async def all_resyncs(self) -> dict[uuid.UUID, tuple[int, datetime]]:
        rows = await self.session.execute(
            select(SYNCS.c.event_id, SYNCS.c.redeliveries, SYNCS.c.last_synced_at).where(
                SYNCS.c.tenant_id == self.tenant_id
            )
        )
        return {event_id: (count, aware(at)) for event_id, count, at in rows}

    # Rebuild.

    async def reset(self) -> None:
        """Everything the log derives again; the re-sync counters stay (duplicates are not in
        the log, so only these rows remember them)."""
        for table in (STAGES, SHARED):
            await self.session.execute(delete(table).where(table.c.tenant_id == self.tenant_id))

    # Reads over the log.

    async def newest_customers(self, limit: int) -> list[uuid.UUID]:
        """The newest surviving profiles (UUIDv7 ids)."""
        rows = await self.session.scalars(
            select(Profile.id)
            .where(Profile.tenant_id == self.tenant_id, Profile.status != "merged")
            .order_by(Profile.id.desc())
            .limit(limit)
        )
        return list(rows)

    async def customer_count(self) -> int:
        statement = select(func.count()).where(
            Profile.tenant_id == self.tenant_id, Profile.status != "merged"
        )
        return int(await self.session.scalar(statement) or 0)

    async def survivors_of(self, profile_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        """Each profile's surviving profile (itself unless merged; merge chains are one deep)."""
        found: dict[uuid.UUID, uuid.UUID] = {}
        for part in slices(sorted(profile_ids)):
            rows = await self.session.execute(
                select(Profile.id, Profile.merged_into).where(
                    Profile.tenant_id == self.tenant_id, self.among(Profile.id, part)
                )
            )
            found.update((profile_id, into or profile_id) for profile_id, into in rows)
        return found

    async def families_of(self, customers: Collection[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        """Every profile of the customers' merge families -> its customer."""
        found = {customer: customer for customer in customers}
        for part in slices(sorted(customers)):
            rows = await self.session.execute(
                select(Profile.id, Profile.merged_into).where(
                    Profile.tenant_id == self.tenant_id, self.among(Profile.merged_into, part)
                )
            )
            found.update((profile_id, into) for profile_id, into in rows if into is not None)
        return found

    async def newest_touchpoints(
        self, limit: int, before: uuid.UUID | None = None
    ) -> list[TouchpointRecord]:
        """The newest events that belong to a customer, keyset-paged on the event id."""
        statement = select(
            Event.id,
            Event.profile_id,
            Event.event_type,
            Event.source,
            Event.source_type,
            Event.occurred_at,
            Event.received_at,
            Event.campaign_id,
            Event.channel,
            Event.payload,
        ).where(Event.tenant_id == self.tenant_id, Event.profile_id.is_not(None))
        if before is not None:
            statement = statement.where(Event.id < before)
        rows = await self.session.execute(statement.order_by(Event.id.desc()).limit(limit))
        return [
            TouchpointRecord(
                row.id,
                row.profile_id,
                row.event_type,
                row.source,
                row.source_type,
                aware(row.occurred_at),
                aware(row.received_at),
                row.campaign_id,
                row.channel,
                dict(row.payload or {}),
            )
            for row in rows
        ]

    async def touch_rows(
        self, profile_ids: Collection[uuid.UUID], *, until: datetime | None
    ) -> list[tuple[uuid.UUID, uuid.UUID, datetime, str | None, str | None]]:
        """(event id, profile id, occurred_at, campaign, channel) of the profiles' events up to
        `until`: attribution's touches, read from the log's columns."""
        found: list[tuple[uuid.UUID, uuid.UUID, datetime, str | None, str | None]] = []
        for part in slices(sorted(profile_ids)):
            statement = select(
                Event.id, Event.profile_id, Event.occurred_at, Event.campaign_id, Event.channel
            ).where(Event.tenant_id == self.tenant_id, self.among(Event.profile_id, part))
            if until is not None:
                statement = statement.where(Event.occurred_at <= until)
            rows = await self.session.execute(statement)
            found.extend(
                (event_id, profile_id, aware(at), campaign, channel)
                for event_id, profile_id, at, campaign, channel in rows
                if profile_id is not None
            )
        return found

    async def touchpoint_counts(self) -> tuple[int, int]:
        """(events with a customer, those of them with a campaign)."""
        row = (
            await self.session.execute(
                select(func.count(), func.count(Event.campaign_id)).where(
                    Event.tenant_id == self.tenant_id, Event.profile_id.is_not(None)
                )
            )
        ).one()
        return int(row[0]), int(row[1])

    # The dashboard's funnel, flows and journeys: set-based reads, grouped in SQL.

    async def reach(
        self,
        dimensions: Sequence[Dimension],
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[ReachRecord]:
        """Customers by their furthest stage (its rank) and by the `dimensions` of their
        touchpoints in [since, until): one customer counts once per distinct (campaign,
        channel) it had a touchpoint of, and once overall with no dimension. A touchpoint of a
        merged profile is its survivor's. Customers who reached no stage are not counted."""
        furthest = (
            select(STAGES.c.profile_id, func.max(STAGES.c.rank).label("top"))
            .where(STAGES.c.tenant_id == self.tenant_id)
            .group_by(STAGES.c.profile_id)
            .subquery()
        )
        columns = {"campaign": Event.campaign_id, "channel": Event.channel}
        grouped = [columns[dimension] for dimension in dimensions]
        customer = func.coalesce(Profile.merged_into, Profile.id)
        statement = (
            select(*grouped, furthest.c.top, func.count(func.distinct(furthest.c.profile_id)))
            .select_from(Event)
            .join(
                Profile, and_(Profile.tenant_id == self.tenant_id, Profile.id == Event.profile_id)
            )
            .join(furthest, furthest.c.profile_id == customer)
            .where(Event.tenant_id == self.tenant_id)
            .group_by(*grouped, furthest.c.top)
        )
        if since is not None:
            statement = statement.where(Event.occurred_at >= since)
        if until is not None:
            statement = statement.where(Event.occurred_at < until)
        found: list[ReachRecord] = []
        for row in await self.session.execute(statement):
            items: tuple[Any, ...] = tuple(row)
            values = dict(zip(dimensions, items[: len(dimensions)], strict=True))
            campaign, channel = values.get("campaign"), values.get("channel")
            found.append(ReachRecord(campaign, channel, int(items[-2]), int(items[-1])))
        return found

    async def journey_events(
        self, profile_ids: Collection[uuid.UUID], limit: int
    ) -> list[JourneyRecord]:
        """The profiles' first `limit` events, oldest first (then by id: the log's order)."""
        rows = await self.session.execute(
            select(
                Event.id,
                Event.event_type,
                Event.event_name,
                Event.source,
                Event.source_type,
                Event.occurred_at,
                Event.campaign_id,
                Event.channel,
            )
            .where(Event.tenant_id == self.tenant_id, self.among(Event.profile_id, profile_ids))
            .order_by(Event.occurred_at, Event.id)
            .limit(limit)
        )
        return [
            JourneyRecord(
                row.id,
                row.event_type,
                row.event_name,
                row.source,
                row.source_type,
                aware(row.occurred_at),
                row.campaign_id,
                row.channel,
            )
            for row in rows
        ]

    async def people_of(self, profile_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, PersonRecord]:
        """Each profile's person as the dashboard names it: the profile it was merged into (if
        any), with that profile's name attribute and its first email (in value order)."""
        survivors = await self.survivors_of(profile_ids)
        wanted = sorted(set(survivors.values()))
        names: dict[uuid.UUID, str | None] = {}
        emails: dict[uuid.UUID, str] = {}
        for part in slices(wanted):
            rows = await self.session.execute(
                select(Profile.id, Profile.attributes).where(
                    Profile.tenant_id == self.tenant_id, self.among(Profile.id, part)
                )
            )
            for profile_id, attributes in rows:
                name = (attributes or {}).get("name")
                names[profile_id] = name if isinstance(name, str) and name.strip() else None
            found = await self.session.execute(
                select(Identity.profile_id, func.min(Identity.value))
                .where(
                    Identity.tenant_id == self.tenant_id,
                    Identity.kind == "email",
                    self.among(Identity.profile_id, part),
                )
                .group_by(Identity.profile_id)
            )
            emails.update((profile_id, email) for profile_id, email in found)
        return {
            profile_id: PersonRecord(survivor, names.get(survivor), emails.get(survivor))
            for profile_id, survivor in survivors.items()
        }

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name
