"""CRM persons, companies and deals: loaded by key lists, written set-based."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

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
    group_key: str | None


class DealRecord(Protocol):
    """A deal as `save_deals` writes it: crm/deals.py's `Deal`, read by attribute (the store
    sits below the CRM and does not import it). Its fields are `DealColumns`'."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def key(self) -> str: ...
    @property
    def kind(self) -> DealKind: ...
    @property
    def stage(self) -> DealStage: ...
    @property
    def name(self) -> str: ...
    @property
    def amount(self) -> Decimal | float | None: ...
    @property
    def currency(self) -> str | None: ...
    @property
    def profile_id(self) -> uuid.UUID | None: ...
    @property
    def company_id(self) -> uuid.UUID | None: ...
    @property
    def subscription_id(self) -> str | None: ...
    @property
    def cancelled(self) -> bool: ...
    @property
    def first_seen_at(self) -> datetime: ...
    @property
    def last_activity_at(self) -> datetime: ...
    @property
    def basis_stage(self) -> DealStage | None: ...
    @property
    def basis_at(self) -> datetime | None: ...
    @property
    def basis_event_id(self) -> uuid.UUID | None: ...


class CompanyRecord(Protocol):
    """A company as `save_companies` writes it: crm/companies.py's `Company`."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def key(self) -> str: ...
    @property
    def domain(self) -> str | None: ...
    @property
    def name(self) -> str: ...
    @property
    def name_given(self) -> bool: ...
    @property
    def group_key(self) -> str | None: ...


def _deal_row(deal: DealRecord) -> dict[str, Any]:
    row = {name: getattr(deal, name) for name in DealColumns._fields}
    row["amount"] = None if deal.amount is None else float(deal.amount)
    return row


def _company_row(company: CompanyRecord, now: datetime) -> dict[str, Any]:
    return {**{name: getattr(company, name) for name in CompanyColumns._fields}, "updated_at": now}


class CrmRepository(TenantRepository):
    async def save_deals(self, new: Sequence[DealRecord], changed: Sequence[DealRecord]) -> None:
        """A chunk's deals: the new ones appended, the changed ones updated by id (`save_rows`'
        bulk shapes; the amount is stored as the column's float)."""
        await self.save_rows(
            DEALS, "id", [_deal_row(d) for d in new], [_deal_row(d) for d in changed]
        )

    async def save_companies(
        self, new: Sequence[CompanyRecord], changed: Sequence[CompanyRecord], now: datetime
    ) -> None:
        await self.save_rows(
            COMPANIES,
            "id",
            [_company_row(c, now) for c in new],
            [_company_row(c, now) for c in changed],
        )

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

    async def companies_by_group_key(self, keys: Collection[str]) -> dict[str, uuid.UUID]:
        """The company each of these group keys was described with (of two, the lower id, so
        the answer does not depend on the order rows come back in)."""
        rows = await self.lookup(COMPANIES, ("group_key",), set(keys), ("group_key", "id"))
        found: dict[str, uuid.UUID] = {}
        for group_key, company in sorted(rows, key=lambda row: (row[0], row[1])):
            found.setdefault(group_key, company)
        return found

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
