"""Holiday lists per year: which years the work calendar knows, and importing a new year's notice.

The State Council publishes next year's holidays and 调休 days each November. Until a year's list
is loaded, its 春节 would count as working days, so every entry point asks `coverage_warning`.
A holiday file (`GRIDBOT_SLA__HOLIDAYS_FILE`) adds or replaces whole years of the policy's calendar:

    2027:
      source: 国务院办公厅关于2027年部分节假日安排的通知 https://www.gov.cn/...
      holidays: [2027-01-01, 2027-02-05..2027-02-11]
      workdays: [2027-02-13]
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import yaml

from gridbot.models.tickets.calendar import WorkCalendar, expand_dates

_MAX_SPAN_DAYS = 40  # no official holiday runs longer: a longer range is a typo


class HolidayFileError(ValueError):
    """The holiday file is malformed; the message names the year and entry."""


def _parse_day(text: object, where: str) -> date:
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise HolidayFileError(f"{where}: {text!r} is not a date (YYYY-MM-DD)") from None


def _entries(items: object, year: int, where: str) -> frozenset[date]:
    if items is None:
        return frozenset()
    if not isinstance(items, list):
        raise HolidayFileError(f"{where}: expected a list of dates or 'first..last' ranges")
    spans: list[date | tuple[date, date]] = []
    for item in items:
        text = str(item)
        if ".." in text:
            first_s, last_s = text.split("..", 1)
            first, last = _parse_day(first_s, where), _parse_day(last_s, where)
            if last < first or (last - first).days > _MAX_SPAN_DAYS:
                raise HolidayFileError(f"{where}: range {text!r} is reversed or too long")
            spans.append((first, last))
        else:
            spans.append(_parse_day(text, where))
    days = expand_dates(spans)
    stray = sorted(d for d in days if abs(d.year - year) > 1)
    if stray:
        raise HolidayFileError(f"{where}: {stray[0]} does not belong to {year}")
    return days


@dataclasses.dataclass(frozen=True)
class YearList:
    """One year's holidays and make-up working days, with where they come from."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str


def read_holiday_file(path: Path) -> dict[int, YearList]:
    """Parse a holiday file (see the module docstring)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise HolidayFileError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise HolidayFileError(f"{path}: not valid YAML ({exc})") from None
    except ValueError as exc:  # YAML itself reads 2027-13-01 as a date and refuses it
        raise HolidayFileError(f"{path}: a date is not a date (YYYY-MM-DD): {exc}") from None
    if not isinstance(data, dict):
        raise HolidayFileError(f"{path}: expected years as keys (2027: {{holidays: [...], workdays: [...]}})")
    out: dict[int, YearList] = {}
    for key, body in data.items():
        if not (isinstance(key, int) and 2000 <= key <= 2100) or not isinstance(body, dict):
            raise HolidayFileError(f"{path}: {key!r} is not a year with holidays/workdays under it")
        holidays = _entries(body.get("holidays"), key, f"{path} {key} holidays")
        if not holidays:
            raise HolidayFileError(f"{path} {key}: no holidays listed")
        workdays = _entries(body.get("workdays"), key, f"{path} {key} workdays")
        if holidays & workdays:
            raise HolidayFileError(
                f"{path} {key}: {min(holidays & workdays)} is both a holiday and a workday"
            )
        out[key] = YearList(key, holidays, workdays, str(body.get("source") or ""))
    return out


def write_holiday_file(path: Path, years: dict[int, YearList]) -> None:
    """Store year lists (one date per line: easy to review in a diff)."""
    data = {
        y: {
            "source": v.source,
            "holidays": [d.isoformat() for d in sorted(v.holidays)],
            "workdays": [d.isoformat() for d in sorted(v.workdays)],
        }
        for y, v in sorted(years.items())
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=True), encoding="utf-8")
    tmp.replace(path)  # atomic: a running bot never reads half a file


def import_holidays(store: Path, new: Path) -> list[int]:
    """Merge the years of `new` into the holiday file `store` (whole years replaced); the years imported."""
    incoming = read_holiday_file(new)
    if not incoming:
        raise HolidayFileError(f"{new}: no years in the file")
    current = read_holiday_file(store) if store.exists() else {}
    current.update(incoming)
    write_holiday_file(store, current)
    return sorted(incoming)


def apply_years(calendar: WorkCalendar, years: dict[int, YearList]) -> WorkCalendar:
    """The calendar with the listed years replaced by the holiday file's."""
    if not years:
        return calendar
    holidays = {d for d in calendar.holidays if d.year not in years}
    workdays = {d for d in calendar.workdays if d.year not in years}
    for y in years.values():
        holidays |= y.holidays
        workdays |= y.workdays
    return dataclasses.replace(calendar, holidays=frozenset(holidays), workdays=frozenset(workdays))


def covered_years(calendar: WorkCalendar) -> set[int]:
    """Years for which the calendar has a holiday list (any holiday in that year)."""
    return {d.year for d in calendar.holidays}


def missing_years(calendar: WorkCalendar, today: date) -> list[int]:
    """This year and next year, whichever has no holiday list."""
    have = covered_years(calendar)
    return [y for y in (today.year, today.year + 1) if y not in have]


def coverage_warning(calendar: WorkCalendar, today: date) -> str | None:
    """A loud Chinese warning when this year or next year has no holiday list, else None."""
    missing = missing_years(calendar, today)
    if not missing:
        return None
    years = "、".join(f"{y}年" for y in missing)
    now = today.year in missing
    effect = "节假日（如春节）正被当作工作日计算时限" if now else "到时节假日（如春节）将被当作工作日计算时限"
    return (
        f"节假日日历缺少{years}的放假安排：{effect}。"
        "请在国务院办公厅发布通知后运行 gridbot calendar import 文件.yaml（格式见 docs/zh/管理员手册.md）"
    )
