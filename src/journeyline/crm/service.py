"""Projecting a chunk into the CRM: deals from commerce facts, one person per anchor profile,
companies from their attributes. A fixed number of reads and writes per chunk."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from journeyline.crm.board import Board, deal_board
from journeyline.crm.companies import Company, company_id, upsert_company
from journeyline.crm.deals import Deal, DealFact, apply_deal_facts, deal_id, deal_keys
from journeyline.crm.persons import PersonFields, ProfileFacts, commerce_state, person_from
from journeyline.statuses import ProfileStatus
from journeyline.store.db import Session
from journeyline.store.models import CrmCompany, CrmDeal, CrmPerson
from journeyline.store.repositories.crm import (
    PERSONS,
    CompanyColumns,
    CrmRepository,
    DealColumns,
)
from journeyline.store.repositories.events import EventRepository
from journeyline.store.repositories.profiles import ProfileRepository


@dataclass(frozen=True, slots=True)
class CrmChanges:
    deals: list[Deal] = field(default_factory=list)
    persons: list[dict[str, Any]] = field(default_factory=list)


def deal_of(row: CrmDeal | DealColumns) -> Deal:
    return Deal(
        id=row.id,
        key=row.key,
        kind=row.kind,
        stage=row.stage,
        name=row.name,
        amount=None if row.amount is None else Decimal(str(row.amount)),
        currency=row.currency,
        profile_id=row.profile_id,
        company_id=row.company_id,
        subscription_id=row.subscription_id,
        cancelled=row.cancelled,
        first_seen_at=row.first_seen_at,
        last_activity_at=row.last_activity_at,
        basis_stage=row.basis_stage,
        basis_at=row.basis_at,
        basis_event_id=row.basis_event_id,
    )


def _company_of(row: CrmCompany | CompanyColumns) -> Company:
    return Company(row.id, row.key, row.domain, row.name, row.name_given, row.group_key)


async def _profile_facts(
    session: Session,
    tenant_id: uuid.UUID,
    profile_ids: Collection[uuid.UUID],
    known: Mapping[uuid.UUID, tuple[ProfileStatus, Mapping[str, Any]]],
) -> list[ProfileFacts]:
    """The CRM's view of each profile: status and attributes from `known` (the chunk's identity
    map, as persisted) or else read, and its email and phone identifiers, its own first (see
    `contact_order`)."""
    repo = ProfileRepository(session, tenant_id)
    states = {pid: known[pid] for pid in profile_ids if pid in known}
    missing = [pid for pid in profile_ids if pid not in known]
    for row in await repo.states_of(missing):
        states[row.id] = (row.status, row.attributes or {})
    emails: dict[uuid.UUID, list[str]] = {}
    phones: dict[uuid.UUID, list[str]] = {}
    identifiers = await repo.identifiers_of(list(states))
    # Only a profile with a choice to make (two emails, or two phones) needs its merges read.
    contacts = Counter((profile_id, kind) for profile_id, kind, _ in identifiers)
    choosing = {pid for (pid, kind), n in contacts.items() if n > 1 and kind in ("email", "phone")}
    merged_in = await repo.merged_in_identifiers(choosing) if choosing else {}

    def contact_order(item: tuple[uuid.UUID, str, str]) -> tuple[bool, str, str]:
        # The profile's own identifiers before those an operator merged in, then by value:
        # the same order live and after a rebuild (decision 55).
        profile_id, kind, value = item
        return ((kind, value) in merged_in.get(profile_id, ()), kind, value)

    for profile_id, kind, value in sorted(identifiers, key=contact_order):
        target = emails if kind == "email" else phones if kind == "phone" else None
        if target is not None:
            target.setdefault(profile_id, []).append(value)
    return [
        ProfileFacts(
            id=profile_id,
            status=status,
            attributes=attributes,
            emails=tuple(emails.get(profile_id, ())),
            phones=tuple(phones.get(profile_id, ())),
        )
        for profile_id, (status, attributes) in states.items()
    ]


async def _companies_by_group_key(
    repo: CrmRepository,
    first_pass: Mapping[uuid.UUID, PersonFields | None],
    chunk_companies: Iterable[Company],
) -> dict[uuid.UUID, uuid.UUID]:
    """The company of each person whose attributes name only a group key (PostHog's `$groups`,
    decision 73): the one described with that key, in this chunk or before it (of two, the
    lower id). A key no company was described with yet leaves the person without one."""
    wanted = {
        pid: fields.group_key
        for pid, fields in first_pass.items()
        if fields is not None and fields.company is None and fields.group_key is not None
    }
    if not wanted:
        return {}
    keys = set(wanted.values())
    found = await repo.companies_by_group_key(keys)
    for company in chunk_companies:
        key = company.group_key
        if key in keys and (key not in found or company.id < found[key]):
            found[key] = company.id
    return {pid: found[key] for pid, key in wanted.items() if key in found}


async def project(
    session: Session,
    tenant_id: uuid.UUID,
    facts: Sequence[DealFact],
    profiles: Iterable[uuid.UUID],
    now: datetime,
    *,
    merged: Mapping[uuid.UUID, uuid.UUID],
    states: Mapping[uuid.UUID, tuple[ProfileStatus, Mapping[str, Any]]] | None = None,
) -> CrmChanges:
    """Apply a chunk (returns the deals and persons written). `facts` carry survivors' ids; `profiles` are the profiles the chunk
    touched (their persons are refreshed); `merged` maps each profile merged in the chunk to
    its survivor: its deals move there and it stops being a person."""
    repo = CrmRepository(session, tenant_id)
    await repo.repoint_deals(merged)
    await repo.delete_persons(list(merged))
    touched = {p for p in profiles if p not in merged} | {
        f.profile_id for f in facts if f.profile_id
    }
    if not touched and not facts:
        return CrmChanges()

    # Persons first: a deal takes its person's company.
    profile_facts = await _profile_facts(session, tenant_id, touched, states or {})
    people = {p.id: p for p in profile_facts}
    first_pass = {p.id: person_from(p) for p in profile_facts}
    company_keys = {fields.company for fields in first_pass.values() if fields and fields.company}
    companies = {c.key: c for c in company_keys}
    stored_companies = await repo.companies_by_id([company_id(tenant_id, key) for key in companies])
    new_companies: dict[uuid.UUID, Company] = {}
    changed_companies: dict[uuid.UUID, Company] = {}
    for fields in first_pass.values():
        if fields is None or fields.company is None:
            continue
        cid = company_id(tenant_id, fields.company.key)
        known = changed_companies.get(cid) or new_companies.get(cid)
        if known is None and cid in stored_companies:
            known = _company_of(stored_companies[cid])
        updated = upsert_company(tenant_id, fields.company, known)
        if cid in stored_companies:
            if updated != _company_of(stored_companies[cid]):
                changed_companies[cid] = updated
        else:
            new_companies[cid] = updated

    company_of_person = {
        pid: company_id(tenant_id, fields.company.key)
        for pid, fields in first_pass.items()
        if fields is not None and fields.company is not None
    }
    company_of_person.update(
        await _companies_by_group_key(
            repo, first_pass, [*new_companies.values(), *changed_companies.values()]
        )
    )
    facts = [
        fact
        if fact.profile_id is None or fact.company_id is not None
        else replace(fact, company_id=company_of_person.get(fact.profile_id))
        for fact in facts
    ]
    stored_deals = {
        row.key: row
        for row in (
            await repo.deals_by_id([deal_id(tenant_id, key) for key in deal_keys(facts)])
        ).values()
    }
    changed = apply_deal_facts(
        tenant_id, {key: deal_of(row) for key, row in stored_deals.items()}, facts
    )
    await repo.save_deals(
        [d for d in changed.values() if d.key not in stored_deals],
        [d for d in changed.values() if d.key in stored_deals],
    )

    # Lifecycle stages from each person's deals, as they are now.
    deals_by_person: dict[uuid.UUID, list[Deal]] = {}
    for deal_row in await repo.deals_of_profiles(list(people)):
        if deal_row.profile_id is not None:
            deals_by_person.setdefault(deal_row.profile_id, []).append(deal_of(deal_row))
    stored_persons = await repo.person_ids(list(people))
    new_persons: list[dict[str, Any]] = []
    changed_persons: list[dict[str, Any]] = []
    gone: list[uuid.UUID] = []
    for pid, profile in people.items():
        fields = person_from(profile, commerce_state(deals_by_person.get(pid, ())))
        if fields is None:
            if pid in stored_persons:
                gone.append(pid)
            continue
        row = {
            "profile_id": pid,
            "name": fields.name,
            "email": fields.email,
            "phone": fields.phone,
            "title": fields.title,
            "company_id": company_of_person.get(pid),
            "lifecycle_stage": fields.lifecycle_stage,
            "updated_at": now,
        }
        (changed_persons if pid in stored_persons else new_persons).append(row)
    await repo.delete_persons(gone)
    await repo.save_companies(list(new_companies.values()), list(changed_companies.values()), now)
    await repo.save_rows(PERSONS, "profile_id", new_persons, changed_persons)
    return CrmChanges(list(changed.values()), [*new_persons, *changed_persons])


async def persons(session: Session, tenant_id: uuid.UUID, limit: int) -> list[CrmPerson]:
    return await CrmRepository(session, tenant_id).persons(limit)


async def companies(session: Session, tenant_id: uuid.UUID, limit: int) -> list[CrmCompany]:
    return await CrmRepository(session, tenant_id).companies(limit)


async def deals(session: Session, tenant_id: uuid.UUID, limit: int) -> list[CrmDeal]:
    return await CrmRepository(session, tenant_id).deals(limit)


async def deals_of(
    session: Session, tenant_id: uuid.UUID, profile_ids: Collection[uuid.UUID]
) -> list[Deal]:
    """The deals of these profiles, the most recently active first."""
    rows = await CrmRepository(session, tenant_id).deals_of_profiles(profile_ids)
    deals = [deal_of(row) for row in rows]
    return sorted(deals, key=lambda deal: (deal.last_activity_at, str(deal.id)), reverse=True)


async def board(session: Session, tenant_id: uuid.UUID, limit: int) -> Board:
    rows = await CrmRepository(session, tenant_id).deals(limit)
    return deal_board(deal_of(row) for row in rows)


async def move_merged(
    session: Session, tenant_id: uuid.UUID, merged: Mapping[uuid.UUID, uuid.UUID], now: datetime
) -> None:
    """An operator merge: the merged profiles' deals go to the survivor, which stays the one
    person; its person is refreshed (attributes and deals changed)."""
    await project(session, tenant_id, [], set(merged.values()), now, merged=merged)


async def restore_unmerged(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    survivor_id: uuid.UUID,
    restored_id: uuid.UUID,
    restored_family: Collection[uuid.UUID],
    restored_orders: Iterable[str],
    now: datetime,
) -> None:
    """An unmerge: the deals of the orders the restored profile took back follow them; every
    other deal of the survivor (a subscription, an order-less purchase) goes back when its
    basis event, the one that named its person, is one the log attributes to the restored
    profile's family. Both persons are then derived again."""
    repo = CrmRepository(session, tenant_id)
    by_order = await repo.deals_by_id(
        [deal_id(tenant_id, f"order:{order_id}") for order_id in restored_orders]
    )
    back = {row.id for row in by_order.values() if row.profile_id == survivor_id}
    others = {
        row.basis_event_id: row.id
        for row in await repo.deals_of_profiles([survivor_id])
        if not row.key.startswith("order:") and row.basis_event_id is not None
    }
    if others:
        theirs = await EventRepository(session, tenant_id).events_of_profiles(
            list(others), restored_family
        )
        back |= {deal for event_id, deal in others.items() if event_id in theirs}
    await repo.assign_deals(dict.fromkeys(sorted(back), restored_id))
    await project(session, tenant_id, [], {survivor_id, restored_id}, now, merged={})
