"""Profile collapse on the identity map, attribute diffs and replays (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from journeyline.errors import MergeConflict
from journeyline.identity.identity_map import IdentityMap, ProfileState
from journeyline.identity.merge import collapse, diff_attributes, replay_attributes
from journeyline.statuses import ProfileStatus

T0 = datetime(2026, 11, 22, 10, tzinfo=UTC)
A, S, C = uuid.UUID(int=1), uuid.UUID(int=2), uuid.UUID(int=3)


def state(
    profile_id: uuid.UUID,
    status: ProfileStatus,
    attributes: dict[str, object],
    first: int,
    last: int,
    count: int,
    **counts: int,
) -> ProfileState:
    return ProfileState(
        id=profile_id,
        status=status,
        merged_into=None,
        attributes=attributes,
        times={},
        first_seen_at=T0 + timedelta(hours=first),
        last_seen_at=T0 + timedelta(hours=last),
        event_count=count,
        counts=dict(counts),
    )


def test_collapse_moves_identifiers_attributes_and_history() -> None:
    identity_map = IdentityMap(
        owners={("email", "a@x.io"): A, ("anonymous_id", "d1"): S, ("anonymous_id", "d2"): S},
        profiles={
            A: state(A, "anchor", {"plan": "pro"}, 5, 6, 2, email=1),
            S: state(S, "shadow", {"city": "Rio"}, 1, 3, 4),
        },
    )
    record = collapse(identity_map, S, A, reason="identity_collapse", event_index=7, at=T0)
    assert record.identities == (("anonymous_id", "d1"), ("anonymous_id", "d2"))
    assert record.from_status == "shadow"
    assert identity_map.owners[("anonymous_id", "d1")] == A
    target = identity_map.profiles[A]
    assert target.attributes == {"plan": "pro", "city": "Rio"}
    assert (target.first_seen_at, target.last_seen_at, target.event_count) == (
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=6),
        6,
    )
    assert (identity_map.profiles[S].status, identity_map.profiles[S].merged_into) == ("merged", A)
    assert [(e.path, e.source, e.event_index) for e in identity_map.lineage] == [
        ("city", "merge", 7)
    ]


def test_collapse_repoints_profiles_merged_into_the_merged_one() -> None:
    older = state(C, "merged", {}, 0, 0, 1)
    older.merged_into = S
    identity_map = IdentityMap(
        owners={},
        profiles={A: state(A, "anchor", {}, 0, 0, 1), S: state(S, "shadow", {}, 0, 0, 1), C: older},
    )
    record = collapse(identity_map, S, A, reason="identity_collapse", event_index=None, at=T0)
    assert record.repointed == (C,)
    assert identity_map.profiles[C].merged_into == A
    assert identity_map.survivor(C) == A


def test_anchor_merged_into_shadow_makes_it_an_anchor() -> None:
    identity_map = IdentityMap(
        owners={},
        profiles={A: state(A, "anchor", {}, 0, 0, 1, email=1), S: state(S, "shadow", {}, 0, 0, 1)},
    )
    collapse(identity_map, A, S, reason="manual", event_index=None, at=T0)
    assert identity_map.profiles[S].status == "anchor"
    assert identity_map.profiles[S].counts == {"email": 1}


@pytest.mark.parametrize("pair", [(A, A), (S, A)])
def test_invalid_merges_are_refused(pair: tuple[uuid.UUID, uuid.UUID]) -> None:
    merged = state(S, "merged", {}, 0, 0, 1)
    merged.merged_into = A
    identity_map = IdentityMap(owners={}, profiles={A: state(A, "anchor", {}, 0, 0, 1), S: merged})
    with pytest.raises(MergeConflict):
        collapse(identity_map, pair[0], pair[1], reason="manual", event_index=None, at=T0)


def test_diff_attributes_lists_changed_leaves() -> None:
    old = {"address": {"city": "Chicago", "zip": "1"}, "tags": ["a"], "gone": 1}
    new = {"address": {"city": "Miami", "zip": "1"}, "tags": ["a", "b"], "flag": True}
    assert diff_attributes(old, new) == [
        ("address.city", "Chicago", "Miami"),
        ("flag", None, True),
        ("gone", 1, None),
        ("tags", ["a"], ["a", "b"]),
    ]


def test_diff_tells_true_from_one() -> None:
    assert diff_attributes({"x": 1}, {"x": True}) == [("x", 1, True)]


def test_replay_applies_patches_in_time_order() -> None:
    attributes, times = replay_attributes(
        [({"plan": "pro"}, T0 + timedelta(hours=2)), ({"plan": "free", "city": "Rio"}, T0)]
    )
    assert attributes == {"plan": "pro", "city": "Rio"}
    assert set(times) == {"plan", "city"}
