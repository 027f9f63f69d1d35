"""The profile read model: a profile (merged ids answer with the survivor), its timeline,
lineage, merges, and the tenant's identity conflicts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from journeyline.errors import ProfileNotFound
from journeyline.statuses import ProfileStatus
from journeyline.store.db import Session
from journeyline.store.models import AttributeChange, Event, IdentityConflict, Profile, ProfileMerge
from journeyline.store.repositories.events import EventRepository
from journeyline.store.repositories.profiles import ProfileRepository


@dataclass(frozen=True, slots=True)
class ProfileView:
    id: uuid.UUID
    status: ProfileStatus
    attributes: dict[str, Any]
    identities: list[tuple[str, str]]
    merged_from: list[uuid.UUID]
    first_seen_at: datetime
    last_seen_at: datetime
    event_count: int


async def surviving_profile(repo: ProfileRepository, profile_id: uuid.UUID) -> Profile:
    """The profile, or the one it was merged into (chains are kept one deep)."""
    profile = await repo.get(profile_id)
    hops = 0
    while profile is not None and profile.merged_into is not None and hops < 16:
        profile = await repo.get(profile.merged_into)
        hops += 1
    if profile is None:
        raise ProfileNotFound(f"no profile {profile_id}")
    return profile


async def _view(repo: ProfileRepository, profile: Profile) -> ProfileView:
    identities = await repo.identities_of([profile.id])
    return ProfileView(
        id=profile.id,
        status=profile.status,
        attributes=profile.attributes,
        identities=[(row.kind, row.value) for row in identities],
        merged_from=await repo.merged_into(profile.id),
        first_seen_at=profile.first_seen_at,
        last_seen_at=profile.last_seen_at,
        event_count=profile.event_count,
    )


async def get_profile(session: Session, tenant_id: uuid.UUID, profile_id: uuid.UUID) -> ProfileView:
    repo = ProfileRepository(session, tenant_id)
    return await _view(repo, await surviving_profile(repo, profile_id))


async def find_profiles(
    session: Session, tenant_id: uuid.UUID, kind: str, value: str
) -> list[ProfileView]:
    repo = ProfileRepository(session, tenant_id)
    owner = await repo.find_owner(kind, value)
    if owner is None:
        return []
    return [await _view(repo, await surviving_profile(repo, owner))]


async def list_profiles(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None,
) -> tuple[list[ProfileView], tuple[datetime, uuid.UUID] | None]:
    repo = ProfileRepository(session, tenant_id)
    rows = await repo.page(limit=limit + 1, before=before)
    page = rows[:limit]
    views = [await _view(repo, profile) for profile in page]
    after = (page[-1].last_seen_at, page[-1].id) if len(rows) > limit else None
    return views, after


async def family_of(
    session: Session, tenant_id: uuid.UUID, profile_id: uuid.UUID
) -> list[uuid.UUID]:
    """The surviving profile of `profile_id` and every profile merged into it (404 if none)."""
    repo = ProfileRepository(session, tenant_id)
    survivor = await surviving_profile(repo, profile_id)
    return [survivor.id, *await repo.merged_into(survivor.id)]


async def profile_events(
    session: Session,
    tenant_id: uuid.UUID,
    profile_id: uuid.UUID,
    *,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None,
) -> tuple[list[Event], tuple[datetime, uuid.UUID] | None]:
    """The timeline of the profile and of every profile merged into it, newest first."""
    family = await family_of(session, tenant_id, profile_id)
    rows = await EventRepository(session, tenant_id).page_for_profiles(
        family, limit=limit + 1, before=before
    )
    page = rows[:limit]
    after = (page[-1].occurred_at, page[-1].id) if len(rows) > limit else None
    return page, after


async def profile_timeline(
    session: Session,
    tenant_id: uuid.UUID,
    profile_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> tuple[ProfileView, list[Event], tuple[datetime, uuid.UUID] | None]:
    """The profile and its complete timeline (its own events and those of every profile merged
    into it, client and server together), oldest first."""
    repo = ProfileRepository(session, tenant_id)
    survivor = await surviving_profile(repo, profile_id)
    view = await _view(repo, survivor)
    family = [survivor.id, *view.merged_from]
    rows = await EventRepository(session, tenant_id).page_for_profiles(
        family, limit=limit + 1, before=after, oldest_first=True
    )
    page = rows[:limit]
    following = (page[-1].occurred_at, page[-1].id) if len(rows) > limit else None
    return view, page, following


async def linked_session_events(
    session: Session,
    tenant_id: uuid.UUID,
    profile_id: uuid.UUID,
    session_id: str,
    *,
    before: uuid.UUID,
) -> int:
    """How many events of the session, logged before event `before`, are on the profile's
    timeline (TrackMate's `linkedEvents`)."""
    family = await family_of(session, tenant_id, profile_id)
    return await EventRepository(session, tenant_id).count_session_events(
        family, session_id, before=before
    )


async def profile_lineage(
    session: Session, tenant_id: uuid.UUID, profile_id: uuid.UUID, *, limit: int
) -> list[AttributeChange]:
    family = await family_of(session, tenant_id, profile_id)
    return await ProfileRepository(session, tenant_id).lineage(family, limit)


async def profile_merges(
    session: Session, tenant_id: uuid.UUID, profile_id: uuid.UUID
) -> list[ProfileMerge]:
    family = await family_of(session, tenant_id, profile_id)
    return await ProfileRepository(session, tenant_id).merges_involving(family)


async def identity_conflicts(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None,
) -> tuple[list[IdentityConflict], tuple[datetime, uuid.UUID] | None]:
    rows = await ProfileRepository(session, tenant_id).conflicts_page(
        limit=limit + 1, before=before
    )
    page = rows[:limit]
    after = (page[-1].created_at, page[-1].id) if len(rows) > limit else None
    return page, after
