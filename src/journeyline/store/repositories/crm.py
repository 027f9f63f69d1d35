"""CRM persons, companies and deals: loaded by key lists, written set-based."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy import bindparam, delete, select, update

from journeyline.store.models import CrmCompany, CrmDeal, CrmPerson
from journeyline.store.repositories.scoped import TenantRepository, slices, table_of

COMPANIES = table_of(CrmCompany)
PERSONS = table_of(CrmPerson)
DEALS = table_of(CrmDeal)


class CrmRepository(TenantRepository):
    async def deals_by_key(self, keys: Sequence[str]) -> dict[str, CrmDeal]:
        found: dict[str, CrmDeal] = {}
        for part in slices(sorted(set(keys))):
            rows = await self.session.scalars(
                select(CrmDeal)
                .where(CrmDeal.tenant_id == self.tenant_id, CrmDeal.key.in_(part))
                .execution_options(populate_existing=True)
            )
            found.update((row.key, row) for row in rows)
        return found

    async def deals_of_profiles(self, profile_ids: Sequence[uuid.UUID]) -> list[CrmDeal]:
        """The deals of these profiles, as written so far in this transaction."""
        rows: list[CrmDeal] = []
        for part in slices(sorted(set(profile_ids))):
            rows += (
                await self.session.scalars(
                    select(CrmDeal)
                    .where(CrmDeal.tenant_id == self.tenant_id, CrmDeal.profile_id.in_(part))
                    # The chunk's deals were just written by Core statements: do not answer
                    # with the stale copies the session loaded before.
                    .execution_options(populate_existing=True)
                )
            ).all()
        return rows

    async def persons_by_id(self, profile_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, CrmPerson]:
        found: dict[uuid.UUID, CrmPerson] = {}
        for part in slices(sorted(set(profile_ids))):
            rows = await self.session.scalars(
                select(CrmPerson)
                .where(CrmPerson.tenant_id == self.tenant_id, CrmPerson.profile_id.in_(part))
                .execution_options(populate_existing=True)
            )
            found.update((row.profile_id, row) for row in rows)
        return found

    async def companies_by_id(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, CrmCompany]:
        found: dict[uuid.UUID, CrmCompany] = {}
        for part in slices(sorted(set(ids))):
            rows = await self.session.scalars(
                select(CrmCompany)
                .where(CrmCompany.tenant_id == self.tenant_id, CrmCompany.id.in_(part))
                .execution_options(populate_existing=True)
            )
            found.update((row.id, row) for row in rows)
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
                    CrmPerson.tenant_id == self.tenant_id, CrmPerson.profile_id.in_(part)
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
