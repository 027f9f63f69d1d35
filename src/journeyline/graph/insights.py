"""The dashboard's reads of the graph (DESIGN §5): the funnel in stage order with its
conversion rates, the campaign → channel → stage flows, and one customer's journey. Each is a
few grouped statements (store/repositories/graph.py), never a row per event in Python."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from journeyline.graph.funnel import Breakdown, Flows, Funnel, Reach, flows, funnel
from journeyline.graph.journey import Journey, Touch, journey, person_label
from journeyline.graph.service import stage_rows
from journeyline.graph.stages import STAGES
from journeyline.store.db import Session
from journeyline.store.repositories.directory import DirectoryQuery, DirectoryRepository
from journeyline.store.repositories.graph import Dimension, GraphRepository, ReachRecord

# A journey shows at most this many touchpoints (the oldest: where it began).
JOURNEY_LIMIT = 300


def _reach(records: Collection[ReachRecord]) -> list[Reach]:
    return [
        Reach(record.campaign, record.channel, STAGES[record.rank], record.customers)
        for record in records
        if 0 <= record.rank < len(STAGES)
    ]


async def funnel_of(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    since: datetime | None,
    until: datetime | None,
    by: Breakdown | None,
) -> Funnel:
    """The funnel of the customers with a touchpoint in [since, until), whole and (with `by`)
    per campaign or channel of those touchpoints."""
    repo = GraphRepository(session, tenant_id)
    total = _reach(await repo.reach((), since=since, until=until))
    dimensions: tuple[Dimension, ...] = () if by is None else (by,)
    grouped = _reach(await repo.reach(dimensions, since=since, until=until)) if by else []
    return funnel(total, by, grouped)


async def flows_of(
    session: Session, tenant_id: uuid.UUID, *, since: datetime | None, until: datetime | None
) -> Flows:
    repo = GraphRepository(session, tenant_id)
    return flows(_reach(await repo.reach(("campaign", "channel"), since=since, until=until)))


async def people(
    session: Session, tenant_id: uuid.UUID, profile_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """How the dashboard names each profile's person (a merged profile: its survivor's)."""
    found = await GraphRepository(session, tenant_id).people_of(profile_ids)
    return {key: person_label(person.name, person.email) for key, person in found.items()}


async def find_customers(
    session: Session, tenant_id: uuid.UUID, query: DirectoryQuery, limit: int = 20
) -> list[tuple[uuid.UUID, str, str | None]]:
    """(customer id, label, email) of the customers the search matches, as the Profiles page
    matches them (store/repositories/directory.py), most recently seen first."""
    rows = await DirectoryRepository(session, tenant_id).page(query, limit=limit)
    named = await GraphRepository(session, tenant_id).people_of([row.id for row in rows])
    return [
        (row.id, person_label(named[row.id].name, named[row.id].email), named[row.id].email)
        for row in rows
        if row.id in named
    ]


async def journey_of(
    session: Session, tenant_id: uuid.UUID, profile_id: uuid.UUID
) -> Journey | None:
    """The journey of the customer `profile_id` belongs to (a merged profile leads to its
    survivor), across its whole merge family; None when no such profile exists."""
    repo = GraphRepository(session, tenant_id)
    named = await repo.people_of({profile_id})
    person = named.get(profile_id)
    if person is None:
        return None
    customer = person.profile_id
    family = await repo.families_of({customer})
    records = await repo.journey_events(sorted(family), JOURNEY_LIMIT + 1)
    touches = [
        Touch(
            record.event_id,
            record.occurred_at,
            record.event_type,
            record.event_name,
            record.source,
            record.source_type,
            record.campaign_id,
            record.channel,
        )
        for record in records
    ]
    return journey(
        customer,
        person_label(person.name, person.email),
        person.email,
        touches,
        stage_rows(await repo.stages_of([customer])),
        JOURNEY_LIMIT,
    )
