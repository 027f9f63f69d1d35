"""The PostHog dialect (no I/O), table-driven: who sends (identified or anonymous), what each of
PostHog's own events becomes, the attribute patch, groups as the CRM company, time and
idempotency, and the errors (decision 66, decision 69)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from journeyline.crm.companies import CompanyKey, company_from, group_key_of
from journeyline.errors import InvalidPayload
from journeyline.ingest.canonical import CanonicalEvent
from journeyline.ingest.dialects.posthog import (
    company_of_groups,
    expand_events,
    group_patch,
    parse_posthog_event,
    split_patch,
)

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def parse(data: dict[str, Any], sent_at: datetime | None = None) -> CanonicalEvent:
    return parse_posthog_event(data, source_type="direct", received_at=NOW, sent_at=sent_at)


@pytest.mark.parametrize(
    ("properties", "external_id", "anonymous_id"),
    [
        # A server SDK's distinct_id is the application's user id.
        ({}, "u1", None),
        ({"$is_identified": False}, None, "u1"),
        # posthog-js before identify: $device_id is the distinct_id it made up.
        ({"$device_id": "u1"}, None, "u1"),
        # posthog-js after identify: the device's id is the same person's.
        ({"$device_id": "dev-9", "$is_identified": True}, "u1", "dev-9"),
        ({"$device_id": "dev-9"}, "u1", "dev-9"),
    ],
)
def test_who_sends_an_ordinary_event(
    properties: dict[str, Any], external_id: str | None, anonymous_id: str | None
) -> None:
    event = parse({"event": "clicked", "distinct_id": "u1", "properties": properties})
    assert (event.external_id, event.anonymous_id) == (external_id, anonymous_id)


@pytest.mark.parametrize(
    ("data", "event_type", "name"),
    [
        ({"event": "$pageview", "properties": {"$current_url": "/a"}}, "page_viewed", "page"),
        ({"event": "$screen"}, "screen_viewed", "screen"),
        (
            {"event": "$identify", "properties": {"$anon_distinct_id": "a1"}},
            "identified",
            "identify",
        ),
        ({"event": "$set", "$set": {"plan": "pro"}}, "identified", "identify"),
        # posthog-python's set_once() sends its own event name.
        ({"event": "$set_once", "$set_once": {"a": 1}}, "identified", "identify"),
        ({"event": "$create_alias", "properties": {"alias": "u2"}}, "aliased", "alias"),
        (
            {"event": "$groupidentify", "properties": {"$group_key": "acme"}},
            "group_joined",
            "group",
        ),
        (
            {"event": "Order Completed", "properties": {"order_id": "A1"}},
            "purchase_completed",
            "Order Completed",
        ),
        # Any other event is a track, typed by its name.
        ({"event": "signed up"}, "signed_up", "signed up"),
    ],
)
def test_what_each_event_becomes(data: dict[str, Any], event_type: str, name: str) -> None:
    event = parse({"distinct_id": "u1", **data})
    assert (event.event_type, event.event_name, event.source) == (event_type, name, "posthog")


def test_identify_carries_both_ids_so_the_anonymous_profile_collapses() -> None:
    event = parse(
        {"event": "$identify", "distinct_id": "u1", "properties": {"$anon_distinct_id": "a1"}}
    )
    assert (event.external_id, event.anonymous_id) == ("u1", "a1")


def test_create_alias_names_the_previous_id() -> None:
    event = parse({"event": "$create_alias", "distinct_id": "a1", "properties": {"alias": "u1"}})
    assert (event.external_id, event.previous_id) == ("u1", "a1")


@pytest.mark.parametrize(
    ("data", "traits"),
    [
        ({"$set": {"plan": "pro"}}, {"plan": "pro"}),
        ({"properties": {"$set": {"plan": "pro"}}}, {"plan": "pro"}),
        ({"$set_once": {"first": "home"}}, {"$set_once": {"first": "home"}}),
        # PostHog's own `$initial_*` bookkeeping is not an attribute.
        ({"$set": {"$initial_os": "Linux", "plan": "pro"}}, {"plan": "pro"}),
        (
            {"$set": {"plan": "pro"}, "properties": {"$set_once": {"first": "home"}}},
            {"plan": "pro", "$set_once": {"first": "home"}},
        ),
    ],
)
def test_set_and_set_once_are_the_attribute_patch(
    data: dict[str, Any], traits: dict[str, Any]
) -> None:
    event = parse({"event": "$set", "distinct_id": "u1", **data})
    assert event.traits == traits


def test_an_email_in_set_or_set_once_is_the_persons_email() -> None:
    assert parse({"event": "$set", "distinct_id": "u1", "$set": {"email": "j@x.io"}}).email == (
        "j@x.io"
    )
    once = parse({"event": "$set", "distinct_id": "u1", "$set_once": {"email": "k@x.io"}})
    assert once.email == "k@x.io"


def test_group_identify_makes_the_group_the_company() -> None:
    event = parse(
        {
            "event": "$groupidentify",
            "distinct_id": "u1",
            "properties": {
                "$group_type": "company",
                "$group_key": "acme",
                "$group_set": {"name": "Acme Co", "domain": None},
            },
        }
    )
    assert event.traits == {"company": {"id": "acme", "name": "Acme Co"}}
    assert event.payload == {
        "group_id": "acme",
        "group_type": "company",
        "traits": {"name": "Acme Co", "domain": None},
    }


@pytest.mark.parametrize(
    ("groups", "company"),
    [
        ({"company": "acme"}, "acme"),
        ({"project": "p1", "organization": "org-1"}, "org-1"),
        ({"account": 42}, "42"),
        ({"workspace": "w1"}, "w1"),
        ({"workspace": "w1", "project": "p1"}, None),
        ({}, None),
        ("acme", None),
        ({"company": ""}, None),
    ],
)
def test_which_group_is_the_company(groups: object, company: str | None) -> None:
    assert company_of_groups(groups) == company


def test_an_event_with_groups_gets_a_company_patch() -> None:
    item = {
        "event": "clicked",
        "distinct_id": "u1",
        "uuid": "e-1",
        "timestamp": "2026-11-22T10:00:00Z",
        "properties": {"$groups": {"company": "acme"}, "$device_id": "dev-9", "token": "pk_x"},
    }
    patch = group_patch(item)
    assert patch == {
        "event": "$set",
        "distinct_id": "u1",
        "uuid": "e-1:group",
        "timestamp": "2026-11-22T10:00:00Z",
        "properties": {"$device_id": "dev-9", "token": "pk_x", "$set": {"company": {"id": "acme"}}},
    }
    event = parse(patch)
    assert (event.event_type, event.traits) == ("identified", {"company": {"id": "acme"}})
    assert (event.external_id, event.anonymous_id) == ("u1", "dev-9")
    # The event itself keeps its groups in its payload and sets nothing.
    original = parse(item)
    assert original.traits is None
    assert original.payload["$groups"] == {"company": "acme"}


def test_a_bare_group_key_names_the_group_a_groupidentify_describes() -> None:
    """`$groups: {"company": "acme"}` with no `$groupidentify` before it sets the group key the
    CRM reads from a `$groupidentify` of "acme": the CRM puts that person in the company the
    group was described as (by whomever), and the key alone makes no company (decision 73)."""
    bare = parse(
        group_patch(
            {
                "event": "clicked",
                "distinct_id": "u2",
                "properties": {"$groups": {"company": "acme"}},
            }
        )
        or {}
    )
    described = parse(
        {
            "event": "$groupidentify",
            "distinct_id": "u1",
            "properties": {
                "$group_type": "company",
                "$group_key": "acme",
                "$group_set": {"name": "Acme Co"},
            },
        }
    )
    assert bare.traits is not None
    assert described.traits is not None
    assert group_key_of(bare.traits) == group_key_of(described.traits) == "acme"
    assert company_from(bare.traits, "u2@gmail.com") is None
    assert company_from(described.traits, "u1@gmail.com") == CompanyKey(
        "acme", None, "Acme Co", True, "acme"
    )


@pytest.mark.parametrize(
    "item",
    [
        {
            "event": "$groupidentify",
            "distinct_id": "u1",
            "properties": {"$groups": {"company": "a"}},
        },
        {"event": "$identify", "distinct_id": "u1", "properties": {"$groups": {"company": "a"}}},
        {"event": "clicked", "distinct_id": "u1", "properties": {"$groups": {"a": "1", "b": "2"}}},
        {"event": "clicked", "distinct_id": "u1"},
        "not an event",
    ],
)
def test_no_company_patch_without_a_company_or_for_posthogs_own_events(item: object) -> None:
    assert group_patch(item) is None


def test_a_requests_company_patch_comes_once_per_person_and_company() -> None:
    def clicked(uuid: str, who: str, company: str) -> dict[str, Any]:
        return {
            "event": "clicked",
            "distinct_id": who,
            "uuid": uuid,
            "properties": {"$groups": {"company": company}},
        }

    events: list[object] = [
        clicked("1", "u1", "acme"),
        clicked("2", "u1", "acme"),
        clicked("3", "u2", "acme"),
        clicked("4", "u1", "globex"),
    ]
    expanded = expand_events(events)
    assert [(index, part["uuid"]) for index, part in expanded if isinstance(part, dict)] == [
        (0, "1:group"),
        (0, "1"),
        (1, "2"),
        (2, "3:group"),
        (2, "3"),
        (3, "4:group"),
        (3, "4"),
    ]


def test_an_event_that_sets_attributes_is_split_into_the_patch_then_the_event() -> None:
    item = {
        "event": "Order Completed",
        "distinct_id": "u1",
        "uuid": "o-1",
        "properties": {"order_id": "A1", "$set": {"plan": "pro"}},
    }
    patch, rest = split_patch(item)
    assert isinstance(patch, dict)
    assert isinstance(rest, dict)
    assert (patch["event"], patch["uuid"], patch["properties"]["$set"]) == (
        "$set",
        "o-1:set",
        {"plan": "pro"},
    )
    assert rest["properties"] == {"order_id": "A1"}
    assert parse(rest).event_type == "purchase_completed"


@pytest.mark.parametrize(
    ("data", "sent_at", "occurred"),
    [
        # The client's clock is five minutes fast: sent_at takes it out.
        (
            {"timestamp": "2026-11-22T12:04:00Z"},
            datetime(2026, 11, 22, 12, 5, tzinfo=UTC),
            NOW - timedelta(minutes=1),
        ),
        # offset: milliseconds before it was sent, no timestamp.
        ({"offset": 30_000}, None, NOW - timedelta(seconds=30)),
        # Nothing said: the pipeline takes the time it was received.
        ({}, None, None),
    ],
)
def test_when_it_happened(
    data: dict[str, Any], sent_at: datetime | None, occurred: datetime | None
) -> None:
    event = parse({"event": "clicked", "distinct_id": "u1", **data}, sent_at=sent_at)
    assert event.occurred_at == occurred


def test_the_uuid_is_the_idempotency_key() -> None:
    assert parse({"event": "x", "distinct_id": "u1", "uuid": "e-7"}).external_event_id == "e-7"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"event": "x"}, "distinct_id"),
        ({"event": "x", "distinct_id": "  "}, "distinct_id"),
        ({"event": "$create_alias", "distinct_id": "u1"}, "alias"),
        ({"event": "$groupidentify", "distinct_id": "u1"}, "$group_key"),
    ],
)
def test_an_unusable_event_names_its_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidPayload) as raised:
        parse(data)
    assert raised.value.field == field
