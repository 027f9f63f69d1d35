"""Untrusted JSON in: storable strings (NUL and lone surrogates as U+FFFD, in keys and values),
any depth decoded without a 500, and nesting measured without recursion."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from journeyline.errors import MalformedBody
from journeyline.ingest.documents import (
    ENCODABLE_DEPTH,
    PARSED_DEPTH,
    cut_to_depth,
    decode_json,
    deepest_member,
    nesting_depth,
)

REPLACEMENT = "\ufffd"


def nested(levels: int, inner: bytes = b"1") -> bytes:
    """`levels` lists, one inside the other, around `inner`."""
    return b"[" * levels + inner + b"]" * levels


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (rb'"a\u0000b"', f"a{REPLACEMENT}b"),
        (rb'{"k\u0000": "v"}', {f"k{REPLACEMENT}": "v"}),
        (rb'"\ud800"', REPLACEMENT),
        (rb'"\uDBFF!"', f"{REPLACEMENT}!"),
        (rb'"\udc00"', REPLACEMENT),
        (rb'"x\ud800\ud800\udc00"', f"x{REPLACEMENT}\U00010000"),
        (rb'{"\ud83d": "\ude00"}', {REPLACEMENT: REPLACEMENT}),
        (rb'"\ud83d\ude00"', "\U0001f600"),
        (rb'"\uD83D\uDE00"', "\U0001f600"),
        # An escaped backslash, then the text "u0000": not an escape, nothing replaced.
        (rb'"\\u0000"', "\\u0000"),
        (rb'"\\\u0000"', f"\\{REPLACEMENT}"),
        (rb'["ok", {"a": ["\u0000", "\ud800"]}]', ["ok", {"a": [REPLACEMENT, REPLACEMENT]}]),
        (rb'{"plain": "text \u00e9 \n"}', {"plain": "text \u00e9 \n"}),
    ],
)
def test_nul_and_lone_surrogates_become_the_replacement_character(
    body: bytes, expected: object
) -> None:
    decoded = decode_json(body)
    assert decoded == expected
    orjson.dumps(decoded)  # encodable again: no lone surrogate is left


@pytest.mark.parametrize("levels", [255, 1023, 1024, 1025, 10_000, 100_000])
def test_any_depth_decodes_bounded_at_orjsons_limit(levels: int) -> None:
    decoded = decode_json(nested(levels))
    assert nesting_depth(decoded) == min(levels, PARSED_DEPTH)


@pytest.mark.parametrize("levels", [1025, 10_000, 100_000])
def test_a_document_too_deep_to_parse_keeps_its_shallow_neighbours(levels: int) -> None:
    body = (
        b'{"events": [{"n": 1, "s": "[{"}, '
        + b'{"deep": '
        + nested(levels)
        + b'}, {"n": "\\u0000", "list": [1, [2]]}], "after": true}'
    )
    decoded: Any = decode_json(body)
    first, deep, last = decoded["events"]
    assert first == {"n": 1, "s": "[{"}
    assert last == {"n": REPLACEMENT, "list": [1, [2]]}
    assert decoded["after"] is True
    assert nesting_depth(deep) == PARSED_DEPTH - 2


@pytest.mark.parametrize(
    "body",
    [
        b'{"event_type": "track",',
        b"",
        b"\xed\xa0\x80",  # a surrogate encoded in the bytes themselves: not UTF-8
        b'"\xed\xa0\x80"',
        b'"raw \x00 nul"',  # JSON escapes control characters; a raw one is not JSON
        b"[" * 2000,
        b"[" * 2000 + b"]" * 1999,
        b'"\\ud800',
    ],
)
def test_what_is_not_json_stays_malformed(body: bytes) -> None:
    with pytest.raises(MalformedBody):
        decode_json(body)


@pytest.mark.parametrize(
    ("value", "depth"),
    [
        (1, 0),
        ("text", 0),
        ({}, 1),
        ([], 1),
        ({"a": []}, 2),
        ({"a": 1, "b": {"c": [{"d": None}]}}, 4),
        ([[], [[[]]], []], 4),
    ],
)
def test_nesting_depth_counts_containers(value: object, depth: int) -> None:
    assert nesting_depth(value) == depth


def test_nesting_depth_needs_no_recursion() -> None:
    value: Any = 1
    for _ in range(100_000):
        value = [value]
    assert nesting_depth(value) == 100_000


@pytest.mark.parametrize(
    ("value", "limit", "member"),
    [
        ({"a": 1, "payload": {"b": {"c": {}}}}, 3, "payload"),
        ({"a": 1, "payload": {"b": {"c": {}}}}, 4, None),
        ([[[[]]]], 2, None),
        ("text", 1, None),
    ],
)
def test_deepest_member_names_the_top_level_key_that_goes_too_deep(
    value: object, limit: int, member: str | None
) -> None:
    assert deepest_member(value, limit) == member


@pytest.mark.parametrize(
    ("value", "levels", "expected"),
    [
        ({"a": {"b": {"c": 1}}, "x": 2}, 2, {"a": {"b": None}, "x": 2}),
        ([[1], 2], 1, [None, 2]),
        ([[1], 2], 0, None),
        ("text", 0, "text"),
    ],
)
def test_cut_to_depth_replaces_what_is_below_the_levels(
    value: object, levels: int, expected: object
) -> None:
    assert cut_to_depth(value, levels) == expected


def test_a_cut_copy_of_a_document_too_deep_to_encode_encodes() -> None:
    deep = decode_json(nested(1000))
    with pytest.raises(orjson.JSONEncodeError):
        orjson.dumps([deep])
    cut = cut_to_depth(deep, ENCODABLE_DEPTH)
    assert nesting_depth(orjson.loads(orjson.dumps([cut]))) == ENCODABLE_DEPTH + 1
