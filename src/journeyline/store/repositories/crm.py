"""CRM persons, companies and deals: loaded by key lists, written set-based."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, delete, select, update

from journeyline.statuses import DealKind, DealStage
from journeyline.store.models import CrmCompany, CrmDeal, CrmPerson
from journeyline.store.repositories.scoped import TenantRepository, slices, table_of

COMPANIES = table_of(CrmCompany)
PERSONS = table_of(CrmPerson)
DEALS = table_of(CrmDeal)


class DealColumns(NamedTuple):
    id: uuid.UUID
    key: str
    kind: DealKind
    stage: DealStage
    name: str
    amount: float | None
    currency: str | None
    profile_id: uuid.UUID | None
    company_id: uuid.UUID | None
    subscription_id: str | None
    cancelled: bool
    first_seen_at: datetime
    last_activity_at: datetime
    basis_stage: DealStage | None
    basis_at: datetime | None
    basis_event_id: uuid.UUID | None


class CompanyColumns(NamedTuple):
    id: uuid.UUID
    key: str
    domain: str | None
    name: str
    name_given: bool


class CrmRepository(TenantRepository):
    async def deals_by_id(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, DealColumns]:
        """The deals with these ids, as written so far in this transaction."""
        rows = await self.lookup(DEALS, ("id",), set(ids), DealColumns._fields)
        return {row[0]: DealColumns(*row) for row in rows}

    async def deals_of_profiles(self, profile_ids: Collection[uuid.UUID]) -> list[DealColumns]:
        """The deals of these profiles, as written so far in this transaction."""
        rows = await self.lookup(DEALS, ("profile_id",), set(profile_ids), DealColumns._fields)
        return [DealColumns(*row) for row in rows]

    async def person_ids(self, profile_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these profiles are CRM persons."""
        rows = await self.lookup(PERSONS, ("profile_id",), set(profile_ids), ("profile_id",))
        return {row[0] for row in rows}

    async def companies_by_id(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, CompanyColumns]:
        rows = await self.lookup(COMPANIES, ("id",), set(ids), CompanyColumns._fields)
        return {row[0]: CompanyColumns(*row) for row in rows}

    async def repoint_deals(self, moves: Mapping[uuid.UUID, uuid.UUID]) -> None:
        if not moves:
            return
        statement = (
            update(DEALS)
            .where(DEALS.c.tenant_id == self.tenant_id, DEALS.c.profile_id == bindparam("b_from"))
            .values(profile_id=bindparam("b_into"))
        )
        await self.session.execute(
            statement, [{"b_from": source, "b_into": target} for source, target in moves.items()]
        )

    async def assign_deals(self, owners: Mapping[uuid.UUID, uuid.UUID]) -> None:
        if not owners:
            return
        statement = (
            update(DEALS)
            .where(DEALS.c.tenant_id == self.tenant_id, DEALS.c.id == bindparam("b_id"))
            .values(profile_id=bindparam("b_profile"))
        )
        await self.session.execute(
            statement, [{"b_id": key, "b_profile": owner} for key, owner in owners.items()]
        )

    async def reset(self) -> None:
        """The whole CRM, before `rebuild` derives it again."""
        for model in (CrmDeal, CrmPerson, CrmCompany):
            await self.session.execute(delete(model).where(model.tenant_id == self.tenant_id))

    async def delete_persons(self, profile_ids: Sequence[uuid.UUID]) -> None:
        for part in slices(sorted(set(profile_ids))):
            await self.session.execute(
                delete(CrmPerson).where(
                    CrmPerson.tenant_id == self.tenant_id, self.among(CrmPerson.profile_id, part)
                )
            )

    async def persons(self, limit: int) -> list[CrmPerson]:
        statement = (
            select(CrmPerson)
            .where(CrmPerson.tenant_id == self.tenant_id)
            .order_by(CrmPerson.updated_at.desc(), CrmPerson.profile_id)
            .limit(limit)
        )
        return list((await self.session.scalars(statement)).all())

    async def companies(self, limit: int) -> list[CrmCompany]:
        statement = (
            select(CrmCompany)
            .where(CrmCompany.tenant_id == self.tenant_id)
            .order_by(CrmCompany.name, CrmCompany.id)
            .limit(limit)
        )
        return list((await self.session.scalars(statement)).all())

    async def deals(self, limit: int, stage: str | None = None) -> list[CrmDeal]:
        statement = select(CrmDeal).where(CrmDeal.tenant_id == self.tenant_id)
        if stage is not None:
            statement = statement.where(CrmDeal.stage == stage)
        statement = statement.order_by(CrmDeal.last_activity_at.desc(), CrmDeal.id).limit(limit)
        return list((await self.session.scalars(statement)).all())
