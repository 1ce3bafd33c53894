"""Incrementally maintained daily rollups of the metrics, per grid and per region.

The rollups hold, per local (Asia/Shanghai) day, exactly what models.metrics counts: the same
`queries` statements grouped by day as well as by grid. Ticket cohorts are stored as increments
(`RollupCohort`): for each done day m, the counts of `ticket_counts` with the period end at the
end of m, minus those at the end of m - 1. A whole-day period [a, b] then sums created_day in
[a, b] and done_day <= b, which is the "as of the period end" rule without rescanning tickets.

Keeping them current (the caller owns the transaction):
  * `refresh_changed(session, since, now)` every few minutes (the bot's or sweeper's loop, or
    `gridbot rollup changed --minutes 10` from cron): today for every grid, plus each grid whose
    tickets, ratings, messages or member snapshots changed since `since`, from the earliest day
    the change touches up to today;
  * `refresh_rollups(session, first, last)` for a backfill (`gridbot rollup refresh --from --to`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from gridbot.models.entities import (
    ChatGroup,
    Grid,
    MemberSnapshot,
    Message,
    Rating,
    Region,
    Ticket,
    TicketEvent,
    utcnow,
)
from gridbot.models.entities.rollup import COHORT_COUNTS, DAY_FLOWS, DAY_STOCKS, RollupCohort, RollupDay
from gridbot.models.enums import RegionLevel
from gridbot.models.metrics import LOCAL_TZ, Scope
from gridbot.models.metrics.period import as_date
from gridbot.models.metrics.rollup_sql import analyze_if_many, insert_cohorts, insert_grid_days, tuned

GRID = "grid"
UP_LEVELS = (RegionLevel.COMMUNITY, RegionLevel.STREET, RegionLevel.DISTRICT, RegionLevel.CITY)
DAY_COLUMNS = DAY_FLOWS + DAY_STOCKS
Key = tuple[int, date]


def day_start(day: date) -> datetime:
    """The instant a local day begins (UTC-aware)."""
    return datetime.combine(day, time(), LOCAL_TZ)


def local_today(now: datetime | None = None) -> date:
    """Today's local date."""
    return (now or utcnow()).astimezone(LOCAL_TZ).date()


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@dataclass(frozen=True)
class RefreshStats:
    """What a refresh rewrote."""

    grids: int
    days: int
    day_rows: int
    cohort_rows: int


def _ancestors(session: Session, grid_ids: Collection[int]) -> dict[RegionLevel, set[int]]:
    """Region ids, per level, above the given grids."""
    found: dict[RegionLevel, set[int]] = defaultdict(set)
    ids = set(session.scalars(select(Grid.community_id).where(Grid.id.in_(sorted(grid_ids)))))
    while ids:
        parents: set[int] = set()
        for rid, level, parent in session.execute(
            select(Region.id, Region.level, Region.parent_id).where(Region.id.in_(sorted(ids)))
        ):
            found[level].add(rid)
            if parent is not None:
                parents.add(parent)
        ids = parents
    return found


def _aggregate_up(
    session: Session, first: date, last: date, only: dict[RegionLevel, set[int]] | None
) -> None:
    """Rewrite the region rows of [first, last] as sums of the level below (grids → communities → …)."""
    for table, day_col, key_cols, counts in (
        (RollupDay, RollupDay.day, (RollupDay.day,), DAY_COLUMNS),
        (
            RollupCohort,
            RollupCohort.created_day,
            (RollupCohort.created_day, RollupCohort.done_day),
            COHORT_COUNTS,
        ),
    ):
        below = GRID
        for level in UP_LEVELS:
            gone = delete(table).where(table.level == level.value, day_col.between(first, last))
            if only is not None:
                gone = gone.where(table.node_id.in_(sorted(only.get(level, set()))))
            session.execute(gone)
            if below == GRID:
                parent_col: Any = Grid.community_id
                join_on: tuple[Any, Any] = (Grid, Grid.id == table.node_id)
            else:
                parent_col = Region.parent_id
                join_on = (Region, Region.id == table.node_id)
            sums = [func.sum(getattr(table, c)) for c in counts]
            stmt = (
                select(literal(level.value), parent_col, *key_cols, *sums)
                .select_from(table)
                .join(*join_on)
                .where(table.level == below, day_col.between(first, last))
                .group_by(parent_col, *key_cols)
            )
            if only is not None:
                stmt = stmt.where(parent_col.in_(sorted(only.get(level, set()))))
            names = ["level", "node_id", *(c.key for c in key_cols), *counts]
            session.execute(insert(table).from_select(names, stmt))
            below = level.value


def refresh_rollups(
    session: Session,
    first: date,
    last: date | None = None,
    *,
    grid_ids: Collection[int] | None = None,
    through: date | None = None,
) -> RefreshStats:
    """Recompute the local days [first, last] (and the cohorts created then, up to `through`, default today)."""
    last = last or first
    through = max(last, through or local_today())
    scope = Scope.grids(*grid_ids) if grid_ids is not None else Scope.region("/")
    with tuned(session):
        for table, col in ((RollupDay, RollupDay.day), (RollupCohort, RollupCohort.created_day)):
            stmt = delete(table).where(table.level == GRID, col.between(first, last))
            if grid_ids is not None:
                stmt = stmt.where(table.node_id.in_(sorted(grid_ids)))
            session.execute(stmt)
        day_rows = insert_grid_days(session, scope, first, last)
        cohort_rows = insert_cohorts(session, scope, first, last, through)
        tables = (RollupDay.__table__, RollupCohort.__table__)
        analyze_if_many(session, day_rows + cohort_rows, *(t for t in tables if isinstance(t, Table)))
        _aggregate_up(session, first, last, _ancestors(session, grid_ids) if grid_ids is not None else None)
    n_grids = len(grid_ids) if grid_ids is not None else int(session.scalar(select(func.count(Grid.id))) or 0)
    return RefreshStats(n_grids, (last - first).days + 1, day_rows, cohort_rows)


def _earliest(session: Session, stmt: Any, into: dict[int, datetime]) -> None:
    for grid_id, at in session.execute(stmt):
        if grid_id is not None and at is not None and (grid_id not in into or at < into[grid_id]):
            into[grid_id] = at


def refresh_changed(session: Session, since: datetime, now: datetime | None = None) -> list[RefreshStats]:
    """Bring the rollups up to date after changes recorded at or after `since` (see the module docstring)."""
    today = local_today(now)
    earliest: dict[int, datetime] = {}
    _earliest(
        session,
        select(Ticket.grid_id, func.min(Ticket.created_at))
        .where(Ticket.updated_at >= since)
        .group_by(Ticket.grid_id),
        earliest,
    )
    touched = select(Ticket.id).where(
        Ticket.id.in_(select(Rating.ticket_id).where(Rating.created_at >= since))
        | Ticket.id.in_(select(TicketEvent.ticket_id).where(TicketEvent.at >= since))
    )
    _earliest(
        session,
        select(Ticket.grid_id, func.min(Ticket.created_at))
        .where(Ticket.id.in_(touched))
        .group_by(Ticket.grid_id),
        earliest,
    )
    _earliest(
        session,
        select(Message.grid_id, func.min(Message.sent_at))
        .where(Message.received_at >= since)
        .group_by(Message.grid_id),
        earliest,
    )
    _earliest(
        session,
        select(ChatGroup.grid_id, func.min(MemberSnapshot.taken_at))
        .join(ChatGroup, ChatGroup.id == MemberSnapshot.group_id)
        .where(MemberSnapshot.taken_at >= since)
        .group_by(ChatGroup.grid_id),
        earliest,
    )
    stats = [refresh_rollups(session, today, through=today)]
    by_day: dict[date, list[int]] = defaultdict(list)
    for grid_id, at in earliest.items():
        first = at.astimezone(LOCAL_TZ).date()
        if first < today:
            by_day[first].append(grid_id)
    for first, grids in sorted(by_day.items()):
        stats.append(refresh_rollups(session, first, today, grid_ids=grids, through=today))
    return stats


def rollup_days_present(session: Session) -> tuple[date, date] | None:
    """The first and last local day the rollups cover (None when empty)."""
    lo, hi = session.execute(
        select(func.min(RollupDay.day), func.max(RollupDay.day)).where(RollupDay.level == GRID)
    ).one()
    return (as_date(lo), as_date(hi)) if lo is not None else None


def all_levels() -> Iterable[str]:
    """The node levels the rollups hold, finest first."""
    return (GRID, *(lv.value for lv in UP_LEVELS))
