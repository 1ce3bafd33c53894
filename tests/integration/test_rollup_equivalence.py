"""The one-pass rollup SQL writes exactly the rows the per-day implementation it replaced wrote.

The old code is kept in tests/rollups_reference.py; both run over the same seeded data (the
hand-counted metrics world, and `gridbot seed-demo`'s synthetic city at a small scale with more
tickets a day) on SQLite and PostgreSQL, and every grid row of rollup_days and rollup_cohorts must
match, value for value.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.entities import RollupCohort, RollupDay
from gridbot.models.entities.rollup import COHORT_COUNTS
from gridbot.models.metrics import Scope, rollup_sql
from gridbot.models.metrics.period import as_date
from gridbot.models.metrics.rollups import DAY_COLUMNS, GRID, local_today, refresh_rollups
from gridbot.seed import SeedShape, seed_demo
from tests import rollups_reference as old
from tests.conftest import World
from tests.integration.test_metrics import build_metrics_world

pytestmark = pytest.mark.integration


def stored(s: Session, first: date, last: date) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """The grid rows the new code wrote for [first, last], as the reference returns them."""
    days = s.execute(
        select(
            RollupDay.level, RollupDay.node_id, RollupDay.day, *(getattr(RollupDay, c) for c in DAY_COLUMNS)
        ).where(RollupDay.level == GRID, RollupDay.day.between(first, last))
    ).all()
    cohorts = s.execute(
        select(
            RollupCohort.level,
            RollupCohort.node_id,
            RollupCohort.created_day,
            RollupCohort.done_day,
            *(getattr(RollupCohort, c) for c in COHORT_COUNTS),
        ).where(RollupCohort.level == GRID, RollupCohort.created_day.between(first, last))
    ).all()
    return (
        {(r[0], r[1], as_date(r[2]), *r[3:]) for r in days},
        {(r[0], r[1], as_date(r[2]), as_date(r[3]), *r[4:]) for r in cohorts},
    )


def compare(sf: sessionmaker[Session], first: date, last: date, through: date) -> int:
    """Run both implementations over [first, last]; assert equal rows; return how many rows."""
    scope = Scope.region("/")
    with sf() as s:
        want_days = set(old.grid_days(s, scope, first, last))
        want_cohorts = set(old.cohorts(s, scope, first, last, through))
    with sf.begin() as s:
        stats = refresh_rollups(s, first, last, through=through)
    with sf() as s:
        got_days, got_cohorts = stored(s, first, last)
    assert got_days == want_days
    assert got_cohorts == want_cohorts
    assert (stats.day_rows, stats.cohort_rows) == (len(want_days), len(want_cohorts))
    return len(want_days) + len(want_cohorts)


@pytest.mark.parametrize(
    ("first", "last", "through"),
    [
        (date(2026, 2, 1), date(2026, 5, 31), date(2026, 5, 31)),
        (date(2026, 3, 2), date(2026, 3, 10), date(2026, 4, 15)),  # a part, done days running on
        (date(2026, 3, 15), date(2026, 3, 15), date(2026, 3, 15)),
    ],
)
def test_same_rows_on_the_hand_counted_world(
    session_factory: sessionmaker[Session], world: World, first: date, last: date, through: date
) -> None:
    with session_factory.begin() as s:
        build_metrics_world(s, world)
    assert compare(session_factory, first, last, through) > 0


def test_same_rows_on_a_seeded_city(session_factory: sessionmaker[Session]) -> None:
    shape = replace(SeedShape.scaled(12, 40), tickets=3.0)
    with session_factory.begin() as s:
        seed_demo(s, shape)
    today = local_today()
    assert compare(session_factory, today - timedelta(days=39), today, today) > 500
    # a refresh of the last week only (what the incremental refresh does), done days up to today
    assert compare(session_factory, today - timedelta(days=6), today, today) > 50


def test_same_rows_when_the_region_sums_run_on_fresh_statistics(
    pg_session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backfill large enough to ANALYZE the rollup tables mid-transaction writes the same rows,
    and leaves the caller's transaction with its own settings (the refresh turns JIT off)."""
    monkeypatch.setattr(rollup_sql, "ANALYZE_AFTER", 1)  # every refresh counts as a large one here
    with pg_session_factory.begin() as s:
        seed_demo(s, replace(SeedShape.scaled(6, 20), tickets=3.0))
    today = local_today()
    with pg_session_factory.begin() as s:
        s.execute(text("SET LOCAL jit = on"))
        refresh_rollups(s, today - timedelta(days=19), today)
        assert s.scalar(text("SELECT current_setting('jit')")) == "on"
    assert compare(pg_session_factory, today - timedelta(days=19), today, today) > 100
