"""The Profiles page's read: one page of the tenant's surviving profiles, all of them or those a
search matches (web/lookup.py), with name, company, stage, lifetime value and identifiers (two
statements for the page, whatever its size), and the cursors of the pages before and after; and
a profile's entry on its own page (the same row, its deals, its touchpoints' campaigns)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC

from journeyline.crm import service as crm_service
from journeyline.crm.deals import Deal
from journeyline.cursors import decode_cursor, encode_cursor
from journeyline.errors import InvalidPayload
from journeyline.graph.journey import person_label
from journeyline.graph.stages import STAGES, Stage
from journeyline.identity.normalize import STRONG_KINDS
from journeyline.store.db import Session
from journeyline.store.repositories.directory import (
    Direction,
    DirectoryRepository,
    DirectoryRow,
    Position,
)
from journeyline.store.repositories.events import CampaignTouches, EventRepository
from journeyline.store.repositories.profiles import ProfileRepository
from journeyline.web.lookup import SearchTerms

PAGE_SIZE = 25


@dataclass(frozen=True, slots=True)
class Listed:
    """A profile as the directory lists it."""

    row: DirectoryRow
    label: str  # its name, else its first email, else "anonymous visitor"
    identities: tuple[tuple[str, str], ...]
    stage: Stage | None

    @property
    def id(self) -> uuid.UUID:
        return self.row.id


@dataclass(frozen=True, slots=True)
class DirectoryPage:
    profiles: tuple[Listed, ...]
    previous: str | None  # the `before` cursor of the page before this one
    next: str | None  # the `after` cursor of the page after it


def stage_of(rank: int | None) -> Stage | None:
    return STAGES[rank] if rank is not None and 0 <= rank < len(STAGES) else None


def position_of(token: str | None) -> Position | None:
    """A cursor of a page link; InvalidPayload when it is not one of ours."""
    try:
        found = decode_cursor(token)
        return None if found is None else (found[0].astimezone(UTC), found[1])
    except (OverflowError, ValueError) as exc:  # a date outside what UTC can hold
        raise InvalidPayload("the page link is not valid", field="cursor") from exc


def _label(row: DirectoryRow, identities: tuple[tuple[str, str], ...]) -> str:
    name = row.attributes.get("name")
    email = next((value for kind, value in identities if kind == "email"), None)
    return person_label(name if isinstance(name, str) and name.strip() else None, email)


def _shown_first(identity: tuple[str, str]) -> tuple[int, str, str]:
    """Strong identifiers (email, phone, external id) before anonymous and session ids."""
    kind, value = identity
    rank = STRONG_KINDS.index(kind) if kind in STRONG_KINDS else len(STRONG_KINDS)
    return rank, kind, value


def _cursor(row: DirectoryRow) -> str:
    return encode_cursor(row.last_seen_at, row.id)


async def directory(
    session: Session,
    tenant_id: uuid.UUID,
    terms: SearchTerms | None,
    *,
    after: str | None = None,
    before: str | None = None,
    limit: int = PAGE_SIZE,
) -> DirectoryPage:
    """The page after `after` (or before `before`; the first page without either)."""
    direction: Direction = "before" if before and not after else "after"
    position = position_of(before if direction == "before" else after)
    rows = await DirectoryRepository(session, tenant_id).page(
        terms, limit=limit + 1, position=position, direction=direction
    )
    more = len(rows) > limit
    # Newest first either way: the extra row is the last one going forward, the first going back.
    page = (rows[1:] if more else rows) if direction == "before" else rows[:limit]
    owned = await ProfileRepository(session, tenant_id).identities_of([row.id for row in page])
    identities: dict[uuid.UUID, list[tuple[str, str]]] = {}
    for identity in owned:
        identities.setdefault(identity.profile_id, []).append((identity.kind, identity.value))
    listed = []
    for row in page:
        held = tuple(sorted(identities.get(row.id, ()), key=_shown_first))
        listed.append(Listed(row, _label(row, held), held, stage_of(row.stage_rank)))
    if not page:
        return DirectoryPage((), None, None)
    has_before = more if direction == "before" else position is not None
    has_after = more if direction == "after" else True
    return DirectoryPage(
        tuple(listed),
        previous=_cursor(page[0]) if has_before else None,
        next=_cursor(page[-1]) if has_after else None,
    )


@dataclass(frozen=True, slots=True)
class Entry:
    """What the profile page adds to the profile: its directory row (company, stage, lifetime
    value), its deals and its touchpoints' campaigns."""

    listed: Listed | None
    deals: tuple[Deal, ...]
    campaigns: tuple[CampaignTouches, ...]


async def entry_of(
    session: Session,
    tenant_id: uuid.UUID,
    profile_id: uuid.UUID,
    identities: tuple[tuple[str, str], ...],
    family: Collection[uuid.UUID],
) -> Entry:
    """The entry of the surviving profile `profile_id`; `family` is it and every profile merged
    into it (their touchpoints are its)."""
    row = await DirectoryRepository(session, tenant_id).one(profile_id)
    listed = (
        None
        if row is None
        else Listed(row, _label(row, identities), identities, stage_of(row.stage_rank))
    )
    deals = await crm_service.deals_of(session, tenant_id, [profile_id])
    campaigns = await EventRepository(session, tenant_id).campaigns_of_profiles(family)
    return Entry(listed, tuple(deals), tuple(campaigns))
