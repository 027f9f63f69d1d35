"""The tolerant readers every layer shares (journeyline/payloads.py): a field of the wrong type
reads as absent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from journeyline import payloads

Reader = Callable[[object], object]


def trimmed(reader: Callable[..., object]) -> Reader:
    return lambda value: reader(value, strip=True)


# (reader, value, what it reads): every shared reader over the values providers really send
# and the wrong types they also send.
READS: list[tuple[str, Reader, object, object]] = [
    ("json_object", payloads.json_object, {"a": 1}, {"a": 1}),
    ("json_object", payloads.json_object, {}, {}),
    ("json_object", payloads.json_object, "corrupted", {}),
    ("json_object", payloads.json_object, [{"a": 1}], {}),
    ("json_object", payloads.json_object, None, {}),
    ("objects", payloads.objects, [{"a": 1}, 2, "x", None, [], {}], [{"a": 1}, {}]),
    ("objects", payloads.objects, {"data": [{"a": 1}]}, []),
    ("objects", payloads.objects, "x", []),
    ("objects", payloads.objects, None, []),
    ("text", payloads.text, "Laura", "Laura"),
    ("text", payloads.text, " padded ", " padded "),
    ("text", payloads.text, "", None),
    ("text", payloads.text, " \t\n", None),
    ("text", payloads.text, 5, None),
    ("text", payloads.text, True, None),
    ("text", payloads.text, ["a"], None),
    ("text", payloads.text, None, None),
    ("text strip", trimmed(payloads.text), " padded ", "padded"),
    ("text strip", trimmed(payloads.text), "  ", None),
    ("text strip", trimmed(payloads.text), 5, None),
    ("integer", payloads.integer, 0, 0),
    ("integer", payloads.integer, 2**64, 2**64),
    ("integer", payloads.integer, -3, -3),
    ("integer", payloads.integer, True, None),
    ("integer", payloads.integer, 1.0, None),
    ("integer", payloads.integer, "1", None),
    ("integer", payloads.integer, None, None),
    ("number", payloads.number, 7, 7),
    ("number", payloads.number, 7.5, 7.5),
    ("number", payloads.number, False, None),
    ("number", payloads.number, "7.5", None),
    ("number", payloads.number, [7], None),
    ("boolean", payloads.boolean, True, True),
    ("boolean", payloads.boolean, False, False),
    ("boolean", payloads.boolean, 0, None),
    ("boolean", payloads.boolean, "true", None),
    ("identifier", payloads.identifier, 1355458, 1355458),
    ("identifier", payloads.identifier, 9007199254740993, 9007199254740993),
    ("identifier", payloads.identifier, "HP0967750879", "HP0967750879"),
    ("identifier", payloads.identifier, " tok ", " tok "),
    ("identifier", payloads.identifier, True, None),
    ("identifier", payloads.identifier, 1.5, None),
    ("identifier", payloads.identifier, "", None),
    ("identifier", payloads.identifier, {"id": 1}, None),
    ("identifier strip", trimmed(payloads.identifier), " KOBB7XB2 ", "KOBB7XB2"),
    ("identifier strip", trimmed(payloads.identifier), 12, 12),
    ("reference", payloads.reference, 4148584, "4148584"),
    ("reference", payloads.reference, "tok-1", "tok-1"),
    ("reference", payloads.reference, "x" * 255, "x" * 255),
    ("reference", payloads.reference, "x" * 256, None),
    ("reference", payloads.reference, False, None),
    ("reference", payloads.reference, ["t"], None),
    ("reference strip", trimmed(payloads.reference), " HP1 ", "HP1"),
    ("currency_code", payloads.currency_code, "usd", "USD"),
    ("currency_code", payloads.currency_code, "EUR", "EUR"),
    ("currency_code", payloads.currency_code, " usd ", None),
    ("currency_code", payloads.currency_code, "US", None),
    ("currency_code", payloads.currency_code, "USDT", None),
    ("currency_code", payloads.currency_code, "U$D", None),
    ("currency_code", payloads.currency_code, "éur", None),
    ("currency_code", payloads.currency_code, 840, None),
    ("currency_code", payloads.currency_code, ["usd"], None),
    ("currency_code strip", trimmed(payloads.currency_code), " brl ", "BRL"),
    ("currency_code strip", trimmed(payloads.currency_code), "  ", None),
    ("currency_code strip", trimmed(payloads.currency_code), "REAIS", None),
    (
        "iso_time",
        payloads.iso_time,
        "2018-01-18T18:17:02Z",
        datetime(2018, 1, 18, 18, 17, 2, tzinfo=UTC),
    ),
    (
        "iso_time",
        payloads.iso_time,
        " 2023-03-24T12:37:27-04:00 ",
        datetime(2023, 3, 24, 16, 37, 27, tzinfo=UTC),
    ),
    (
        "iso_time",
        payloads.iso_time,
        "2023-03-29T18:00:27",
        datetime(2023, 3, 29, 18, 0, 27, tzinfo=UTC),
    ),
    ("iso_time", payloads.iso_time, "yesterday", None),
    ("iso_time", payloads.iso_time, "", None),
    ("iso_time", payloads.iso_time, "9999-12-31T23:59:59-05:00", None),
    ("iso_time", payloads.iso_time, "0001-01-01T00:00:00+01:00", None),
    ("iso_time", payloads.iso_time, 1619697430, None),
    ("iso_time", payloads.iso_time, None, None),
]


@pytest.mark.parametrize(
    ("name", "reader", "value", "expected"),
    READS,
    ids=[f"{name}-{index}" for index, (name, *_) in enumerate(READS)],
)
def test_a_reader_reads_its_type_and_nothing_else(
    name: str, reader: Reader, value: object, expected: object
) -> None:
    read = reader(value)
    assert read == expected
    # 1 == True and 1.0 == 1: the type is part of what is read.
    assert type(read) is type(expected)


def test_a_time_is_moved_to_utc() -> None:
    moment = payloads.iso_time("2024-05-02T09:30:00+05:30")
    assert moment == datetime(2024, 5, 2, 4, 0, tzinfo=UTC)
    assert moment is not None
    assert moment.tzinfo is UTC


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ({"a": 1, "b": None, "c": 0, "d": "", "e": [], "f": False}, {"a": 1, "c": 0, "d": "", "e": [], "f": False}),
        ({"a": None}, {}),
        ({}, {}),
    ],
)  # fmt: skip
def test_compact_leaves_out_only_nulls(given: dict[str, object], kept: dict[str, object]) -> None:
    assert payloads.compact(**given) == kept
    assert list(payloads.compact(**given)) == list(kept)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(" Shoes  ", "Shoes"), ("x" * 300, "x" * 255), ("   ", None), (7, None)],
)
def test_a_label_is_trimmed_and_cut_to_its_limit(value: object, expected: str | None) -> None:
    assert payloads.text(value, strip=True, limit=255) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(" A-1 ", "A-1"), (42, "42"), (True, None), ("x" * 256, None), ("x" * 255, "x" * 255)],
)
def test_a_reference_too_long_is_absent_never_cut(value: object, expected: str | None) -> None:
    assert payloads.reference(value, strip=True) == expected
