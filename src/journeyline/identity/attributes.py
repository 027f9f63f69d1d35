"""Profile attribute merging: recursive trait patches with late-event protection and leaf lineage."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

UNSET_KEY: Final = "$unset"
# PostHog's `$set_once` (decision 66): keys set only where the profile has none yet.
SET_ONCE_KEY: Final = "$set_once"
SPECIAL_KEYS: Final = frozenset({UNSET_KEY, SET_ONCE_KEY})

# Marks a patch value that carries no data (a dict made only of nulls), so it must not apply.
_NOTHING: Final = object()
# Marks a key that does not exist, as opposed to one holding null.
_ABSENT: Final = object()


@dataclass(frozen=True, slots=True)
class AttributeChange:
    path: str
    old_value: Any
    new_value: Any


@dataclass(frozen=True, slots=True)
class MergeResult:
    attributes: dict[str, Any]
    times: dict[str, str]
    changes: list[AttributeChange]


def _kind(value: Any) -> str:
    # bool is a subclass of int, so it must be tested first: True and 1 are different JSON values.
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def same_json(left: Any, right: Any) -> bool:
    """JSON equality: equal values of the same JSON type (1 == 1.0, but True != 1)."""
    kind = _kind(left)
    if kind != _kind(right):
        return False
    if kind == "object":
        return left.keys() == right.keys() and all(same_json(left[k], right[k]) for k in left)
    if kind == "array":
        return len(left) == len(right) and all(
            same_json(a, b) for a, b in zip(left, right, strict=True)
        )
    if kind == "number" and isinstance(left, float) and isinstance(right, float):
        return left == right or (math.isnan(left) and math.isnan(right))
    return bool(left == right)


def _clean(value: Any) -> Any:
    """A copy of an incoming value fit to store: nulls inside objects dropped (they carry no data)."""
    if isinstance(value, dict):
        cleaned: dict[str, Any] = {}
        for key, child in value.items():
            if child is None:
                continue
            kept = _clean(child)
            if kept is not _NOTHING:
                cleaned[key] = kept
        # An explicitly empty object is data; an object of nulls only is not.
        if value and not cleaned:
            return _NOTHING
        return cleaned
    return copy.deepcopy(value)


def _leaves(value: Any, path: str) -> list[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        found: list[tuple[str, Any]] = []
        for key, child in value.items():
            found.extend(_leaves(child, f"{path}.{key}"))
        return found
    return [(path, value)]


def _diff(old: Any, new: Any, path: str, into: list[AttributeChange]) -> None:
    """Lineage between two states of one path, following the merge rules' record shapes."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key, child in new.items():
            _diff(old.get(key, _ABSENT), child, f"{path}.{key}", into)
        for key, child in old.items():
            if key not in new:
                _diff(child, _ABSENT, f"{path}.{key}", into)
    elif old is _ABSENT and new is _ABSENT:
        return
    elif old is _ABSENT:
        into.extend(AttributeChange(p, None, copy.deepcopy(v)) for p, v in _leaves(new, path))
    elif new is _ABSENT:
        into.extend(AttributeChange(p, copy.deepcopy(v), None) for p, v in _leaves(old, path))
    elif not same_json(old, new):
        # Scalars and lists are leaves; an object meeting a non-object is one change here too.
        into.append(AttributeChange(path, copy.deepcopy(old), copy.deepcopy(new)))


def _key_changes(before: dict[str, Any], after: dict[str, Any], key: str) -> list[AttributeChange]:
    found: list[AttributeChange] = []
    _diff(before.get(key, _ABSENT), after.get(key, _ABSENT), key, found)
    return found


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _parse_time(text: str | None) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return _aware(datetime.fromisoformat(text))
    except ValueError:
        return None


def _is_late(times: dict[str, str], key: str, at: datetime) -> bool:
    stored = _parse_time(times.get(key))
    return stored is not None and at < stored


def _merge_value(container: dict[str, Any], key: str, incoming: Any) -> None:
    if incoming is None:
        return
    if key not in container:
        added = _clean(incoming)
        if added is _NOTHING:
            return
        container[key] = added
        return
    existing = container[key]
    if isinstance(existing, dict) and isinstance(incoming, dict):
        for child_key, child in incoming.items():
            _merge_value(existing, child_key, child)
        return
    new: Any
    if isinstance(existing, dict) or isinstance(incoming, dict):
        new = _clean(incoming)
        if new is _NOTHING:
            return
    elif isinstance(incoming, list):
        if isinstance(existing, list):
            new = copy.deepcopy(incoming)
        else:
            new = [existing, *(copy.deepcopy(i) for i in incoming if not same_json(i, existing))]
    elif isinstance(existing, list):
        if any(same_json(item, incoming) for item in existing):
            return
        new = [*existing, incoming]
    else:
        new = incoming
    # Keeping an equal value (1 over 1.0) leaves the stored attributes exactly as they were.
    if not same_json(existing, new):
        container[key] = new


def _own(result: dict[str, Any], key: str, owned: set[str]) -> None:
    """Give `result` its own copy of `key`'s value before it is changed in place."""
    if key not in owned:
        owned.add(key)
        if key in result:
            result[key] = copy.deepcopy(result[key])


def _unset_path(attributes: dict[str, Any], segments: list[str]) -> None:
    node: Any = attributes
    for segment in segments[:-1]:
        node = node.get(segment) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(segments[-1], None)


def _unset_paths(patch: dict[str, Any]) -> list[str]:
    paths = patch.get(UNSET_KEY)
    if isinstance(paths, list) and all(isinstance(p, str) for p in paths):
        return paths
    return []


def _set_once(patch: dict[str, Any]) -> dict[str, Any]:
    values = patch.get(SET_ONCE_KEY)
    return values if isinstance(values, dict) else {}


def merge_attributes(
    attributes: dict[str, Any],
    times: dict[str, str],
    patch: dict[str, Any],
    at: datetime,
) -> MergeResult:
    """Apply one event's trait patch (at time `at`) to a profile's attributes.

    Rules: absent keys are added; objects merge key by key; an incoming list replaces a list;
    a list onto a scalar unions (the scalar first); a scalar onto a list is appended if absent;
    a scalar replaces a scalar; an object and a non-object replace each other (one change at
    that path); null never erases anything. `patch["$unset"]` (a list of dotted paths; anything
    else is ignored) removes paths before the rest of the patch applies. `patch["$set_once"]`
    (an object) adds each of its top-level keys the profile does not hold after the rest of the
    patch, and never changes one it holds. Both are special only at the top level of the patch.

    Late events: a top-level key whose stored time is strictly newer than `at` is left alone
    (set and unset). A key's time is set to `at` only when the event actually changed something
    under it; an unset key keeps its time so an older event cannot bring it back. Unparsable
    stored times count as absent; naive datetimes are taken as UTC.

    Changes are the net effect of the whole event per leaf path, so unsetting and re-setting
    the same value logs nothing. Inputs are never mutated.
    """
    at = _aware(at)
    # Copy on write: only the top-level keys the patch reaches are copied before they change
    # (a profile's attributes are otherwise shared with the state they came from, never mutated).
    result = dict(attributes)
    owned: set[str] = set()
    # Lineage is the per-key difference between before and after rather than a log of steps,
    # so an `$unset` undone by the same patch nets out exactly.
    touched: dict[str, None] = {}
    for path in _unset_paths(patch):
        segments = path.split(".")
        if not _is_late(times, segments[0], at):
            _own(result, segments[0], owned)
            _unset_path(result, segments)
            touched[segments[0]] = None
    for key, value in patch.items():
        if key not in SPECIAL_KEYS and not _is_late(times, key, at):
            _own(result, key, owned)
            _merge_value(result, key, value)
            touched[key] = None
    for key, value in _set_once(patch).items():
        if key not in SPECIAL_KEYS and key not in result and value is not None:
            _own(result, key, owned)
            _merge_value(result, key, value)
            touched[key] = None
    changes: list[AttributeChange] = []
    new_times = dict(times)
    for key in touched:
        found = _key_changes(attributes, result, key)
        if found:
            changes.extend(found)
            new_times[key] = at.isoformat()
    return MergeResult(result, new_times, changes)


def merge_profiles_attributes(
    target: dict[str, Any],
    target_times: dict[str, str],
    source: dict[str, Any],
    source_times: dict[str, str],
    fallback_at: datetime,
) -> MergeResult:
    """Merge a whole profile (source, being collapsed) into target. Applied key by key: each
    top-level key of source is merged as a patch at that key's own source time
    (source_times[key], else fallback_at), so the late-event rule compares per key.

    Keys the source had unset (a time but no value) are not propagated, and a source key
    named `$unset` is ignored. Inputs are never mutated.
    """
    fallback = _aware(fallback_at)
    result = dict(target)
    owned: set[str] = set()
    new_times = dict(target_times)
    changes: list[AttributeChange] = []
    for key, value in source.items():
        if key in SPECIAL_KEYS:
            continue
        at = _parse_time(source_times.get(key)) or fallback
        if _is_late(target_times, key, at):
            continue
        _own(result, key, owned)
        _merge_value(result, key, value)
        found = _key_changes(target, result, key)
        if found:
            changes.extend(found)
            new_times[key] = at.isoformat()
    return MergeResult(result, new_times, changes)
