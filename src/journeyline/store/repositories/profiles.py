"""Profiles, identities, lineage, the merge journal and identity conflicts."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import (
    and_,
    bindparam,
    delete,
    func,
    insert,
    not_,
    or_,
    select,
    update,
)

from journeyline.statuses import ProfileStatus
from journeyline.store.models import (
    AttributeChange,
    Identity,
    IdentityConflict,
    Profile,
    ProfileMerge,
)
from journeyline.store.repositories.scoped import TenantRepository, slices, table_of

STRONG = ("email", "phone", "external_id")


_LOCK_KEYS = "SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k"
# Per profile, an index probe on (tenant_id, profile_id), as `lookup` does (see there why).
_STRONG_COUNTS = """
SELECT w.profile_id, c.kind, c.n
FROM unnest($2::uuid[]) AS w(profile_id)
CROSS JOIN LATERAL (
    SELECT t.kind, count(*) AS n
    FROM identities AS t
    WHERE t.tenant_id = $1
      AND t.profile_id = w.profile_id
      AND t.kind IN ('email', 'phone', 'external_id')
      AND NOT (
          t.kind = 'external_id'
          AND strpos(t.value, ':') > 0
          AND split_part(t.value, ':', 1) = ANY($3::text[])
      )
    GROUP BY t.kind
    OFFSET 0
) AS c
"""


class ProfileColumns(NamedTuple):
    """A profile's columns as resolution reads them (`STATE_COLUMNS`, in this order)."""

    id: uuid.UUID
    status: ProfileStatus
    merged_into: uuid.UUID | None
    attributes: dict[str, Any] | None
    attribute_times: dict[str, str] | None
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    event_count: int


STATE_COLUMNS = ProfileColumns._fields


class ProfileRecord(Protocol):
    """A profile as `insert_states` and `update_states` write it: identity/identity_map.py's
    `ProfileState`, read by attribute (the store sits below identity and does not import it)."""

    id: uuid.UUID
    status: ProfileStatus
    merged_into: uuid.UUID | None
    attributes: dict[str, Any]
    times: dict[str, str]
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    event_count: int


def _profile_row(state: ProfileRecord, now: datetime) -> dict[str, Any]:
    return {
        "id": state.id,
        "status": state.status,
        "merged_into": state.merged_into,
        "attributes": state.attributes,
        "attribute_times": state.times,
        "first_seen_at": state.first_seen_at or now,
        "last_seen_at": state.last_seen_at or now,
        "event_count": state.event_count,
        "updated_at": now,
    }


# The Core tables, for executemany UPDATEs keyed on other columns than the primary key.
IDENTITIES = table_of(Identity)
PROFILES = table_of(Profile)
MERGES = table_of(ProfileMerge)


class ProfileRepository(TenantRepository):
    async def counts_by_status(self) -> dict[str, int]:
        """How many profiles are anchors, merged, shadows: in that order, always (a GROUP BY
        alone comes back in PostgreSQL's hash order, which varies run to run)."""
        rows = await self.session.execute(
            select(Profile.status, func.count())
            .where(Profile.tenant_id == self.tenant_id)
            .group_by(Profile.status)
            .order_by(Profile.status)
        )
        return {status: int(count) for status, count in rows}

    # -- locks ---------------------------------------------------------------------------------
    async def lock_keys(self, keys: Sequence[int]) -> None:
        """Transaction-scoped advisory locks (PostgreSQL); keys arrive sorted."""
        if not keys or self.session.get_bind().dialect.name != "postgresql":
            return
        for part in slices(keys, 1000):
            await self._driver_fetch(_LOCK_KEYS, list(part))

    # -- identities ----------------------------------------------------------------------------
    async def owners_of(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], uuid.UUID]:
        """Owners of every (kind, value), by index probes (see `lookup`)."""
        rows = await self.lookup(
            IDENTITIES, ("kind", "value"), set(keys), ("kind", "value", "profile_id")
        )
        return {(kind, value): profile_id for kind, value, profile_id in rows}

    async def identifiers_of(
        self, profile_ids: Collection[uuid.UUID]
    ) -> list[tuple[uuid.UUID, str, str]]:
        """(profile id, kind, value) of every identifier the profiles own, in no order."""
        rows = await self.lookup(
            IDENTITIES, ("profile_id",), set(profile_ids), ("profile_id", "kind", "value")
        )
        return [(profile_id, kind, value) for profile_id, kind, value in rows]

    async def identities_of(self, profile_ids: Sequence[uuid.UUID]) -> list[Identity]:
        statement = (
            select(Identity)
            .where(
                Identity.tenant_id == self.tenant_id, self.among(Identity.profile_id, profile_ids)
            )
            .order_by(Identity.kind, Identity.value)
            .execution_options(populate_existing=True)
        )
        return list((await self.session.scalars(statement)).all())

    async def strong_counts(
        self, profile_ids: Sequence[uuid.UUID], *, exempt_namespaces: Sequence[str] = ()
    ) -> dict[uuid.UUID, dict[str, int]]:
        """Strong identifiers per profile and kind, without external ids in the exempt
        namespaces (`stripe:…`), which no limit applies to."""
        counts: dict[uuid.UUID, dict[str, int]] = {}
        if self.on_postgres:
            for part in slices(profile_ids):
                rows = await self._driver_fetch(
                    _STRONG_COUNTS, self.tenant_id, list(part), list(exempt_namespaces)
                )
                for profile_id, kind, count in rows:
                    counts.setdefault(profile_id, {})[kind] = int(count)
            return counts
        exempt = [
            and_(Identity.kind == "external_id", Identity.value.startswith(f"{namespace}:"))
            for namespace in exempt_namespaces
        ]
        for part in slices(profile_ids):
            statement = (
                select(Identity.profile_id, Identity.kind, func.count())
                .where(
                    Identity.tenant_id == self.tenant_id,
                    self.among(Identity.profile_id, part),
                    Identity.kind.in_(STRONG),
                    *([not_(or_(*exempt))] if exempt else []),
                )
                .group_by(Identity.profile_id, Identity.kind)
            )
            for profile_id, kind, count in await self.session.execute(statement):
                counts.setdefault(profile_id, {})[kind] = int(count)
        return counts

    async def insert_identities(
        self, owners: dict[tuple[str, str], uuid.UUID], now: datetime
    ) -> None:
        await self.append_rows(
            IDENTITIES,
            [
                {"kind": kind, "value": value, "profile_id": owner, "created_at": now}
                for (kind, value), owner in owners.items()
            ],
        )

    async def move_identities(self, owners: dict[tuple[str, str], uuid.UUID]) -> None:
        """New owners for existing identifiers: one executemany, not a statement each."""
        await self.update_rows(
            IDENTITIES,
            ("kind", "value"),
            [
                {"kind": kind, "value": value, "profile_id": owner}
                for (kind, value), owner in owners.items()
            ],
        )

    async def reassign_identities_in_order(
        self, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]]
    ) -> None:
        """Every identifier of each `from` profile to its `into` profile, pair after pair (a
        chain A->B, B->C ends with A's identifiers on C), in one executemany."""
        if not pairs:
            return
        table = IDENTITIES
        statement = (
            update(table)
            .where(table.c.tenant_id == self.tenant_id, table.c.profile_id == bindparam("b_from"))
            .values(profile_id=bindparam("b_into"))
        )
        await self.session.execute(
            statement, [{"b_from": from_id, "b_into": into_id} for from_id, into_id in pairs]
        )

    async def identities_by_profile(
        self, profile_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, set[tuple[str, str]]]:
        found: dict[uuid.UUID, set[tuple[str, str]]] = {}
        for part in slices(sorted(set(profile_ids), key=str)):
            statement = select(Identity.profile_id, Identity.kind, Identity.value).where(
                Identity.tenant_id == self.tenant_id, self.among(Identity.profile_id, part)
            )
            for profile_id, kind, value in await self.session.execute(statement):
                found.setdefault(profile_id, set()).add((kind, value))
        return found

    async def find_owner(self, kind: str, value: str) -> uuid.UUID | None:
        statement = select(Identity.profile_id).where(
            Identity.tenant_id == self.tenant_id, Identity.kind == kind, Identity.value == value
        )
        return (await self.session.scalars(statement)).first()

    # -- profiles ------------------------------------------------------------------------------
    async def get(self, profile_id: uuid.UUID) -> Profile | None:
        # Fresh, never the session's copy: the bulk paths write profiles past the ORM.
        statement = (
            select(Profile)
            .where(Profile.tenant_id == self.tenant_id, Profile.id == profile_id)
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(statement)).first()

    async def merged_in_identifiers(
        self, profile_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, set[tuple[str, str]]]:
        """The identifiers each profile holds through merges still in force (their journals),
        as opposed to its own."""
        rows = await self.lookup(
            MERGES,
            ("into_profile_id",),
            set(profile_ids),
            ("into_profile_id", "journal", "unmerged_at"),
        )
        found: dict[uuid.UUID, set[tuple[str, str]]] = {}
        for into_id, journal, unmerged_at in rows:
            if unmerged_at is not None:
                continue
            keys = found.setdefault(into_id, set())
            for pair in (journal or {}).get("identities", []):
                if isinstance(pair, list) and len(pair) == 2:
                    keys.add((str(pair[0]), str(pair[1])))
        return found

    async def states_of(self, profile_ids: Collection[uuid.UUID]) -> list[ProfileColumns]:
        """What resolution reads of each profile (`STATE_COLUMNS`), without ORM objects."""
        rows = await self.lookup(PROFILES, ("id",), profile_ids, STATE_COLUMNS)
        return [ProfileColumns(*row) for row in rows]

    async def get_many(self, profile_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Profile]:
        ids = list(set(profile_ids))
        found: dict[uuid.UUID, Profile] = {}
        for part in slices(ids):
            statement = (
                select(Profile)
                .where(Profile.tenant_id == self.tenant_id, self.among(Profile.id, part))
                .execution_options(populate_existing=True)
            )
            for profile in (await self.session.scalars(statement)).all():
                found[profile.id] = profile
        return found

    async def merged_into(self, profile_id: uuid.UUID) -> list[uuid.UUID]:
        statement = select(Profile.id).where(
            Profile.tenant_id == self.tenant_id, Profile.merged_into == profile_id
        )
        return list((await self.session.scalars(statement)).all())

    async def children_by_parent(
        self, profile_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, set[uuid.UUID]]:
        """The profiles merged into each of `profile_ids`, as stored."""
        found: dict[uuid.UUID, set[uuid.UUID]] = {}
        for part in slices(sorted(set(profile_ids), key=str)):
            statement = select(Profile.merged_into, Profile.id).where(
                Profile.tenant_id == self.tenant_id, self.among(Profile.merged_into, part)
            )
            for parent, child in await self.session.execute(statement):
                if parent is not None:
                    found.setdefault(parent, set()).add(child)
        return found

    async def repoint_merged_in_order(self, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> None:
        """Profiles merged into each `from` now point at its `into`, pair after pair."""
        if not pairs:
            return
        table = PROFILES
        statement = (
            update(table)
            .where(table.c.tenant_id == self.tenant_id, table.c.merged_into == bindparam("b_from"))
            .values(merged_into=bindparam("b_into"))
        )
        await self.session.execute(
            statement, [{"b_from": from_id, "b_into": into_id} for from_id, into_id in pairs]
        )

    async def insert_states(self, states: Sequence[ProfileRecord], now: datetime) -> None:
        """New profiles, created now (one with no event yet has been seen now)."""
        await self.insert_profiles([{**_profile_row(s, now), "created_at": now} for s in states])

    async def update_states(self, states: Sequence[ProfileRecord], now: datetime) -> None:
        """Changed profiles: every column a profile's state holds, updated by id."""
        await self.update_profiles([_profile_row(s, now) for s in states])

    async def insert_profiles(self, rows: Sequence[dict[str, Any]]) -> None:
        await self.append_rows(PROFILES, rows)

    async def update_profiles(self, rows: Sequence[dict[str, Any]]) -> None:
        """Bulk UPDATE by primary key; each row holds `id` and the columns to set."""
        await self.update_rows(PROFILES, ("id",), rows)

    async def page(self, *, limit: int, before: tuple[datetime, uuid.UUID] | None) -> list[Profile]:
        statement = select(Profile).where(
            Profile.tenant_id == self.tenant_id, Profile.status != "merged"
        )
        if before is not None:
            at, profile_id = before
            statement = statement.where(
                or_(
                    Profile.last_seen_at < at,
                    and_(Profile.last_seen_at == at, Profile.id < profile_id),
                )
            )
        statement = statement.order_by(Profile.last_seen_at.desc(), Profile.id.desc()).limit(limit)
        return list((await self.session.scalars(statement)).all())

    # -- lineage, merges, conflicts ------------------------------------------------------------
    async def add_attribute_changes(self, rows: Sequence[dict[str, Any]]) -> None:
        await self.append_rows(table_of(AttributeChange), rows)

    async def lineage(self, profile_ids: Sequence[uuid.UUID], limit: int) -> list[AttributeChange]:
        statement = (
            select(AttributeChange)
            .where(
                AttributeChange.tenant_id == self.tenant_id,
                self.among(AttributeChange.profile_id, profile_ids),
            )
            .order_by(AttributeChange.changed_at.desc(), AttributeChange.id.desc())
            .limit(limit)
        )
        return list((await self.session.scalars(statement)).all())

    async def add_merges(self, rows: Sequence[dict[str, Any]]) -> None:
        for part in slices(rows, 500):
            await self.session.execute(
                insert(table_of(ProfileMerge)),
                [{**row, "tenant_id": self.tenant_id} for row in part],
            )

    async def merges_involving(self, profile_ids: Sequence[uuid.UUID]) -> list[ProfileMerge]:
        statement = (
            select(ProfileMerge)
            .where(
                ProfileMerge.tenant_id == self.tenant_id,
                or_(
                    self.among(ProfileMerge.into_profile_id, profile_ids),
                    self.among(ProfileMerge.from_profile_id, profile_ids),
                ),
            )
            .order_by(ProfileMerge.merged_at.desc(), ProfileMerge.id.desc())
        )
        return list((await self.session.scalars(statement)).all())

    async def active_merge(self, from_id: uuid.UUID) -> ProfileMerge | None:
        statement = (
            select(ProfileMerge)
            .where(
                ProfileMerge.tenant_id == self.tenant_id,
                ProfileMerge.from_profile_id == from_id,
                ProfileMerge.unmerged_at.is_(None),
            )
            .order_by(ProfileMerge.merged_at.desc(), ProfileMerge.id.desc())
        )
        return (await self.session.scalars(statement)).first()

    async def mark_unmerged(self, merge_id: uuid.UUID, at: datetime) -> None:
        await self.session.execute(
            update(ProfileMerge)
            .where(ProfileMerge.tenant_id == self.tenant_id, ProfileMerge.id == merge_id)
            .values(unmerged_at=at)
        )

    async def operator_actions(self) -> list[ProfileMerge]:
        """Merges an operator made, and every merge that was undone: what `rebuild` must apply
        again at its time (the log holds only events)."""
        statement = (
            select(ProfileMerge)
            .where(
                ProfileMerge.tenant_id == self.tenant_id,
                or_(ProfileMerge.reason == "manual", ProfileMerge.unmerged_at.is_not(None)),
            )
            .order_by(ProfileMerge.merged_at, ProfileMerge.id)
        )
        return list((await self.session.scalars(statement)).all())

    async def delete_projections(self) -> None:
        """Every identity row derived from the tenant's log (profiles, identities, lineage,
        merges, conflicts), before `rebuild` derives them again; the other projections reset
        themselves (ingest/projections). Events are untouched."""
        for model in (
            AttributeChange,
            IdentityConflict,
            ProfileMerge,
            Identity,
            Profile,
        ):
            await self.session.execute(delete(model).where(model.tenant_id == self.tenant_id))

    async def add_conflicts(self, rows: Sequence[dict[str, Any]]) -> None:
        for part in slices(rows, 500):
            await self.session.execute(
                insert(table_of(IdentityConflict)),
                [{**row, "tenant_id": self.tenant_id} for row in part],
            )

    async def conflicts_page(
        self, *, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> list[IdentityConflict]:
        statement = select(IdentityConflict).where(IdentityConflict.tenant_id == self.tenant_id)
        if before is not None:
            at, conflict_id = before
            statement = statement.where(
                or_(
                    IdentityConflict.created_at < at,
                    and_(IdentityConflict.created_at == at, IdentityConflict.id < conflict_id),
                )
            )
        statement = statement.order_by(
            IdentityConflict.created_at.desc(), IdentityConflict.id.desc()
        ).limit(limit)
        return list((await self.session.scalars(statement)).all())
