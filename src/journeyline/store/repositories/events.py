"""The event log: dedupe lookups, multi-row appends, timelines."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, overload

from sqlalchemy import ColumnElement, Integer, and_, cast, func, literal_column, or_, select

from journeyline.store.models import Event, Profile
from journeyline.store.repositories.scoped import TenantRepository, aware, slices, table_of


@dataclass(frozen=True, slots=True)
class StoredEventRef:
    event_id: uuid.UUID
    profile_id: uuid.UUID | None
    payload_hash: str


@dataclass(frozen=True, slots=True)
class CampaignTouches:
    """A profile's touchpoints of one campaign, channel, UTM source and medium."""

    campaign: str | None
    channel: str | None
    utm_source: str | None
    utm_medium: str | None
    touches: int
    first_at: datetime
    last_at: datetime


# On PostgreSQL the lookup is one index probe per id, whatever the statistics say: with a plain
# `external_event_id IN (...)` and stale statistics (a fresh table under a bulk load, before
# autovacuum's first ANALYZE) the planner may apply the list as a filter over every event of the
# tenant and source, which makes a backfill quadratic. LATERAL with equality on the whole unique
# key, fenced by OFFSET 0 so the planner cannot flatten it back into that filter, leaves it no
# such choice.
_PG_DEDUPE = """
    SELECT e.source, e.external_event_id, e.id, e.profile_id, e.payload_hash
    FROM unnest($1::varchar[]) AS wanted(external_event_id)
    CROSS JOIN LATERAL (
        SELECT source, external_event_id, id, profile_id, payload_hash
        FROM events
        WHERE tenant_id = $2
          AND source = $3
          AND external_event_id = wanted.external_event_id
        OFFSET 0
    ) AS e
    """


EVENTS = table_of(Event)


class EventRepository(TenantRepository):
    async def find_by_external_ids(
        self, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], StoredEventRef]:
        """Events already stored under (source, external_event_id)."""
        by_source: dict[str, list[str]] = {}
        for source, external_id in set(keys):
            by_source.setdefault(source, []).append(external_id)
        found: dict[tuple[str, str], StoredEventRef] = {}
        is_postgres = self.session.get_bind().dialect.name == "postgresql"
        for source, external_ids in by_source.items():
            for part in slices(external_ids):
                if is_postgres:
                    rows = await self._driver_fetch(_PG_DEDUPE, list(part), self.tenant_id, source)
                else:
                    rows = list(
                        await self.session.execute(
                            select(
                                Event.source,
                                Event.external_event_id,
                                Event.id,
                                Event.profile_id,
                                Event.payload_hash,
                            ).where(
                                Event.tenant_id == self.tenant_id,
                                Event.source == source,
                                self.among(Event.external_event_id, part),
                            )
                        )
                    )
                for row in rows:
                    found[(row[0], str(row[1]))] = StoredEventRef(row[2], row[3], row[4])
        return found

    async def append(self, rows: Sequence[dict[str, Any]]) -> None:
        """The log is append-only and its rows are complete: COPY on PostgreSQL suits it."""
        await self.append_rows(EVENTS, rows)

    async def events_of_profiles(
        self, event_ids: Collection[uuid.UUID], profile_ids: Collection[uuid.UUID]
    ) -> set[uuid.UUID]:
        """Which of the events the log attributes to one of the profiles."""
        found: set[uuid.UUID] = set()
        if not profile_ids:
            return found
        for part in slices(sorted(event_ids)):
            rows = await self.session.scalars(
                select(Event.id).where(
                    Event.tenant_id == self.tenant_id,
                    self.among(Event.id, part),
                    self.among(Event.profile_id, sorted(profile_ids)),
                )
            )
            found.update(rows)
        return found

    async def count(self) -> int:
        statement = select(func.count()).select_from(Event).where(Event.tenant_id == self.tenant_id)
        return int(await self.session.scalar(statement) or 0)

    async def newest(self, limit: int) -> list[Event]:
        """The last events written (UUIDv7 ids), newest first."""
        statement = select(Event).where(Event.tenant_id == self.tenant_id).order_by(Event.id.desc())
        return list((await self.session.scalars(statement.limit(limit))).all())

    async def log_page(self, after: uuid.UUID | None, limit: int) -> list[Event]:
        """The log in the order it was written (UUIDv7 ids), keyset-paged."""
        statement = select(Event).where(Event.tenant_id == self.tenant_id)
        if after is not None:
            statement = statement.where(Event.id > after)
        statement = statement.order_by(Event.id).limit(limit)
        return list((await self.session.scalars(statement)).all())

    async def page_for_profiles(
        self,
        profile_ids: Sequence[uuid.UUID],
        *,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
        oldest_first: bool = False,
    ) -> list[Event]:
        """Newest first (or oldest first), keyset-paged on (occurred_at, id): `before` is the
        last row of the previous page."""
        statement = select(Event).where(
            Event.tenant_id == self.tenant_id, self.among(Event.profile_id, profile_ids)
        )
        if before is not None:
            at, event_id = before
            if oldest_first:
                statement = statement.where(
                    or_(Event.occurred_at > at, and_(Event.occurred_at == at, Event.id > event_id))
                )
            else:
                statement = statement.where(
                    or_(Event.occurred_at < at, and_(Event.occurred_at == at, Event.id < event_id))
                )
        if oldest_first:
            statement = statement.order_by(Event.occurred_at, Event.id)
        else:
            statement = statement.order_by(Event.occurred_at.desc(), Event.id.desc())
        return list((await self.session.scalars(statement.limit(limit))).all())

    async def campaigns_of_profiles(
        self, profile_ids: Collection[uuid.UUID]
    ) -> list[CampaignTouches]:
        """The profiles' touchpoints grouped by campaign, channel and the payload's UTM source
        and medium, the most recent first; events with none of these are not counted. (Grouped
        over a subquery: PostgreSQL would see the payload's keys bound twice as two different
        expressions.)"""
        source = Event.payload["utm_source"].as_string()
        medium = Event.payload["utm_medium"].as_string()
        touches = (
            select(
                Event.campaign_id.label("campaign"),
                Event.channel.label("channel"),
                source.label("utm_source"),
                medium.label("utm_medium"),
                Event.occurred_at.label("at"),
            )
            .where(
                Event.tenant_id == self.tenant_id,
                self.among(Event.profile_id, list(profile_ids)),
                or_(
                    Event.campaign_id.is_not(None),
                    Event.channel.is_not(None),
                    source.is_not(None),
                    medium.is_not(None),
                ),
            )
            .subquery("touches")
        )
        keys = (touches.c.campaign, touches.c.channel, touches.c.utm_source, touches.c.utm_medium)
        statement = (
            select(*keys, func.count(), func.min(touches.c.at), func.max(touches.c.at))
            .group_by(*keys)
            .order_by(func.max(touches.c.at).desc())
        )
        return [
            CampaignTouches(
                campaign, channel, utm_source, utm_medium, int(count), aware(first), aware(last)
            )
            for campaign, channel, utm_source, utm_medium, count, first, last in (
                await self.session.execute(statement)
            )
        ]

    async def objects_of_profiles(self, profile_ids: Sequence[uuid.UUID]) -> set[str]:
        """The objects (orders) that the profiles' events name."""
        statement = (
            select(Event.object_id)
            .where(
                Event.tenant_id == self.tenant_id,
                self.among(Event.profile_id, profile_ids),
                Event.object_id.is_not(None),
            )
            .distinct()
        )
        return {str(value) for value in (await self.session.scalars(statement)).all()}

    async def first_profiles_of_objects(
        self, object_ids: Sequence[str]
    ) -> dict[str, uuid.UUID | None]:
        """For each object, the profile its earliest event was attributed to."""
        first: dict[str, tuple[datetime, uuid.UUID, uuid.UUID | None]] = {}
        for part in slices(sorted(object_ids)):
            rows = await self.session.execute(
                select(Event.object_id, Event.occurred_at, Event.id, Event.profile_id).where(
                    Event.tenant_id == self.tenant_id, self.among(Event.object_id, part)
                )
            )
            for object_id, at, event_id, profile_id in rows:
                key = str(object_id)
                if key not in first or (at, event_id) < first[key][:2]:
                    first[key] = (at, event_id, profile_id)
        return {key: value[2] for key, value in first.items()}

    async def count_session_events(
        self, profile_ids: Sequence[uuid.UUID], session_id: str, *, before: uuid.UUID
    ) -> int:
        """Events of the session logged before event `before` and attributed to the profiles."""
        statement = (
            select(func.count())
            .select_from(Event)
            .where(
                Event.tenant_id == self.tenant_id,
                Event.session_id == session_id,
                self.among(Event.profile_id, profile_ids),
                Event.id < before,
            )
        )
        return int(await self.session.scalar(statement) or 0)

    async def traits_for_profiles(
        self, profile_ids: Sequence[uuid.UUID], through: uuid.UUID | None = None
    ) -> list[tuple[dict[str, Any], datetime]]:
        """The attribute patches of the profiles' events (up to event `through`, if given)."""
        statement = (
            select(Event.traits, Event.occurred_at)
            .where(
                Event.tenant_id == self.tenant_id,
                self.among(Event.profile_id, profile_ids),
                Event.traits.is_not(None),
            )
            .order_by(Event.occurred_at, Event.id)
        )
        if through is not None:
            statement = statement.where(Event.id <= through)
        return [(row[0], row[1]) for row in await self.session.execute(statement) if row[0]]

    async def ids_exist(self, event_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        statement = select(Event.id).where(
            Event.tenant_id == self.tenant_id, self.among(Event.id, event_ids)
        )
        return set((await self.session.scalars(statement)).all())

    async def stats_for_profiles(
        self, profile_ids: Sequence[uuid.UUID], through: uuid.UUID | None = None
    ) -> tuple[int, datetime | None, datetime | None]:
        """(event count, first occurred_at, last occurred_at) over the profiles' events (up to
        event `through`, if given)."""
        statement = select(
            func.count(), func.min(Event.occurred_at), func.max(Event.occurred_at)
        ).where(Event.tenant_id == self.tenant_id, self.among(Event.profile_id, profile_ids))
        if through is not None:
            statement = statement.where(Event.id <= through)
        row = (await self.session.execute(statement)).one()
        return int(row[0]), _aware(row[1]), _aware(row[2])

    # The Overview's charts: set-based counts per time bucket, never a row per event.

    def _bucket(self, size_seconds: int, offset_seconds: int) -> ColumnElement[Any]:
        """The bucket an event's occurred_at falls in: whole `size_seconds` since the epoch,
        shifted by the viewer's UTC offset (so a day bucket is the viewer's day). The two
        numbers are validated integers, written into the SQL as literals: the grouped
        expression must be the selected one, which a bound parameter would not let PostgreSQL
        see."""
        size: ColumnElement[Any] = literal_column(str(int(size_seconds)))
        offset: ColumnElement[Any] = literal_column(str(int(offset_seconds)))
        if self.on_postgres:
            since_epoch: ColumnElement[Any] = func.extract("epoch", Event.occurred_at)
            return cast(func.floor((since_epoch + offset) / size), Integer)
        # SQLite keeps UTC text; strftime('%s') reads it as seconds since the epoch.
        seconds: ColumnElement[Any] = cast(func.strftime("%s", Event.occurred_at), Integer)
        return (seconds + offset) / size

    async def activity(
        self, since: datetime, until: datetime, size_seconds: int, offset_seconds: int
    ) -> list[tuple[int, str, str, int]]:
        """(bucket, source, event type, events) for the events that occurred in [since, until),
        one row per non-empty combination."""
        bucket = self._bucket(size_seconds, offset_seconds).label("bucket")
        statement = (
            select(bucket, Event.source, Event.event_type, func.count())
            .where(
                Event.tenant_id == self.tenant_id,
                Event.occurred_at >= since,
                Event.occurred_at < until,
            )
            .group_by(bucket, Event.source, Event.event_type)
        )
        rows = await self.session.execute(statement)
        return [(int(b), source, kind, int(count)) for b, source, kind, count in rows]

    async def active_people(
        self, since: datetime, until: datetime, size_seconds: int, offset_seconds: int
    ) -> list[tuple[int, int]]:
        """(bucket, people) over [since, until): the distinct persons with an event in each
        bucket, a merged profile counted as the person it was merged into."""
        bucket = self._bucket(size_seconds, offset_seconds).label("bucket")
        person = func.coalesce(Profile.merged_into, Event.profile_id)
        statement = (
            select(bucket, func.count(func.distinct(person)))
            .select_from(Event)
            .join(
                Profile,
                and_(Profile.tenant_id == self.tenant_id, Profile.id == Event.profile_id),
            )
            .where(
                Event.tenant_id == self.tenant_id,
                Event.occurred_at >= since,
                Event.occurred_at < until,
            )
            .group_by(bucket)
        )
        rows = await self.session.execute(statement)
        return [(int(b), int(people)) for b, people in rows]


@overload
def _aware(value: datetime) -> datetime: ...


@overload
def _aware(value: datetime | str | None) -> datetime | None: ...


def _aware(value: datetime | str | None) -> datetime | None:
    """Aggregates bypass the column type on SQLite, which hands back naive text."""
    if value is None:
        return None
    return aware(datetime.fromisoformat(value) if isinstance(value, str) else value)
