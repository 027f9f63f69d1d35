"""Identity resolution for one event against the chunk's identity map (DESIGN §3, pure)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from journeyline.identity.identity_map import ConflictRecord, IdentityMap
from journeyline.identity.merge import collapse
from journeyline.identity.normalize import (
    CONFIDENCE,
    STRONG_KINDS,
    WEAK_KINDS,
    Identifier,
    is_limited,
)

# Why an event could not be attributed: an explicit id no profile has, or nothing to match by.
ResolveError = Literal["profile_not_found", "no_identifiers"]


@dataclass(frozen=True, slots=True)
class IdentityLimits:
    """How many strong identifiers of each kind one profile may own."""

    email: int = 5
    phone: int = 5
    external_id: int = 1

    def of(self, kind: str) -> int:
        return int(getattr(self, kind))


@dataclass(frozen=True, slots=True)
class ResolveRequest:
    identifiers: Sequence[Identifier]
    profile_id: uuid.UUID | None = None
    allow_no_identity: bool = False


@dataclass(slots=True)
class Resolution:
    profile_id: uuid.UUID | None
    matched_by: str | None = None
    confidence: float | None = None
    created: bool = False
    merged_profile_ids: list[uuid.UUID] = field(default_factory=list)
    conflicts: list[ConflictRecord] = field(default_factory=list)
    error: ResolveError | None = None


def _ordered(identifiers: Sequence[Identifier], kinds: Sequence[str]) -> list[Identifier]:
    rank = {kind: position for position, kind in enumerate(kinds)}
    chosen = [ident for ident in identifiers if ident.kind in rank]
    return sorted(chosen, key=lambda ident: rank[ident.kind])


def resolve_event(
    identity_map: IdentityMap,
    request: ResolveRequest,
    *,
    event_index: int,
    at: datetime,
    limits: IdentityLimits,
    new_id: Callable[[], uuid.UUID],
) -> Resolution:
    """Find or create the event's profile, attach its identifiers, collapse shadows it proves."""
    strong = _ordered(request.identifiers, STRONG_KINDS)
    weak = _ordered(request.identifiers, WEAK_KINDS)
    resolution = Resolution(profile_id=None)
    target: uuid.UUID | None = None

    if request.profile_id is not None:
        if request.profile_id not in identity_map.profiles:
            resolution.error = "profile_not_found"
            return resolution
        target = identity_map.survivor(request.profile_id)
        resolution.matched_by, resolution.confidence = "customer_id", 1.0
    else:
        for ident in strong:
            owner = identity_map.owner((ident.kind, ident.value))
            if owner is not None:
                target = owner
                resolution.matched_by = ident.kind
                resolution.confidence = CONFIDENCE[ident.kind]
                break

    if target is None:
        weak_owner = _first_weak_owner(identity_map, weak)
        if strong:
            if weak_owner is not None and identity_map.profiles[weak_owner].status == "shadow":
                # Shadow promotion: the anonymous history becomes the anchor's.
                target = weak_owner
                identity_map.profiles[target].status = "anchor"
                identity_map.profiles[target].is_dirty = True
                resolution.matched_by = "anonymous_id"
            else:
                target = new_id()
                identity_map.add_profile(target, "anchor", at)
                resolution.created = True
        elif weak:
            if weak_owner is not None:
                target = weak_owner
                resolution.matched_by = "anonymous_id"
            else:
                target = new_id()
                identity_map.add_profile(target, "shadow", at)
                resolution.created = True
        elif request.allow_no_identity:
            return resolution
        else:
            resolution.error = "no_identifiers"
            return resolution

    resolution.profile_id = target
    _attach_strong(identity_map, strong, target, resolution, event_index, limits)
    _attach_weak(identity_map, weak, target, resolution, event_index, at)
    return resolution


def _first_weak_owner(identity_map: IdentityMap, weak: Sequence[Identifier]) -> uuid.UUID | None:
    for ident in weak:
        owner = identity_map.owner((ident.kind, ident.value))
        if owner is not None:
            return owner
    return None


def _attach_strong(
    identity_map: IdentityMap,
    strong: Sequence[Identifier],
    target: uuid.UUID,
    resolution: Resolution,
    event_index: int,
    limits: IdentityLimits,
) -> None:
    state = identity_map.profiles[target]
    for ident in strong:
        key = (ident.kind, ident.value)
        owner = identity_map.owner(key)
        if owner == target:
            continue
        if owner is not None:
            # Owned by another anchor: never moved, never merged implicitly; recorded instead.
            conflict = ConflictRecord(
                ident.kind, ident.value, "owned_by_other_anchor", owner, target, event_index
            )
        elif is_limited(ident.kind, ident.value) and state.counts.get(ident.kind, 0) >= limits.of(
            ident.kind
        ):
            conflict = ConflictRecord(
                ident.kind, ident.value, "limit_exceeded", None, target, event_index
            )
        else:
            identity_map.assign(key, target, is_strong=True)
            if state.status == "shadow":
                state.status = "anchor"
                state.is_dirty = True
            continue
        identity_map.conflicts.append(conflict)
        resolution.conflicts.append(conflict)


def _attach_weak(
    identity_map: IdentityMap,
    weak: Sequence[Identifier],
    target: uuid.UUID,
    resolution: Resolution,
    event_index: int,
    at: datetime,
) -> None:
    for ident in weak:
        key = (ident.kind, ident.value)
        owner = identity_map.owner(key)
        if owner is None:
            identity_map.assign(key, target, is_strong=False)
        elif owner != target and identity_map.profiles[owner].status == "shadow":
            collapse(
                identity_map,
                owner,
                target,
                reason="identity_collapse",
                event_index=event_index,
                at=at,
            )
            resolution.merged_profile_ids.append(owner)
        # A weak identifier of another anchor is a shared device: left where it is.
