"""The rollup computation as it was before issue 19 (one query per day), kept to prove the one-pass
SQL in models/metrics/rollups.py gives the same rows (tests/integration/test_rollup_equivalence.py)
and to time it beside the new one (benchmarks/bench_rollups.py). Not used by the product.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from gridbot.models.entities import Grid, Message, Rating, Ticket
from gridbot.models.entities.rollup import COHORT_COUNTS
from gridbot.models.metrics import Period, Scope
from gridbot.models.metrics import queries as q
from gridbot.models.metrics.period import as_date, local_date
from gridbot.models.metrics.rollups import DAY_COLUMNS, GRID, day_start

Key = tuple[int, date]


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _grouped(session: Session, stmt: Select[Any], day_col: Any, into: dict[Key, dict[str, int]]) -> None:
    day = day_col.label("day")
    for row in session.execute(stmt.add_columns(day).group_by(day)).mappings():
        into[(row["grid_id"], as_date(row["day"]))].update(
            {k: int(v) for k, v in row.items() if k not in ("grid_id", "day")}
        )


def grid_days(session: Session, scope: Scope, first: date, last: date) -> list[tuple[Any, ...]]:
    """The grid rows of rollup_days for [first, last], computed day by day."""
    period = Period.local_days(first, last)
    values: dict[Key, dict[str, int]] = defaultdict(dict)
    _grouped(session, q.message_counts(scope, period), local_date(Message.sent_at), values)
    _grouped(session, q.rating_counts(scope, period), local_date(Rating.created_at), values)
    households = {
        g: n for g, n in session.execute(select(Grid.id, Grid.households).where(scope.grid_condition()))
    }
    for day in _days(first, last):
        end_of_day = Period.local_days(day, day)
        for stmt in (q.overdue_counts(scope, end_of_day), q.member_counts(scope, end_of_day)):
            for row in session.execute(stmt).mappings():
                values[(row["grid_id"], day)].update({k: int(v) for k, v in row.items() if k != "grid_id"})
        for grid_id, n in households.items():
            if n:
                values[(grid_id, day)]["households"] = n
    return [
        (GRID, g, d, *(v.get(c, 0) for c in DAY_COLUMNS))
        for (g, d), v in sorted(values.items())
        if g in households and any(v.values())
    ]


def cohorts(session: Session, scope: Scope, first: date, last: date, through: date) -> list[tuple[Any, ...]]:
    """The grid rows of rollup_cohorts for tickets created in [first, last], one query per done day."""
    rows: list[tuple[Any, ...]] = []
    previous: dict[Key, tuple[int, ...]] = {}
    for done in _days(first, through):
        stmt = q.ticket_counts(scope, Period.local_days(first, done)).where(
            Ticket.created_at < day_start(last + timedelta(days=1))
        )
        current: dict[Key, tuple[int, ...]] = {}
        day = local_date(Ticket.created_at).label("day")
        for row in session.execute(stmt.add_columns(day).group_by(day)).mappings():
            current[(row["grid_id"], as_date(row["day"]))] = tuple(int(row[c]) for c in COHORT_COUNTS)
        for (grid_id, created), counts in sorted(current.items()):
            before = previous.get((grid_id, created), (0,) * len(COHORT_COUNTS))
            delta = tuple(a - b for a, b in zip(counts, before, strict=True))
            if any(delta):
                rows.append((GRID, grid_id, created, done, *delta))
        previous = current
    return rows
