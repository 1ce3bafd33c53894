"""The holiday calendar cannot go silently wrong: coverage of this year, warnings, imports."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from gridbot.models.entities import utcnow
from gridbot.models.settings import SLASettings
from gridbot.models.tickets.holidays import (
    HolidayFileError,
    apply_years,
    coverage_warning,
    covered_years,
    import_holidays,
    read_holiday_file,
)
from gridbot.models.tickets.sla import load_policy, load_policy_for


def test_the_shipped_calendar_covers_the_current_year() -> None:
    # fails every January until someone ships the new State Council notice (or imports it)
    calendar = load_policy().calendar
    this_year = utcnow().astimezone(calendar.tz).year
    assert this_year in covered_years(calendar), (
        f"the bundled SLA policy has no holidays for {this_year}: add the State Council notice to "
        "models/sla_default.yaml (calendar.holidays/workdays)"
    )


def test_a_missing_next_year_warns_and_a_missing_current_year_warns_louder() -> None:
    calendar = load_policy().calendar  # 2026 only
    assert coverage_warning(calendar, date(2026, 3, 1)) is not None
    warning = coverage_warning(calendar, date(2026, 12, 2))
    assert warning is not None and "2027年" in warning and "gridbot calendar import" in warning
    now = coverage_warning(calendar, date(2027, 1, 5))
    assert now is not None and "2027年、2028年" in now and "正被当作工作日" in now


def test_import_merges_years_and_the_policy_uses_them(tmp_path: Path) -> None:
    new = tmp_path / "2027.yaml"
    new.write_text(
        "2027:\n  source: 国务院办公厅通知（测试）\n  holidays: [2027-01-01, 2027-02-05..2027-02-11]\n"
        "  workdays: [2027-02-14]\n2028:\n  holidays: [2028-01-01]\n",
        encoding="utf-8",
    )
    store = tmp_path / "store" / "holidays.yaml"
    assert import_holidays(store, new) == [2027, 2028]
    assert import_holidays(store, new) == [2027, 2028]  # again: the same file, nothing duplicated
    years = read_holiday_file(store)
    assert len(years[2027].holidays) == 8 and years[2027].workdays == {date(2027, 2, 14)}
    policy = load_policy_for(SLASettings(holidays_file=store))
    assert not policy.calendar.is_working_day(date(2027, 2, 8))  # a Monday in the 春节 holiday
    assert policy.calendar.is_working_day(date(2027, 2, 14))  # a Sunday 调休 workday
    assert not policy.calendar.is_working_day(date(2026, 2, 16))  # 2026 still from the policy
    assert coverage_warning(policy.calendar, date(2027, 6, 1)) is None
    # a deadline that crosses the holiday skips it
    start = datetime(2027, 2, 4, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Shanghai
    assert policy.calendar.add(start, policy.calendar.day_length * 2).date() > date(2027, 2, 11)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2027:\n  holidays: [2027-13-01]\n", "is not a date"),
        ('2027:\n  holidays: ["2027-02-30"]\n', "is not a date"),
        ("2027:\n  holidays: [2027-02-11..2027-02-05]\n", "reversed or too long"),
        ("2027:\n  holidays: [2029-01-01]\n", "does not belong to 2027"),
        ("2027:\n  holidays: [2027-01-01]\n  workdays: [2027-01-01]\n", "both a holiday and a workday"),
        ("- 2027-01-01\n", "expected years as keys"),
    ],
)
def test_a_bad_holiday_file_is_refused_and_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    store = tmp_path / "store.yaml"
    with pytest.raises(HolidayFileError, match=message):
        import_holidays(store, bad)
    assert not store.exists()


def test_apply_years_replaces_whole_years() -> None:
    from gridbot.models.tickets.holidays import YearList

    calendar = load_policy().calendar
    replaced = apply_years(calendar, {2026: YearList(2026, frozenset({date(2026, 3, 3)}), frozenset(), "")})
    assert replaced.holidays == {date(2026, 3, 3)} and not replaced.workdays
