"""The date range a dashboard chart reads (pure): a preset (24h, 7d, 30d, 90d) or a custom
span of days, in the viewer's UTC offset, and the bucket size its points are counted in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

from journeyline.errors import InvalidPayload

HOUR: Final = 3600
DAY: Final = 24 * HOUR
PRESETS: Final[dict[str, tuple[timedelta, int]]] = {
    "24h": (timedelta(hours=24), HOUR),
    "7d": (timedelta(days=7), 6 * HOUR),
    "30d": (timedelta(days=30), DAY),
    "90d": (timedelta(days=90), DAY),
}
RANGES: Final = (*PRESETS, "custom")
MAX_DAYS: Final = 366
# The log holds nothing before the epoch, and datetimes end at 9999.
EARLIEST: Final = date(1970, 1, 2)
LATEST: Final = date(9998, 12, 31)
# UTC offsets run from -12:00 to +14:00.
MAX_OFFSET_MINUTES: Final = 14 * 60


@dataclass(frozen=True, slots=True)
class Span:
    since: datetime  # the first bucket's start, inclusive
    until: datetime  # exclusive
    bucket_seconds: int
    offset_seconds: int  # the viewer's UTC offset: buckets start at their midnight and hours

    def bucket_starts(self) -> list[int]:
        """Every bucket's number (seconds since the epoch, shifted by the offset, over the
        bucket size), as the grouped queries count them."""
        first = self.bucket_of(self.since)
        last = self.bucket_of(self.until - timedelta(microseconds=1))
        return list(range(first, last + 1))

    def bucket_of(self, moment: datetime) -> int:
        return (int(moment.timestamp()) + self.offset_seconds) // self.bucket_seconds

    def start_of(self, bucket: int) -> datetime:
        """When bucket number `bucket` begins, in UTC."""
        return datetime.fromtimestamp(bucket * self.bucket_seconds - self.offset_seconds, UTC)


def _offset(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    try:
        minutes = int(raw)
    except ValueError:
        raise InvalidPayload(
            "offset is the viewer's UTC offset in minutes", field="offset"
        ) from None
    if abs(minutes) > MAX_OFFSET_MINUTES:
        raise InvalidPayload("offset must be between -840 and 840 minutes", field="offset")
    return minutes * 60


def _day(raw: str | None, name: str) -> date:
    if not raw:
        raise InvalidPayload(f"a custom range needs {name} (YYYY-MM-DD)", field=name)
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidPayload(f"{name} must be a date, YYYY-MM-DD", field=name) from None
    if not EARLIEST <= day <= LATEST:
        raise InvalidPayload(f"{name} must be between {EARLIEST} and {LATEST}", field=name)
    return day


def parse_span(
    range_name: str | None,
    since: str | None,
    until: str | None,
    offset: str | None,
    now: datetime,
) -> Span:
    """The span a chart's query string asks for. A preset ends now and starts at the start of
    its first bucket; `custom` covers the days `since` through `until` (both included) in the
    viewer's zone. Anything else is a 422 naming the field."""
    offset_seconds = _offset(offset)
    name = range_name or "30d"
    if name in PRESETS:
        length, bucket = PRESETS[name]
        start = now - length
        aligned = (int(start.timestamp()) + offset_seconds) // bucket * bucket - offset_seconds
        return Span(datetime.fromtimestamp(aligned, UTC), now, bucket, offset_seconds)
    if name != "custom":
        raise InvalidPayload(f"range must be one of {', '.join(RANGES)}", field="range")
    first, last = _day(since, "since"), _day(until, "until")
    if last < first:
        raise InvalidPayload("until is before since", field="until")
    days = (last - first).days + 1
    if days > MAX_DAYS:
        raise InvalidPayload(f"a custom range spans at most {MAX_DAYS} days", field="until")
    bucket = HOUR if days <= 2 else 6 * HOUR if days <= 14 else DAY
    zone = timedelta(seconds=offset_seconds)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC) - zone
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1) - zone
    return Span(start, end, bucket, offset_seconds)
