"""One event's limits: nested at most `max_json_depth` levels (422 `too_deep`, naming the
top-level field), at most `max_event_bytes` (413); no depth is a 500."""

from __future__ import annotations

from typing import Any

import pytest

from journeyline.errors import PayloadTooLarge, TooDeep
from journeyline.ingest.dialects.fields import check_event_limits
from journeyline.ingest.documents import decode_json


def event_nesting(levels: int) -> Any:
    """A Keystone event whose payload goes `levels` levels deep in all (the event is one)."""
    inner = b"[" * (levels - 2) + b"]" * (levels - 2)
    return decode_json(b'{"event_type": "track", "payload": {"deep": ' + inner + b"}}")


@pytest.mark.parametrize(("levels", "max_depth"), [(3, 3), (64, 64), (10, 200)])
def test_an_event_within_the_depth_passes(levels: int, max_depth: int) -> None:
    check_event_limits(event_nesting(levels), max_bytes=32 * 1024, max_depth=max_depth)


@pytest.mark.parametrize(
    ("levels", "max_depth"),
    [(4, 3), (65, 64), (201, 200), (255, 64), (256, 200), (1023, 64), (1024, 64)],
)
def test_an_event_deeper_than_the_limit_is_too_deep_naming_its_field(
    levels: int, max_depth: int
) -> None:
    with pytest.raises(TooDeep) as raised:
        check_event_limits(event_nesting(levels), max_bytes=32 * 1024, max_depth=max_depth)
    assert raised.value.status_code == 422
    assert raised.value.code == "too_deep"
    assert raised.value.field == "payload"


@pytest.mark.parametrize("levels", [10_000, 100_000])
def test_an_event_too_deep_to_decode_whole_is_too_deep(levels: int) -> None:
    body = b'{"payload": ' + b"[" * levels + b"]" * levels + b"}"
    with pytest.raises(TooDeep):
        check_event_limits(decode_json(body), max_bytes=32 * 1024, max_depth=64)


def test_many_shallow_containers_are_not_deep() -> None:
    wide = {"items": [{"sku": f"s{i}", "tags": [i]} for i in range(500)]}
    check_event_limits(wide, max_bytes=64 * 1024, max_depth=4)


def test_brackets_inside_strings_are_text() -> None:
    check_event_limits({"text": "[{" * 200}, max_bytes=32 * 1024, max_depth=1)


def test_size_is_still_413() -> None:
    with pytest.raises(PayloadTooLarge):
        check_event_limits({"blob": "x" * 40_000}, max_bytes=32 * 1024, max_depth=64)
