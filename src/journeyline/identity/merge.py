"""Profile collapse (DESIGN §3): one profile merged into another, in the chunk's identity map (pure)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from journeyline.errors import MergeConflict
from journeyline.identity.attributes import merge_attributes, merge_profiles_attributes, same_json
from journeyline.identity.identity_map import IdentityMap, LineageEntry, MergeRecord


def collapse(
    identity_map: IdentityMap,
    from_id: uuid.UUID,
    into_id: uuid.UUID,
    *,
    reason: str,
    event_index: int | None,
    at: datetime,
) -> MergeRecord:
    """Merge `from_id` into `into_id`: identifiers, counts, attributes, first/last seen."""
    if from_id == into_id:
        raise MergeConflict("a profile cannot be merged into itself")
    source = identity_map.profiles[from_id]
    target = identity_map.profiles[into_id]
    if source.status == "merged" or target.status == "merged":
        raise MergeConflict("only surviving profiles can be merged")

    moved = identity_map.move_all(from_id, into_id)
    for kind, count in source.counts.items():
        target.counts[kind] = target.counts.get(kind, 0) + count
    source.counts = {}

    result = merge_profiles_attributes(
        target.attributes, target.times, source.attributes, source.times, at
    )
    target.attributes = result.attributes
    target.times = result.times
    identity_map.lineage.extend(
        LineageEntry(
            into_id, change.path, change.old_value, change.new_value, event_index, "merge", at
        )
        for change in result.changes
    )

    if source.first_seen_at is not None and (
        target.first_seen_at is None or source.first_seen_at < target.first_seen_at
    ):
        target.first_seen_at = source.first_seen_at
    if source.last_seen_at is not None and (
        target.last_seen_at is None or source.last_seen_at > target.last_seen_at
    ):
        target.last_seen_at = source.last_seen_at
    target.event_count += source.event_count
    if source.status == "anchor":
        target.status = "anchor"
    target.is_dirty = True

    from_status = source.status
    source.status = "merged"
    source.merged_into = into_id
    source.is_dirty = True
    repointed = []
    for state in identity_map.profiles.values():
        if state.merged_into == from_id:
            state.merged_into = into_id
            state.is_dirty = True
            repointed.append(state.id)

    record = MergeRecord(
        from_profile_id=from_id,
        into_profile_id=into_id,
        reason=reason,
        event_index=event_index,
        at=at,
        from_status=from_status,
        identities=moved,
        repointed=tuple(repointed),
    )
    identity_map.merges.append(record)
    return record


def replay_attributes(
    patches: Iterable[tuple[dict[str, Any], datetime]],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Attributes and key times rebuilt from a profile's own events' patches, in time order."""
    attributes: dict[str, Any] = {}
    times: dict[str, str] = {}
    for patch, at in sorted(patches, key=lambda item: item[1]):
        result = merge_attributes(attributes, times, patch, at)
        attributes, times = result.attributes, result.times
    return attributes, times


def _leaves(value: Any, prefix: str, into: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, child in value.items():
            _leaves(child, f"{prefix}.{key}" if prefix else str(key), into)
    elif prefix:
        into[prefix] = value


def diff_attributes(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(path, old, new) for every leaf that differs between two attribute objects."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    _leaves(old, "", before)
    _leaves(new, "", after)
    changes = []
    for path in sorted(before.keys() | after.keys()):
        old_value, new_value = before.get(path), after.get(path)
        # One definition of "this leaf changed" for lineage and for the unmerge diff.
        if not same_json(old_value, new_value):
            changes.append((path, old_value, new_value))
    return changes
