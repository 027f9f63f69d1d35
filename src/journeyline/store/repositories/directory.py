"""The dashboard's profile directory: a keyset page of surviving profiles matching a search, each
with its CRM company, its furthest funnel stage and its lifetime value, in one statement."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import aliased

from journeyline.statuses import ProfileStatus
from journeyline.store.models import CrmCompany, CrmPerson, Identity, Order, Profile, ProfileStage
from journeyline.store.repositories.scoped import LIKE_ESCAPE, TenantRepository, aware, containing

Direction = Literal["after", "before"]
Position = tuple[datetime, uuid.UUID]


class DirectoryQuery(Protocol):
    """What a search matches by (web/lookup.py's `SearchTerms`, read by attribute: the store
    sits below the dashboard). Every fragment matches anywhere inside, literally."""

    @property
    def text(self) -> str: ...  # a fragment of the name or of an external id (any case)
    @property
    def email(self) -> str: ...  # a fragment of an email, lower-cased as emails are stored
    @property
    def phone_digits(self) -> str | None: ...  # a run of digits of an E.164 phone
    @property
    def phone(self) -> str | None: ...  # a whole phone, E.164
    @property
    def profile_id(self) -> uuid.UUID | None: ...  # a profile id, or one merged into it


@dataclass(frozen=True, slots=True)
class DirectoryRow:
    id: uuid.UUID
    status: ProfileStatus
    attributes: dict[str, Any]
    first_seen_at: datetime
    last_seen_at: datetime
    event_count: int
    company_id: uuid.UUID | None
    company: str | None
    stage_rank: int | None  # graph.stages.STAGE_RANK of the furthest stage reached
    values: tuple[tuple[str | None, float], ...]  # completed orders' totals, per currency


class DirectoryRepository(TenantRepository):
    def _matches(self, query: DirectoryQuery) -> ColumnElement[bool]:
        text, email = containing(query.text), containing(query.email)
        identity = [
            and_(Identity.kind == "email", Identity.value.like(email, escape=LIKE_ESCAPE)),
            and_(Identity.kind == "external_id", Identity.value.ilike(text, escape=LIKE_ESCAPE)),
            and_(Identity.kind == "anonymous_id", Identity.value == query.text),
        ]
        if query.phone_digits:
            digits = containing(query.phone_digits)
            identity.append(
                and_(Identity.kind == "phone", Identity.value.like(digits, escape=LIKE_ESCAPE))
            )
        if query.phone:
            identity.append(and_(Identity.kind == "phone", Identity.value == query.phone))
        owners = select(Identity.profile_id).where(
            Identity.tenant_id == self.tenant_id, or_(*identity)
        )
        matched = [
            Profile.attributes["name"].as_string().ilike(text, escape=LIKE_ESCAPE),
            Profile.id.in_(owners),
        ]
        if query.profile_id is not None:
            merged = aliased(Profile)
            survivor = select(func.coalesce(merged.merged_into, merged.id)).where(
                merged.tenant_id == self.tenant_id, merged.id == query.profile_id
            )
            matched.append(Profile.id.in_(survivor))
        return or_(*matched)

    def _page(
        self,
        condition: ColumnElement[bool] | None,
        limit: int,
        position: Position | None,
        direction: Direction,
    ) -> Select[Any]:
        """The profiles of one page (and one more, to tell whether another page follows), newest
        seen first; read backwards (oldest first) from `position` for the page before it."""
        statement = select(
            Profile.id,
            Profile.status,
            Profile.attributes,
            Profile.first_seen_at,
            Profile.last_seen_at,
            Profile.event_count,
        ).where(Profile.tenant_id == self.tenant_id, Profile.status != "merged")
        if condition is not None:
            statement = statement.where(condition)
        if position is not None:
            at, profile_id = position
            if direction == "after":
                statement = statement.where(
                    or_(
                        Profile.last_seen_at < at,
                        and_(Profile.last_seen_at == at, Profile.id < profile_id),
                    )
                )
            else:
                statement = statement.where(
                    or_(
                        Profile.last_seen_at > at,
                        and_(Profile.last_seen_at == at, Profile.id > profile_id),
                    )
                )
        if direction == "after":
            order = (Profile.last_seen_at.desc(), Profile.id.desc())
        else:
            order = (Profile.last_seen_at.asc(), Profile.id.asc())
        return statement.order_by(*order).limit(limit)

    async def page(
        self,
        query: DirectoryQuery | None,
        *,
        limit: int,
        position: Position | None = None,
        direction: Direction = "after",
    ) -> list[DirectoryRow]:
        """Up to `limit` matching profiles after (or before) `position`, newest seen first
        either way."""
        condition = None if query is None else self._matches(query)
        return await self._rows(self._page(condition, limit, position, direction))

    async def one(self, profile_id: uuid.UUID) -> DirectoryRow | None:
        """The profile's row (the profile page shows its company, stage and lifetime value)."""
        found = await self._rows(self._page(Profile.id == profile_id, 1, None, "after"))
        return found[0] if found else None

    async def _rows(self, selected: Select[Any]) -> list[DirectoryRow]:
        """One statement: the page is a CTE; the person and company, the stage rows and the
        completed orders are joined to its profiles only (a row per currency of theirs)."""
        page = selected.cte("page")
        inside = select(page.c.id)
        stages = (
            select(ProfileStage.profile_id, func.max(ProfileStage.rank).label("top"))
            .where(ProfileStage.tenant_id == self.tenant_id, ProfileStage.profile_id.in_(inside))
            .group_by(ProfileStage.profile_id)
            .subquery("stages")
        )
        values = (
            select(
                Order.profile_id,
                Order.currency,
                func.sum(Order.total).label("amount"),
            )
            .where(
                Order.tenant_id == self.tenant_id,
                Order.status == "completed",
                Order.total.is_not(None),
                Order.profile_id.in_(inside),
            )
            .group_by(Order.profile_id, Order.currency)
            .subquery("lifetime")
        )
        statement = (
            select(
                page,
                CrmPerson.company_id,
                CrmCompany.name,
                stages.c.top,
                values.c.currency,
                values.c.amount,
            )
            .select_from(page)
            .outerjoin(
                CrmPerson,
                and_(CrmPerson.tenant_id == self.tenant_id, CrmPerson.profile_id == page.c.id),
            )
            .outerjoin(
                CrmCompany,
                and_(
                    CrmCompany.tenant_id == self.tenant_id,
                    CrmCompany.id == CrmPerson.company_id,
                ),
            )
            .outerjoin(stages, stages.c.profile_id == page.c.id)
            .outerjoin(values, values.c.profile_id == page.c.id)
            .order_by(page.c.last_seen_at.desc(), page.c.id.desc(), values.c.currency)
        )
        rows: dict[uuid.UUID, DirectoryRow] = {}
        amounts: dict[uuid.UUID, list[tuple[str | None, float]]] = {}
        for row in await self.session.execute(statement):
            (profile_id, status, attributes, first, last, count, company_id, company) = row[:8]
            top, currency, amount = row[8:]
            if profile_id not in rows:
                rows[profile_id] = DirectoryRow(
                    profile_id,
                    status,
                    attributes or {},
                    aware(first),
                    aware(last),
                    int(count),
                    company_id,
                    company,
                    None if top is None else int(top),
                    (),
                )
            if amount is not None:
                amounts.setdefault(profile_id, []).append((currency, float(amount)))
        return [
            replace(row, values=tuple(amounts.get(profile_id, ())))
            for profile_id, row in rows.items()
        ]
