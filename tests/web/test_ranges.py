"""Chart date ranges and their buckets (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from journeyline.errors import InvalidPayload
from journeyline.web.ranges import DAY, HOUR, parse_span

NOW = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "bucket", "count"),
    [("24h", HOUR, 25), ("7d", 6 * HOUR, 29), ("30d", DAY, 31), ("90d", DAY, 91), (None, DAY, 31)],
)
def test_a_preset_ends_now_in_whole_buckets(name: str | None, bucket: int, count: int) -> None:
    span = parse_span(name, None, None, None, NOW)
    assert span.bucket_seconds == bucket
    assert span.until == NOW
    assert len(span.bucket_starts()) == count
    assert span.start_of(span.bucket_starts()[0]) == span.since


def test_a_custom_range_is_whole_days_in_the_viewers_zone() -> None:
    span = parse_span("custom", "2026-11-01", "2026-11-30", "-180", NOW)
    assert span.since == datetime(2026, 11, 1, 3, tzinfo=UTC)
    assert span.until == datetime(2026, 12, 1, 3, tzinfo=UTC)
    assert span.bucket_seconds == DAY
    assert len(span.bucket_starts()) == 30


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("week", None, None, None), "range"),
        (("custom", None, "2026-01-01", None), "since"),
        (("custom", "2026-01-02", "2026-01-01", None), "until"),
        (("custom", "2024-01-01", "2026-01-01", None), "until"),
        (("custom", "1969-12-31", "1970-01-05", None), "since"),
        (("7d", None, None, "+99999"), "offset"),
        (("7d", None, None, "noon"), "offset"),
    ],
)
def test_a_bad_range_names_its_field(
    args: tuple[str | None, str | None, str | None, str | None], field: str
) -> None:
    with pytest.raises(InvalidPayload) as raised:
        parse_span(*args, NOW)
    assert raised.value.field == field
