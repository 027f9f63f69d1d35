"""Tests for profile attribute merging, late-event protection and lineage."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeyline.identity.attributes import (
    AttributeChange,
    MergeResult,
    merge_attributes,
    merge_profiles_attributes,
)
from journeyline.identity.attributes import same_json as leaf_unchanged
from journeyline.identity.merge import diff_attributes

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

Change = tuple[str, Any, Any]


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def stamp(minutes: int) -> str:
    return at(minutes).isoformat()


def changes_of(result: MergeResult) -> list[Change]:
    return [(c.path, c.old_value, c.new_value) for c in result.changes]


def merge(attributes: dict[str, Any], patch: dict[str, Any]) -> MergeResult:
    return merge_attributes(attributes, {}, patch, T0)


def value_at(attributes: dict[str, Any], path: str) -> Any:
    node: Any = attributes
    for segment in path.split("."):
        if not isinstance(node, dict) or segment not in node:
            return None
        node = node[segment]
    return node


def same_json(left: Any, right: Any) -> bool:
    """Equality that also tells True from 1, as the merge rules do."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same_json(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(
            same_json(a, b) for a, b in zip(left, right, strict=True)
        )
    if isinstance(left, dict | list) or isinstance(right, dict | list):
        return False
    return bool(left == right)


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        pytest.param({"plan": "pro"}, [("plan", None, "pro")], id="scalar"),
        pytest.param({"tags": ["a", "b"]}, [("tags", None, ["a", "b"])], id="list-is-one-leaf"),
        pytest.param(
            {"address": {"city": "X", "zip": "1"}},
            [("address.city", None, "X"), ("address.zip", None, "1")],
            id="object-one-record-per-leaf",
        ),
        pytest.param({"prefs": {}}, [("prefs", None, {})], id="empty-object-own-path"),
        pytest.param(
            {"a": {"b": {"c": 1}, "d": {}}},
            [("a.b.c", None, 1), ("a.d", None, {})],
            id="deep-object",
        ),
    ],
)
def test_absent_key_is_added(patch: dict[str, Any], expected: list[Change]) -> None:
    result = merge({"name": "Ann"}, patch)
    assert result.attributes == {"name": "Ann", **patch}
    assert changes_of(result) == expected


def test_objects_merge_key_by_key() -> None:
    result = merge(
        {"address": {"city": "Chicago", "zip": "60601", "geo": {"lat": 1}}},
        {"address": {"country": "US", "geo": {"lng": 2}}},
    )
    assert result.attributes == {
        "address": {"city": "Chicago", "zip": "60601", "geo": {"lat": 1, "lng": 2}, "country": "US"}
    }
    assert changes_of(result) == [("address.geo.lng", None, 2), ("address.country", None, "US")]


def test_list_incoming_replaces_list() -> None:
    result = merge({"tags": ["a", "b"]}, {"tags": ["c"]})
    assert result.attributes == {"tags": ["c"]}
    assert changes_of(result) == [("tags", ["a", "b"], ["c"])]


def test_equal_list_is_not_a_change() -> None:
    assert changes_of(merge({"tags": ["a", 1]}, {"tags": ["a", 1.0]})) == []


@pytest.mark.parametrize(
    ("existing", "incoming", "expected"),
    [
        pytest.param("a", ["b", "c"], ["a", "b", "c"], id="scalar-first"),
        pytest.param("a", ["b", "a", "c"], ["a", "b", "c"], id="scalar-not-repeated"),
        pytest.param("a", [], ["a"], id="empty-list"),
        pytest.param(1, [True, 1.0], [1, True], id="bool-is-not-one"),
    ],
)
def test_list_onto_scalar_unions(existing: Any, incoming: list[Any], expected: list[Any]) -> None:
    result = merge({"k": existing}, {"k": incoming})
    assert same_json(result.attributes, {"k": expected})
    assert changes_of(result) == [("k", existing, expected)]


@pytest.mark.parametrize(
    ("existing", "incoming", "expected"),
    [
        pytest.param(["a"], "b", ["a", "b"], id="appended"),
        pytest.param(["a", "b"], "a", ["a", "b"], id="already-present"),
        pytest.param([1], 1.0, [1], id="one-equals-one-point-zero"),
        pytest.param([1], True, [1, True], id="true-is-not-one"),
        pytest.param([True], 1, [True, 1], id="one-is-not-true"),
    ],
)
def test_scalar_onto_list_is_appended_when_absent(
    existing: list[Any], incoming: Any, expected: list[Any]
) -> None:
    result = merge({"k": existing}, {"k": incoming})
    assert same_json(result.attributes, {"k": expected})
    if same_json(existing, expected):
        assert changes_of(result) == []
    else:
        assert changes_of(result) == [("k", existing, expected)]


@pytest.mark.parametrize(
    ("existing", "incoming", "changed"),
    [
        pytest.param("free", "pro", True, id="string"),
        pytest.param(1, 2, True, id="number"),
        pytest.param(1, True, True, id="bool-replaces-one"),
        pytest.param(False, 0, True, id="zero-replaces-false"),
        pytest.param(1, 1.0, False, id="one-point-zero-is-one"),
        pytest.param("x", "x", False, id="same-string"),
    ],
)
def test_scalar_incoming_replaces_scalar(existing: Any, incoming: Any, changed: bool) -> None:
    result = merge({"k": existing}, {"k": incoming})
    if changed:
        assert same_json(result.attributes["k"], incoming)
        assert changes_of(result) == [("k", existing, incoming)]
    else:
        assert same_json(result.attributes["k"], existing)
        assert changes_of(result) == []


@pytest.mark.parametrize(
    ("existing", "incoming"),
    [
        pytest.param({"city": "X"}, "X", id="object-to-scalar"),
        pytest.param({"city": "X"}, ["X"], id="object-to-list"),
        pytest.param("X", {"city": "X"}, id="scalar-to-object"),
        pytest.param(["X"], {"city": "X", "zip": "1"}, id="list-to-object"),
        pytest.param(5, {}, id="scalar-to-empty-object"),
    ],
)
def test_object_and_non_object_replace_each_other_as_one_change(
    existing: Any, incoming: Any
) -> None:
    result = merge({"address": existing}, {"address": incoming})
    assert result.attributes == {"address": incoming}
    assert changes_of(result) == [("address", existing, incoming)]


@pytest.mark.parametrize(
    "patch",
    [
        pytest.param({"name": None}, id="top-level"),
        pytest.param({"address": {"city": None}}, id="nested"),
        pytest.param({"tags": None}, id="over-list"),
        pytest.param({"missing": None}, id="absent-key"),
        pytest.param({"missing": {"a": None, "b": {"c": None}}}, id="absent-object-of-nulls"),
        pytest.param({"name": {"first": None}}, id="object-of-nulls-over-scalar"),
    ],
)
def test_null_never_erases_or_adds(patch: dict[str, Any]) -> None:
    attributes = {"name": "Ann", "address": {"city": "Chicago"}, "tags": ["a"]}
    result = merge_attributes(attributes, {}, patch, T0)
    assert result.attributes == attributes
    assert result.changes == []
    assert result.times == {}


def test_nulls_inside_added_object_are_dropped() -> None:
    result = merge({}, {"address": {"city": "X", "zip": None}})
    assert result.attributes == {"address": {"city": "X"}}
    assert changes_of(result) == [("address.city", None, "X")]


def test_nulls_inside_lists_are_kept_because_lists_are_absolute() -> None:
    assert merge({}, {"k": [None, 1]}).attributes == {"k": [None, 1]}


@pytest.mark.parametrize(
    ("paths", "expected_attributes", "expected_changes"),
    [
        pytest.param(["plan"], {"address": {"city": "Chicago", "zip": "1"}, "tags": ["a"]},
                     [("plan", "pro", None)], id="top-level"),
        pytest.param(["address.city"], {"plan": "pro", "address": {"zip": "1"}, "tags": ["a"]},
                     [("address.city", "Chicago", None)], id="dotted"),
        pytest.param(["address"], {"plan": "pro", "tags": ["a"]},
                     [("address.city", "Chicago", None), ("address.zip", "1", None)],
                     id="subtree-one-record-per-leaf"),
        pytest.param(["tags"], {"plan": "pro", "address": {"city": "Chicago", "zip": "1"}},
                     [("tags", ["a"], None)], id="list"),
        pytest.param(["nope", "address.nope", "plan.x", "tags.0", ""],
                     {"plan": "pro", "address": {"city": "Chicago", "zip": "1"}, "tags": ["a"]},
                     [], id="missing-paths-are-no-ops"),
        pytest.param(["plan", "plan"], {"address": {"city": "Chicago", "zip": "1"}, "tags": ["a"]},
                     [("plan", "pro", None)], id="repeated-path"),
    ],
)  # fmt: skip
def test_unset_removes_paths(
    paths: list[str], expected_attributes: dict[str, Any], expected_changes: list[Change]
) -> None:
    attributes = {"plan": "pro", "address": {"city": "Chicago", "zip": "1"}, "tags": ["a"]}
    result = merge(attributes, {"$unset": paths})
    assert result.attributes == expected_attributes
    assert changes_of(result) == expected_changes


def test_unset_of_missing_path_logs_nothing_and_keeps_times() -> None:
    result = merge_attributes({"a": 1}, {"a": stamp(0)}, {"$unset": ["b", "a.c"]}, at(5))
    assert result.changes == []
    assert result.times == {"a": stamp(0)}


def test_unset_is_applied_before_the_rest_of_the_patch() -> None:
    result = merge(
        {"address": {"city": "Chicago", "zip": "1"}, "tags": ["a"]},
        {"$unset": ["address", "tags"], "address": {"city": "Miami"}, "tags": "b"},
    )
    assert result.attributes == {"address": {"city": "Miami"}, "tags": "b"}
    assert changes_of(result) == [
        ("address.city", "Chicago", "Miami"),
        ("address.zip", "1", None),
        ("tags", ["a"], "b"),
    ]


def test_unset_then_set_to_the_same_value_logs_nothing() -> None:
    result = merge({"plan": "pro"}, {"$unset": ["plan"], "plan": "pro"})
    assert result.attributes == {"plan": "pro"}
    assert result.changes == []
    assert result.times == {}


@pytest.mark.parametrize(
    "unset",
    [
        pytest.param("plan", id="string"),
        pytest.param(["plan", 3], id="list-with-non-string"),
        pytest.param({"plan": True}, id="object"),
        pytest.param(None, id="null"),
    ],
)
def test_malformed_unset_is_ignored(unset: Any) -> None:
    result = merge({"plan": "pro"}, {"$unset": unset})
    assert result.attributes == {"plan": "pro"}
    assert result.changes == []


def test_unset_key_is_never_stored() -> None:
    assert "$unset" not in merge({}, {"$unset": ["x"], "a": 1}).attributes


def test_late_event_never_overwrites_a_newer_value() -> None:
    times = {"plan": stamp(10), "name": stamp(0)}
    result = merge_attributes(
        {"plan": "enterprise", "name": "Ann"}, times, {"plan": "free", "name": "Bo"}, at(5)
    )
    assert result.attributes == {"plan": "enterprise", "name": "Bo"}
    assert changes_of(result) == [("name", "Ann", "Bo")]
    assert result.times == {"plan": stamp(10), "name": stamp(5)}


def test_late_event_does_not_touch_nested_keys_of_a_newer_key() -> None:
    result = merge_attributes(
        {"address": {"city": "Miami"}},
        {"address": stamp(10)},
        {"address": {"zip": "1"}},
        at(5),
    )
    assert result.attributes == {"address": {"city": "Miami"}}
    assert result.changes == []


def test_late_unset_is_ignored() -> None:
    result = merge_attributes(
        {"plan": "pro", "address": {"city": "X"}},
        {"plan": stamp(10), "address": stamp(10)},
        {"$unset": ["plan", "address.city"]},
        at(5),
    )
    assert result.attributes == {"plan": "pro", "address": {"city": "X"}}
    assert result.changes == []


def test_unset_key_keeps_its_time_so_a_late_event_cannot_revive_it() -> None:
    first = merge_attributes({"plan": "pro"}, {"plan": stamp(0)}, {"$unset": ["plan"]}, at(10))
    assert first.attributes == {}
    assert first.times == {"plan": stamp(10)}
    late = merge_attributes(first.attributes, first.times, {"plan": "free"}, at(5))
    assert late.attributes == {}
    assert late.changes == []


def test_equal_time_event_does_apply() -> None:
    result = merge_attributes({"plan": "pro"}, {"plan": stamp(10)}, {"plan": "free"}, at(10))
    assert result.attributes == {"plan": "free"}
    assert changes_of(result) == [("plan", "pro", "free")]


def test_key_time_advances_only_on_a_real_change() -> None:
    times = {"plan": stamp(0), "address": stamp(0)}
    result = merge_attributes(
        {"plan": "pro", "address": {"city": "X"}},
        times,
        {"plan": "pro", "address": {"city": "X", "zip": "1"}},
        at(5),
    )
    assert result.times == {"plan": stamp(0), "address": stamp(5)}


def test_naive_datetimes_are_treated_as_utc() -> None:
    naive = datetime(2024, 5, 1, 12, 5)
    result = merge_attributes(
        {"plan": "pro"}, {"plan": "2024-05-01T12:10:00"}, {"plan": "x"}, naive
    )
    assert result.changes == []
    applied = merge_attributes({}, {}, {"plan": "x"}, naive)
    assert applied.times == {"plan": stamp(5)}


def test_unparsable_stored_time_does_not_block_the_event() -> None:
    result = merge_attributes({"plan": "pro"}, {"plan": "garbage"}, {"plan": "x"}, T0)
    assert result.attributes == {"plan": "x"}
    assert result.times == {"plan": T0.isoformat()}


def test_chicago_to_miami_logs_exactly_address_city() -> None:
    result = merge(
        {"address": {"city": "Chicago", "zip": "60601"}, "name": "Ann"},
        {"address": {"city": "Miami", "zip": "60601"}, "name": "Ann"},
    )
    assert result.changes == [AttributeChange("address.city", "Chicago", "Miami")]
    assert result.attributes == {"address": {"city": "Miami", "zip": "60601"}, "name": "Ann"}


@pytest.mark.parametrize(
    "patch",
    [
        pytest.param({}, id="empty"),
        pytest.param({"name": "Ann"}, id="same-scalar"),
        pytest.param({"address": {"city": "Chicago"}}, id="same-nested"),
        pytest.param({"address": {}}, id="empty-object-over-object"),
        pytest.param({"tags": ["a", "b"]}, id="same-list"),
        pytest.param({"tags": "a"}, id="scalar-already-in-list"),
        pytest.param({"$unset": ["missing"]}, id="unset-missing"),
    ],
)
def test_noop_update_logs_nothing(patch: dict[str, Any]) -> None:
    attributes = {"name": "Ann", "address": {"city": "Chicago"}, "tags": ["a", "b"]}
    times = {"name": stamp(0)}
    result = merge_attributes(attributes, times, patch, at(5))
    assert result.changes == []
    assert result.attributes == attributes
    assert result.times == times


def test_inputs_are_not_mutated() -> None:
    attributes = {"address": {"city": "Chicago", "geo": {"lat": 1}}, "tags": ["a"], "x": 1}
    times = {"x": stamp(0)}
    patch = {
        "$unset": ["x"],
        "address": {"city": "Miami", "geo": {"lng": 2}},
        "tags": "b",
        "new": {"deep": ["v"]},
    }
    before = copy.deepcopy((attributes, times, patch))
    result = merge_attributes(attributes, times, patch, at(5))
    assert (attributes, times, patch) == before
    result.attributes["new"]["deep"].append("mutated")
    result.attributes["address"]["geo"]["lat"] = 99
    assert (attributes, times, patch) == before


def test_change_records_do_not_alias_the_result() -> None:
    result = merge({}, {"tags": ["a"]})
    result.attributes["tags"].append("b")
    assert changes_of(result) == [("tags", None, ["a"])]


def test_list_onto_scalar_applied_twice_replaces_the_union() -> None:
    # The second application meets a list, so "list replaces list" wins: not idempotent.
    first = merge({"k": "a"}, {"k": ["b"]})
    second = merge(first.attributes, {"k": ["b"]})
    assert first.attributes == {"k": ["a", "b"]}
    assert second.attributes == {"k": ["b"]}


def test_merge_profiles_compares_each_key_at_its_own_source_time() -> None:
    result = merge_profiles_attributes(
        target={"plan": "pro", "name": "Ann", "address": {"city": "Chicago"}},
        target_times={"plan": stamp(10), "name": stamp(10), "address": stamp(0)},
        source={"plan": "free", "name": "Bo", "address": {"zip": "1"}, "email": "b@x.io"},
        source_times={"plan": stamp(5), "name": stamp(20), "address": stamp(1)},
        fallback_at=at(3),
    )
    assert result.attributes == {
        "plan": "pro",
        "name": "Bo",
        "address": {"city": "Chicago", "zip": "1"},
        "email": "b@x.io",
    }
    assert changes_of(result) == [
        ("name", "Ann", "Bo"),
        ("address.zip", None, "1"),
        ("email", None, "b@x.io"),
    ]
    assert result.times == {
        "plan": stamp(10),
        "name": stamp(20),
        "address": stamp(1),
        "email": stamp(3),
    }


def test_merge_profiles_into_empty_target_copies_source_with_its_times() -> None:
    source = {"a": {"b": 1}, "c": [1, 2]}
    source_times = {"a": stamp(1), "c": stamp(2)}
    result = merge_profiles_attributes({}, {}, source, source_times, at(9))
    assert result.attributes == source
    assert result.times == source_times
    assert result.attributes["a"] is not source["a"]


def test_merge_profiles_equal_values_log_nothing_and_keep_times() -> None:
    result = merge_profiles_attributes(
        {"a": 1}, {"a": stamp(0)}, {"a": 1.0}, {"a": stamp(5)}, at(9)
    )
    assert result.changes == []
    assert result.times == {"a": stamp(0)}


def test_merge_profiles_does_not_mutate_inputs() -> None:
    target = {"a": {"b": 1}}
    source = {"a": {"c": 2}, "d": [1]}
    target_times = {"a": stamp(0)}
    source_times = {"a": stamp(1)}
    before = copy.deepcopy((target, source, target_times, source_times))
    result = merge_profiles_attributes(target, target_times, source, source_times, at(2))
    result.attributes["a"]["b"] = 5
    result.attributes["d"].append(2)
    assert (target, source, target_times, source_times) == before


# Few keys so that patches collide with existing attributes often; no dots in keys so that
# change paths can be resolved unambiguously.
KEYS = st.sampled_from(["a", "b", "c", "d"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False, allow_infinity=False, width=16)
    | st.sampled_from(["", "x", "y"])
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=3),
    max_leaves=10,
)
# Stored attributes never hold null inside an object (merging drops them), only inside lists.
STORED_VALUES = st.recursive(
    SCALARS.filter(lambda v: v is not None),
    lambda children: (
        st.lists(children | st.none(), max_size=3) | st.dictionaries(KEYS, children, max_size=3)
    ),
    max_leaves=10,
)
ATTRIBUTES = st.dictionaries(KEYS, STORED_VALUES, max_size=4)
UNSETS = st.lists(st.sampled_from(["a", "b", "a.b", "c.a", "a.a.c", "zz"]), max_size=3)
PATCHES = st.builds(
    lambda body, unset: {**body, "$unset": unset} if unset else body,
    st.dictionaries(KEYS, VALUES, max_size=4),
    UNSETS,
)
NULL_PATCHES = st.recursive(
    st.none(), lambda children: st.dictionaries(KEYS, children, min_size=1, max_size=3)
).filter(lambda v: isinstance(v, dict))

PROPERTY = settings(max_examples=300, deadline=None, database=None)


@PROPERTY
@given(PATCHES)
def test_applying_a_patch_twice_from_empty_changes_nothing_the_second_time(
    patch: dict[str, Any],
) -> None:
    first = merge({}, patch)
    second = merge_attributes(first.attributes, first.times, patch, T0)
    assert second.changes == []
    assert second.attributes == first.attributes
    assert second.times == first.times


@PROPERTY
@given(ATTRIBUTES, PATCHES)
def test_repeated_patch_reaches_a_fixed_point_by_the_third_application(
    attributes: dict[str, Any], patch: dict[str, Any]
) -> None:
    # Only list-onto-scalar differs between the first and second application (see above).
    current = attributes
    for _ in range(2):
        current = merge(current, patch).attributes
    third = merge(current, patch)
    assert third.changes == []
    assert same_json(third.attributes, current)


@PROPERTY
@given(ATTRIBUTES, PATCHES)
def test_changes_are_empty_iff_attributes_unchanged(
    attributes: dict[str, Any], patch: dict[str, Any]
) -> None:
    result = merge(attributes, patch)
    assert (result.changes == []) == same_json(result.attributes, attributes)
    assert (result.times == {}) == (result.changes == [])


@PROPERTY
@given(ATTRIBUTES, NULL_PATCHES)
def test_patch_of_only_nulls_never_changes_anything(
    attributes: dict[str, Any], patch: dict[str, Any]
) -> None:
    result = merge(attributes, patch)
    assert result.changes == []
    assert same_json(result.attributes, attributes)


@PROPERTY
@given(ATTRIBUTES, PATCHES)
def test_every_change_new_value_is_found_at_its_path(
    attributes: dict[str, Any], patch: dict[str, Any]
) -> None:
    result = merge(attributes, patch)
    paths = [change.path for change in result.changes]
    assert len(paths) == len(set(paths))
    for change in result.changes:
        assert same_json(value_at(result.attributes, change.path), change.new_value)
        assert not same_json(change.old_value, change.new_value)


@PROPERTY
@given(ATTRIBUTES, PATCHES)
def test_merge_never_mutates_its_inputs(attributes: dict[str, Any], patch: dict[str, Any]) -> None:
    before = copy.deepcopy((attributes, patch))
    merge(attributes, patch)
    assert same_json(list(before), [attributes, patch])


@PROPERTY
@given(ATTRIBUTES, PATCHES)
def test_event_older_than_every_key_changes_nothing(
    attributes: dict[str, Any], patch: dict[str, Any]
) -> None:
    keys = set(attributes) | set(patch) | {"zz"}
    times = {key: stamp(10) for key in keys}
    result = merge_attributes(attributes, times, patch, at(5))
    assert result.changes == []
    assert result.times == times


@PROPERTY
@given(ATTRIBUTES, ATTRIBUTES)
def test_lineage_and_the_unmerge_diff_agree_on_what_changed(
    before: dict[str, Any], after: dict[str, Any]
) -> None:
    """One definition of a changed leaf (JSON equality, attributes.same_json) serves both: the unmerge
    diff reports nothing exactly when the two states are the same JSON."""
    assert (diff_attributes(before, after) == []) == leaf_unchanged(before, after)


@pytest.mark.parametrize(
    ("old", "new", "changed"),
    [(1, 1.0, False), (1, True, True), (0, False, True), ([1, 2], [1.0, 2], False)],
)
def test_a_leaf_changes_by_json_equality(old: Any, new: Any, changed: bool) -> None:
    assert bool(diff_attributes({"n": old}, {"n": new})) is changed
    assert leaf_unchanged(old, new) is not changed


def test_set_once_adds_absent_keys_and_never_overwrites() -> None:
    result = merge_attributes(
        {"plan": "free"},
        {},
        {"$set_once": {"plan": "pro", "first_seen": "2026-01-01"}, "email": "a@b.com"},
        T0,
    )
    assert result.attributes == {"plan": "free", "first_seen": "2026-01-01", "email": "a@b.com"}
    assert "$set_once" not in result.attributes
    assert {change.path for change in result.changes} == {"first_seen", "email"}


def test_set_once_yields_to_a_set_in_the_same_patch() -> None:
    result = merge_attributes({}, {}, {"plan": "pro", "$set_once": {"plan": "free"}}, T0)
    assert result.attributes == {"plan": "pro"}
