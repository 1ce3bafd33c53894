"""Work-calendar arithmetic: weekends, holidays, 调休 Saturdays, lunch breaks, off-hours starts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridbot.models.tickets.calendar import WorkCalendar, expand_dates
from gridbot.models.tickets.sla import load_policy

SH = ZoneInfo("Asia/Shanghai")


def local(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    """A Shanghai wall-clock time as the UTC instant the calendar takes."""
    return datetime(y, m, d, hh, mm, tzinfo=SH).astimezone(UTC)


DEFAULT_CALENDAR = load_policy().calendar


@pytest.fixture
def cal() -> WorkCalendar:
    return DEFAULT_CALENDAR


H = timedelta(hours=1)


def test_results_are_utc(cal: WorkCalendar) -> None:
    assert cal.add(local(2026, 3, 10, 10), H).tzinfo is UTC


def test_friday_evening_rolls_over_the_weekend(cal: WorkCalendar) -> None:
    # 2026-03-06 is a Friday: 1 h left on Friday, 1 h on Monday morning
    assert cal.add(local(2026, 3, 6, 17), 2 * H) == local(2026, 3, 9, 10)
    assert cal.between(local(2026, 3, 6, 17), local(2026, 3, 9, 10)) == 2 * H


def test_holiday_is_skipped(cal: WorkCalendar) -> None:
    # 清明 2026-04-04..06 (Sat–Mon): Friday 17:00 + 2 h lands on Tuesday 10:00
    assert cal.add(local(2026, 4, 3, 17), 2 * H) == local(2026, 4, 7, 10)
    assert not cal.is_working_day(date(2026, 4, 6))


def test_make_up_saturday_is_a_working_day(cal: WorkCalendar) -> None:
    # 2026-02-14 is a Saturday and a 调休 working day, followed by the Spring Festival holiday
    assert cal.is_working_day(date(2026, 2, 14))
    assert cal.add(local(2026, 2, 13, 17, 30), H) == local(2026, 2, 14, 9, 30)
    assert cal.add(local(2026, 2, 14, 17), 2 * H) == local(2026, 2, 24, 10)


def test_lunch_break_does_not_count(cal: WorkCalendar) -> None:
    assert cal.add(local(2026, 3, 10, 11, 30), H) == local(2026, 3, 10, 14)
    assert cal.between(local(2026, 3, 10, 12), local(2026, 3, 10, 13, 30)) == timedelta()


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (local(2026, 3, 10, 7), local(2026, 3, 10, 9, 30)),  # before opening
        (local(2026, 3, 10, 20), local(2026, 3, 11, 9, 30)),  # after closing
        (local(2026, 3, 10, 12, 15), local(2026, 3, 10, 14)),  # during lunch
        (local(2026, 3, 7, 10), local(2026, 3, 9, 9, 30)),  # on a Saturday
    ],
)
def test_starting_outside_working_hours(cal: WorkCalendar, start: datetime, expected: datetime) -> None:
    assert cal.add(start, timedelta(minutes=30)) == expected


def test_a_working_day_is_seven_and_a_half_hours(cal: WorkCalendar) -> None:
    assert cal.day_length == timedelta(hours=7, minutes=30)
    # Monday 10:00 + 3 working days = Thursday 10:00
    assert cal.add(local(2026, 3, 9, 10), 3 * cal.day_length) == local(2026, 3, 12, 10)


def test_between_is_signed(cal: WorkCalendar) -> None:
    a, b = local(2026, 3, 10, 10), local(2026, 3, 10, 15)
    assert cal.between(b, a) == -cal.between(a, b) == -(timedelta(hours=3, minutes=30))


def test_naive_datetimes_are_refused(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="naive"):
        cal.add(datetime(2026, 3, 10, 10), H)


def test_bad_periods_are_refused() -> None:
    from datetime import time

    with pytest.raises(ValueError, match="overlap"):
        WorkCalendar(tz=SH, periods=((time(9), time(13)), (time(12), time(18))))


def test_expand_dates_ranges_are_inclusive() -> None:
    got = expand_dates([(date(2026, 10, 1), date(2026, 10, 7)), date(2026, 1, 1)])
    assert len(got) == 8 and date(2026, 10, 7) in got


@given(
    start=st.datetimes(
        min_value=datetime(2025, 12, 1), max_value=datetime(2026, 12, 1), timezones=st.just(UTC)
    ),
    minutes=st.integers(min_value=0, max_value=60 * 24 * 20),
)
def test_between_inverts_add(start: datetime, minutes: int) -> None:
    cal = DEFAULT_CALENDAR
    amount = timedelta(minutes=minutes)
    end = cal.add(start, amount)
    assert end >= start
    assert cal.between(start, end) == amount
