"""Work calendar: working hours, weekends, holidays and make-up working days (调休).

Instants go in and come out as timezone-aware UTC; local time exists only inside this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A calendar with no working day in ten years is a configuration error, not a long wait.
_MAX_DAYS = 3660


@dataclass(frozen=True)
class WorkCalendar:
    """Working periods per day in a local time zone, with weekends, holidays and 调休 days."""

    tz: ZoneInfo
    periods: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13, 30), time(18)))
    weekend: frozenset[int] = frozenset({5, 6})  # date.weekday(): Saturday, Sunday
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()  # weekend days that are working days (调休)

    def __post_init__(self) -> None:
        for start, end in self.periods:
            if start >= end:
                raise ValueError(f"working period {start}–{end} ends before it starts")
        ordered = sorted(self.periods)
        for (_, end), (start, _) in zip(ordered, ordered[1:], strict=False):
            if start < end:
                raise ValueError("working periods overlap")
        object.__setattr__(self, "periods", tuple(ordered))

    @property
    def day_length(self) -> timedelta:
        """Working time in one working day (the unit of 'working days')."""
        return sum((_span(self.tz, date(2001, 1, 1), s, e) for s, e in self.periods), timedelta())

    def is_working_day(self, day: date) -> bool:
        """Whether a local date has working hours: 调休 days yes, holidays no, else not a weekend."""
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() not in self.weekend

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The instant when `amount` of working time has elapsed after `start` (UTC in and out)."""
        _check_aware(start)
        if amount < timedelta():
            raise ValueError("cannot add negative working time")
        if amount == timedelta():
            return start.astimezone(UTC)
        left = amount
        for seg_start, seg_end in self._segments_from(start):
            avail = seg_end - seg_start
            if left <= avail:
                return seg_start + left
            left -= avail
        raise ValueError("the work calendar has no working time in the next ten years")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from `start` to `end` (negative when `end` is earlier)."""
        _check_aware(start)
        _check_aware(end)
        if end < start:
            return -self.between(end, start)
        total = timedelta()
        for seg_start, seg_end in self._segments_from(start):
            if seg_start >= end:
                break
            total += min(seg_end, end) - seg_start
        return total

    def _segments_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals (UTC) at or after `start`, clipped at `start`, in order."""
        start = start.astimezone(UTC)
        day = start.astimezone(self.tz).date()
        for _ in range(_MAX_DAYS):
            if self.is_working_day(day):
                for s, e in self.periods:
                    seg_start = _local(self.tz, day, s)
                    seg_end = _local(self.tz, day, e)
                    if seg_end > start:
                        yield max(seg_start, start), seg_end
            day += timedelta(days=1)


def _local(tz: ZoneInfo, day: date, at: time) -> datetime:
    # UTC arithmetic afterwards: aware datetimes sharing a tzinfo subtract as wall-clock times.
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _span(tz: ZoneInfo, day: date, start: time, end: time) -> timedelta:
    return _local(tz, day, end) - _local(tz, day, start)


def _check_aware(value: datetime) -> None:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the work calendar (use UTC-aware datetimes)")


def expand_dates(items: Iterable[date | tuple[date, date]]) -> frozenset[date]:
    """Single dates and inclusive (first, last) ranges as one set of dates."""
    out: set[date] = set()
    for item in items:
        if isinstance(item, tuple):
            first, last = item
            day = first
            while day <= last:
                out.add(day)
                day += timedelta(days=1)
        else:
            out.add(item)
    return frozenset(out)
