"""Erasure's writes (DESIGN §2): tombstones, the audit, and the in-place redaction of a family
of profiles across the log and every projection that names them."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.types import Text

from journeyline.store.models import (
    AttributeChange,
    CrmDeal,
    CrmPerson,
    ErasureKey,
    ErasureRecord,
    Event,
    Identity,
    IdentityConflict,
    Order,
    Profile,
    ProfileMerge,
    ProfileStage,
    SharedNode,
    Tombstone,
    TouchpointSync,
    WebhookDelivery,
)
from journeyline.store.repositories.scoped import TenantRepository, slices, table_of

TOMBSTONES = table_of(Tombstone)
EVENTS = table_of(Event)


class ErasureRepository(TenantRepository):
    async def secret(self) -> str | None:
        row = await self.session.get(ErasureKey, self.tenant_id)
        return row.secret if row is not None else None

    async def create_secret(self, secret: str, now: datetime) -> str:
        """The tenant's tombstone secret: this one, unless a concurrent erasure made one first."""
        values = {"tenant_id": self.tenant_id, "secret": secret, "created_at": now}
        insert = pg_insert if self.on_postgres else sqlite_insert
        await self.session.execute(
            insert(ErasureKey).values(values).on_conflict_do_nothing(index_elements=["tenant_id"])
        )
        stored = (
            await self.session.execute(
                select(ErasureKey.secret).where(ErasureKey.tenant_id == self.tenant_id)
            )
        ).scalar_one()
        return str(stored)

    async def tombstoned(self, hashes: Collection[str]) -> set[str]:
        """Which of these hashes are tombstones: one set-based lookup."""
        rows = await self.lookup(TOMBSTONES, ("value_hash",), hashes, ("value_hash",))
        return {str(row[0]) for row in rows}

    async def add_tombstones(self, rows: Sequence[dict[str, Any]]) -> int:
        """New tombstones (an existing hash is kept as it is); how many were new."""
        if not rows:
            return 0
        existing = await self.tombstoned([row["value_hash"] for row in rows])
        fresh = [
            {**row, "tenant_id": self.tenant_id}
            for row in {row["value_hash"]: row for row in rows}.values()
            if row["value_hash"] not in existing
        ]
        if fresh:
            insert = pg_insert if self.on_postgres else sqlite_insert
            await self.session.execute(
                insert(Tombstone)
                .values(fresh)
                .on_conflict_do_nothing(index_elements=["tenant_id", "value_hash"])
            )
        return len(fresh)

    async def tombstones_page(
        self, *, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> list[Tombstone]:
        statement = select(Tombstone).where(Tombstone.tenant_id == self.tenant_id)
        if before is not None:
            statement = statement.where(
                tuple_(Tombstone.created_at, Tombstone.id) < tuple_(*before)
            )
        statement = statement.order_by(Tombstone.created_at.desc(), Tombstone.id.desc())
        return list((await self.session.scalars(statement.limit(limit))).all())

    async def delete_tombstone(self, tombstone_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            delete(Tombstone).where(
                Tombstone.tenant_id == self.tenant_id, Tombstone.id == tombstone_id
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def add_record(self, row: dict[str, Any]) -> None:
        self.session.add(ErasureRecord(tenant_id=self.tenant_id, **row))
        await self.session.flush()

    async def records(self, limit: int) -> list[ErasureRecord]:
        statement = (
            select(ErasureRecord)
            .where(ErasureRecord.tenant_id == self.tenant_id)
            .order_by(ErasureRecord.created_at.desc(), ErasureRecord.id.desc())
            .limit(limit)
        )
        return list((await self.session.scalars(statement)).all())

    async def events_of(
        self, profile_ids: Sequence[uuid.UUID]
    ) -> list[tuple[uuid.UUID, Any, str | None, str | None]]:
        """(id, payload, channel, campaign_id) of every event attributed to these profiles."""
        found: list[tuple[uuid.UUID, Any, str | None, str | None]] = []
        for part in slices(profile_ids):
            rows = await self.session.execute(
                select(Event.id, Event.payload, Event.channel, Event.campaign_id).where(
                    Event.tenant_id == self.tenant_id, self.among(Event.profile_id, part)
                )
            )
            found.extend((row[0], row[1], row[2], row[3]) for row in rows.all())
        return found

    async def forget_touchpoints(
        self, event_ids: Sequence[uuid.UUID], shared: Collection[tuple[str, str]]
    ) -> None:
        """The erased events are no customer's touchpoints any more: their re-sync counters go,
        and the Campaign and Channel counters they were part of are counted again from the log
        (what the graph projection counts: events with a customer), or go when none is left."""
        for part in slices(event_ids):
            await self.session.execute(
                delete(TouchpointSync).where(
                    TouchpointSync.tenant_id == self.tenant_id,
                    self.among(TouchpointSync.event_id, part),
                )
            )
        for kind, key in sorted(shared):
            column = Event.channel if kind == "Channel" else Event.campaign_id
            count, first, last = (
                await self.session.execute(
                    select(func.count(), func.min(Event.occurred_at), func.max(Event.occurred_at))
                    .where(Event.tenant_id == self.tenant_id, column == key)
                    .where(Event.profile_id.is_not(None))
                )
            ).one()
            node = (SharedNode.tenant_id == self.tenant_id, SharedNode.type == kind)
            if not count:
                await self.session.execute(delete(SharedNode).where(*node, SharedNode.key == key))
                continue
            await self.session.execute(
                update(SharedNode)
                .where(*node, SharedNode.key == key)
                .values(touchpoints=count, first_seen_at=first, last_seen_at=last)
            )

    async def redact_events(self, rows: Sequence[dict[str, Any]]) -> None:
        """Each row: id and the redacted columns (the row, its id and its place stay)."""
        await self.update_rows(EVENTS, ("id",), rows)

    async def erase_profiles(
        self, profile_ids: Sequence[uuid.UUID], identities: Collection[tuple[str, str]]
    ) -> dict[str, int]:
        """Remove what the profiles hold outside the log; the counts of rows touched."""
        counts: dict[str, int] = {}
        tenant = self.tenant_id
        ids = list(profile_ids)

        async def run(name: str, statement: Any) -> None:
            result = await self.session.execute(statement)
            counts[name] = counts.get(name, 0) + int(getattr(result, "rowcount", 0) or 0)

        await run(
            "identities",
            delete(Identity).where(
                Identity.tenant_id == tenant, self.among(Identity.profile_id, ids)
            ),
        )
        await run(
            "lineage",
            delete(AttributeChange).where(
                AttributeChange.tenant_id == tenant, self.among(AttributeChange.profile_id, ids)
            ),
        )
        await run(
            "merges",
            delete(ProfileMerge).where(
                ProfileMerge.tenant_id == tenant,
                or_(
                    self.among(ProfileMerge.from_profile_id, ids),
                    self.among(ProfileMerge.into_profile_id, ids),
                ),
            ),
        )
        held = sorted(identities)
        conflict_match = [
            self.among(IdentityConflict.owner_profile_id, ids),
            self.among(IdentityConflict.attempted_profile_id, ids),
        ]
        if held:
            conflict_match.append(tuple_(IdentityConflict.kind, IdentityConflict.value).in_(held))
        await run(
            "conflicts",
            delete(IdentityConflict).where(
                IdentityConflict.tenant_id == tenant, or_(*conflict_match)
            ),
        )
        await run(
            "crm_persons",
            delete(CrmPerson).where(
                CrmPerson.tenant_id == tenant, self.among(CrmPerson.profile_id, ids)
            ),
        )
        await run(
            "deals",
            # A deal is the CRM person's (the projection makes none for an order without a
            # person): it goes with them; the order stays, without its person.
            delete(CrmDeal).where(CrmDeal.tenant_id == tenant, self.among(CrmDeal.profile_id, ids)),
        )
        await run(
            "orders",
            update(Order)
            .where(Order.tenant_id == tenant, self.among(Order.profile_id, ids))
            .values(profile_id=None),
        )
        await run(
            "stages",
            delete(ProfileStage).where(
                ProfileStage.tenant_id == tenant,
                or_(
                    self.among(ProfileStage.profile_id, ids),
                    self.among(ProfileStage.origin_profile_id, ids),
                ),
            ),
        )
        await run(
            "profiles",
            delete(Profile).where(Profile.tenant_id == tenant, self.among(Profile.id, ids)),
        )
        return counts

    async def identities_of(self, profile_ids: Sequence[uuid.UUID]) -> list[tuple[str, str]]:
        rows = await self.session.execute(
            select(Identity.kind, Identity.value).where(
                Identity.tenant_id == self.tenant_id, self.among(Identity.profile_id, profile_ids)
            )
        )
        return [(str(row[0]), str(row[1])) for row in rows.all()]

    async def count_tombstones(self) -> int:
        statement = select(func.count()).where(Tombstone.tenant_id == self.tenant_id)
        return int((await self.session.execute(statement)).scalar_one())

    async def orders_of(self, profile_ids: Sequence[uuid.UUID]) -> list[Order]:
        statement = (
            select(Order)
            .where(Order.tenant_id == self.tenant_id, self.among(Order.profile_id, profile_ids))
            .order_by(Order.created_at, Order.order_id)
        )
        return list((await self.session.scalars(statement)).all())

    async def persons_of(self, profile_ids: Sequence[uuid.UUID]) -> list[CrmPerson]:
        statement = select(CrmPerson).where(
            CrmPerson.tenant_id == self.tenant_id, self.among(CrmPerson.profile_id, profile_ids)
        )
        return list((await self.session.scalars(statement)).all())

    async def deals_of(self, profile_ids: Sequence[uuid.UUID]) -> list[CrmDeal]:
        statement = (
            select(CrmDeal)
            .where(CrmDeal.tenant_id == self.tenant_id, self.among(CrmDeal.profile_id, profile_ids))
            .order_by(CrmDeal.first_seen_at, CrmDeal.id)
        )
        return list((await self.session.scalars(statement)).all())

    async def redact_deliveries(self, event_ids: Sequence[uuid.UUID]) -> int:
        """Stored provider deliveries that produced one of these events: their body (the
        provider's whole document about the person) becomes `{}`, its reason `erased`; the row
        stays in the delivery log. A replay of it then maps nothing."""
        redacted = 0
        for part in slices([str(event_id) for event_id in event_ids]):
            carries: ColumnElement[Any]
            if self.on_postgres:
                carries = func.jsonb_exists_any(
                    WebhookDelivery.event_ids, bindparam(None, list(part), type_=ARRAY(Text()))
                )
            else:
                items = func.json_each(WebhookDelivery.event_ids).table_valued("value")
                carries = exists(
                    select(text("1")).select_from(items).where(items.c.value.in_(part))
                )
            result = await self.session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.tenant_id == self.tenant_id, carries)
                .values(body=b"{}", reason="erased")
            )
            redacted += int(getattr(result, "rowcount", 0) or 0)
        return redacted
