"""What a metric is computed over: a half-open UTC period and a scope of grids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Date, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from gridbot.models.entities import Grid

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Period:
    """The half-open interval [start, end) in UTC; an instant equal to `end` belongs to the next period."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("Period bounds must be timezone-aware")
        if self.end < self.start:
            raise ValueError("Period end is before its start")
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        object.__setattr__(self, "end", self.end.astimezone(UTC))

    @classmethod
    def local_days(cls, first: date, last: date) -> Period:
        """Whole local (Asia/Shanghai) days from `first` to `last`, both included."""
        start = datetime.combine(first, time(), LOCAL_TZ)
        return cls(start, datetime.combine(last + timedelta(days=1), time(), LOCAL_TZ))

    @classmethod
    def local_month(cls, year: int, month: int) -> Period:
        """One local (Asia/Shanghai) calendar month, as monthly bulletins count it."""
        nxt = date(year + month // 12, month % 12 + 1, 1)
        return cls.local_days(date(year, month, 1), nxt - timedelta(days=1))

    def days(self) -> list[date]:
        """The local days this period touches, in order (the first and last may be partial)."""
        if self.end == self.start:
            return []
        first = self.start.astimezone(LOCAL_TZ).date()
        last = (self.end - timedelta(microseconds=1)).astimezone(LOCAL_TZ).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def contains(self, column: Any) -> ColumnElement[bool]:
        """SQL: start <= column < end."""
        cond: ColumnElement[bool] = (column >= self.start) & (column < self.end)
        return cond


@dataclass(frozen=True)
class Scope:
    """Which grids count: an explicit set of grid ids, or every grid under a region path prefix."""

    grid_ids: frozenset[int] | None = None
    region_path: str | None = None

    def __post_init__(self) -> None:
        if (self.grid_ids is None) == (self.region_path is None):
            raise ValueError("Scope needs exactly one of grid_ids or region_path")
        if self.region_path is not None and not self.region_path.endswith("/"):
            raise ValueError("region_path must end with '/' (e.g. '/1/4/9/')")

    @classmethod
    def grids(cls, *grid_ids: int) -> Scope:
        """These grids only."""
        return cls(grid_ids=frozenset(grid_ids))

    @classmethod
    def region(cls, path: str) -> Scope:
        """Every grid under a region (its materialised path: city, district, street or community)."""
        return cls(region_path=path)

    def grid_condition(self) -> ColumnElement[bool]:
        """SQL condition on `Grid` selecting the grids of this scope."""
        if self.grid_ids is not None:
            return Grid.id.in_(sorted(self.grid_ids))
        assert self.region_path is not None
        return Grid.region_path.startswith(self.region_path, autoescape=True)

    def contains(self, grid_id_column: Any) -> ColumnElement[bool]:
        """SQL condition: a row's grid id lies in this scope."""
        if self.grid_ids is not None:
            cond: ColumnElement[bool] = grid_id_column.in_(sorted(self.grid_ids))
            return cond
        cond = grid_id_column.in_(select(Grid.id).where(self.grid_condition()).scalar_subquery())
        return cond


class local_date(FunctionElement[date]):  # noqa: N801 - reads as the SQL function it stands for
    """SQL: the Asia/Shanghai calendar date of a UTC timestamp column."""

    type = Date()
    inherit_cache = True


@compiles(local_date, "postgresql")
def _local_date_pg(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'Asia/Shanghai' AS DATE)"


@compiles(local_date, "sqlite")
def _local_date_sqlite(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite stores naive UTC text; Asia/Shanghai has had a fixed +08:00 offset since 1991. The
    # fraction is cut first: SQLite rounds it to milliseconds, which moves 23:59:59.9995 to the next day.
    return f"date(substr({compiler.process(element.clauses, **kw)}, 1, 19), '+8 hours')"


def as_date(value: object) -> date:
    """A DB date value (a `date` on PostgreSQL, ISO text on SQLite) as a `date`."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))
