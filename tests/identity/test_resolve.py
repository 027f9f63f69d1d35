"""Identity resolution rules of DESIGN §3 on the identity map: table-driven, no I/O."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

import pytest

from journeyline.identity.identity_map import IdentityMap, ProfileState
from journeyline.identity.normalize import Identifier
from journeyline.identity.resolve import IdentityLimits, Resolution, ResolveRequest, resolve_event
from journeyline.statuses import ProfileStatus

AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
A = uuid.UUID(int=0xA)
B = uuid.UUID(int=0xB)
S = uuid.UUID(int=0x5)
S2 = uuid.UUID(int=0x52)


def state(profile_id: uuid.UUID, status: ProfileStatus, **counts: int) -> ProfileState:
    return ProfileState(
        id=profile_id,
        status=status,
        merged_into=None,
        attributes={},
        times={},
        first_seen_at=AT,
        last_seen_at=AT,
        event_count=1,
        counts=dict(counts),
    )


def identity_map(owners: dict[tuple[str, str], uuid.UUID], *profiles: ProfileState) -> IdentityMap:
    return IdentityMap(owners=dict(owners), profiles={p.id: p for p in profiles})


def profile_of(g: IdentityMap, result: Resolution) -> ProfileState:
    assert result.profile_id is not None
    return g.profiles[result.profile_id]


def new_ids() -> itertools.count[int]:
    return itertools.count(1000)


def resolve(
    g: IdentityMap,
    *identifiers: tuple[str, str],
    profile_id: uuid.UUID | None = None,
    limits: IdentityLimits | None = None,
) -> Resolution:
    counter = new_ids()
    return resolve_event(
        g,
        ResolveRequest([Identifier(kind, value) for kind, value in identifiers], profile_id),  # type: ignore[arg-type]
        event_index=0,
        at=AT,
        limits=limits or IdentityLimits(),
        new_id=lambda: uuid.UUID(int=next(counter)),
    )


def test_only_weak_identifiers_create_a_shadow() -> None:
    g = identity_map({})
    result = resolve(g, ("anonymous_id", "a1"))
    assert result.created
    assert profile_of(g, result).status == "shadow"
    assert g.owners[("anonymous_id", "a1")] == result.profile_id


def test_strong_identifier_without_owner_creates_an_anchor() -> None:
    g = identity_map({})
    result = resolve(g, ("email", "a@x.io"))
    assert result.created
    assert profile_of(g, result).status == "anchor"


@pytest.mark.parametrize(
    ("identifiers", "matched_by", "confidence"),
    [
        ([("email", "a@x.io")], "email", 1.0),
        ([("phone", "+14155550100")], "phone", 0.9),
        ([("external_id", "u1")], "external_id", 0.8),
        ([("external_id", "u1"), ("email", "a@x.io")], "email", 1.0),
        ([("phone", "+14155550100"), ("external_id", "u1")], "phone", 0.9),
    ],
)
def test_highest_priority_owner_wins(
    identifiers: list[tuple[str, str]], matched_by: str, confidence: float
) -> None:
    g = identity_map(
        {("email", "a@x.io"): A, ("phone", "+14155550100"): A, ("external_id", "u1"): A},
        state(A, "anchor", email=1, phone=1, external_id=1),
    )
    result = resolve(g, *identifiers)
    assert (result.profile_id, result.matched_by, result.confidence) == (A, matched_by, confidence)


def test_strong_identifier_promotes_the_shadow_of_its_weak_id() -> None:
    g = identity_map({("anonymous_id", "a1"): S}, state(S, "shadow"))
    result = resolve(g, ("email", "p@x.io"), ("anonymous_id", "a1"))
    assert result.profile_id == S
    assert not result.created
    assert g.profiles[S].status == "anchor"
    assert g.owners[("email", "p@x.io")] == S


def test_lower_priority_identifier_of_another_anchor_is_a_conflict_not_a_merge() -> None:
    g = identity_map(
        {("email", "a@x.io"): A, ("external_id", "u2"): B},
        state(A, "anchor", email=1),
        state(B, "anchor", external_id=1),
    )
    result = resolve(g, ("email", "a@x.io"), ("external_id", "u2"))
    assert result.profile_id == A
    assert [(c.reason, c.owner_profile_id) for c in result.conflicts] == [
        ("owned_by_other_anchor", B)
    ]
    assert g.owners[("external_id", "u2")] == B
    assert g.merges == []


def test_weak_identifier_of_a_shadow_collapses_it_into_the_target() -> None:
    g = identity_map(
        {("email", "a@x.io"): A, ("anonymous_id", "a1"): S},
        state(A, "anchor", email=1),
        state(S, "shadow"),
    )
    result = resolve(g, ("email", "a@x.io"), ("anonymous_id", "a1"))
    assert result.merged_profile_ids == [S]
    assert g.profiles[S].status == "merged"
    assert g.profiles[S].merged_into == A
    assert g.owners[("anonymous_id", "a1")] == A
    assert g.profiles[A].event_count == 2


def test_weak_identifier_of_another_anchor_is_left_alone() -> None:
    g = identity_map(
        {("email", "a@x.io"): A, ("anonymous_id", "shared"): B},
        state(A, "anchor", email=1),
        state(B, "anchor", email=1),
    )
    result = resolve(g, ("email", "a@x.io"), ("anonymous_id", "shared"))
    assert result.merged_profile_ids == []
    assert result.conflicts == []
    assert g.owners[("anonymous_id", "shared")] == B


def test_two_shadows_met_by_one_anonymous_event_collapse() -> None:
    g = identity_map(
        {("anonymous_id", "a1"): S, ("session_id", "s1"): S2},
        state(S, "shadow"),
        state(S2, "shadow"),
    )
    result = resolve(g, ("anonymous_id", "a1"), ("session_id", "s1"))
    assert result.profile_id == S
    assert result.merged_profile_ids == [S2]


def test_identifier_over_the_limit_is_refused() -> None:
    g = identity_map(
        {("email", "a@x.io"): A, ("external_id", "u1"): A},
        state(A, "anchor", email=1, external_id=1),
    )
    result = resolve(g, ("email", "a@x.io"), ("external_id", "u9"))
    assert [(c.reason, c.value) for c in result.conflicts] == [("limit_exceeded", "u9")]
    assert ("external_id", "u9") not in g.owners


@pytest.mark.parametrize("value", ["stripe:cus_2", "shopify:820982911946154508", "hotmart:X1"])
def test_provider_customer_ids_are_not_held_to_the_external_id_limit(value: str) -> None:
    g = identity_map(
        {("email", "a@x.io"): A, ("external_id", "u1"): A, ("external_id", "stripe:cus_1"): A},
        state(A, "anchor", email=1, external_id=1),
    )
    result = resolve(g, ("email", "a@x.io"), ("external_id", value))
    assert result.conflicts == []
    assert g.owners[("external_id", value)] == A
    assert g.profiles[A].counts["external_id"] == 1


def test_a_colon_alone_does_not_make_a_provider_namespace() -> None:
    g = identity_map(
        {("email", "a@x.io"): A, ("external_id", "u1"): A},
        state(A, "anchor", email=1, external_id=1),
    )
    result = resolve(g, ("email", "a@x.io"), ("external_id", "auth0:abc"))
    assert [c.reason for c in result.conflicts] == ["limit_exceeded"]


def test_limits_are_configurable() -> None:
    g = identity_map({("email", "a@x.io"): A}, state(A, "anchor", email=1))
    result = resolve(g, ("email", "a@x.io"), ("email", "b@x.io"), limits=IdentityLimits(email=1))
    assert [c.reason for c in result.conflicts] == ["limit_exceeded"]


def test_explicit_profile_id_wins_and_follows_merges() -> None:
    merged = state(S, "merged")
    merged.merged_into = A
    g = identity_map({}, state(A, "anchor"), merged)
    result = resolve(g, ("email", "new@x.io"), profile_id=S)
    assert (result.profile_id, result.matched_by) == (A, "customer_id")
    assert g.owners[("email", "new@x.io")] == A


def test_unknown_explicit_profile_id_is_an_error_not_a_new_profile() -> None:
    g = identity_map({})
    result = resolve(g, ("email", "x@x.io"), profile_id=uuid.uuid4())
    assert result.error == "profile_not_found"
    assert g.profiles == {}


def test_no_identifiers_is_an_error() -> None:
    assert resolve(identity_map({})).error == "no_identifiers"


def test_owner_that_was_merged_answers_with_the_survivor() -> None:
    merged = state(S, "merged")
    merged.merged_into = A
    g = identity_map({("anonymous_id", "old"): S}, state(A, "anchor"), merged)
    assert resolve(g, ("anonymous_id", "old")).profile_id == A
