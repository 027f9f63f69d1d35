"""Ids: UUIDv7 layout and ordering, deterministic UUIDv5."""

from __future__ import annotations

import uuid

from journeyline.ids import deterministic_id, parse_uuid, uuid7


def test_uuid7_has_the_rfc_9562_version_and_variant() -> None:
    value = uuid7()
    assert value.version == 7
    assert value.variant == uuid.RFC_4122


def test_uuid7_is_strictly_increasing_even_within_one_millisecond() -> None:
    ids = [uuid7() for _ in range(20_000)]  # far more than one per millisecond
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert len({value.int >> 80 for value in ids}) < len(ids)


def test_an_explicit_time_does_not_move_the_process_clock() -> None:
    before = uuid7()
    uuid7(now_ms=(before.int >> 80) + 10_000_000)
    assert uuid7().int >> 80 < (before.int >> 80) + 10_000_000


def test_uuid7_carries_its_millisecond() -> None:
    later = 4_000_000_000_000
    assert uuid7(now_ms=later).int >> 80 == later


def test_deterministic_ids_depend_on_every_input() -> None:
    tenant = uuid.uuid4()
    assert deterministic_id(tenant, "order", "1") == deterministic_id(tenant, "order", "1")
    assert deterministic_id(tenant, "order", "1") != deterministic_id(tenant, "order", "2")
    assert deterministic_id(tenant, "order", "1") != deterministic_id(uuid.uuid4(), "order", "1")


def test_parse_uuid_answers_none_for_anything_else() -> None:
    assert parse_uuid("not-a-uuid") is None
    value = uuid.uuid4()
    assert parse_uuid(str(value)) == value
