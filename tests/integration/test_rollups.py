"""The rollups give exactly what models.metrics computes directly, for grids, communities and streets.

Same hand-counted world as test_metrics.py (its expected values are checked there); here every
summable figure read from the rollups must equal `scope_metrics` for the same whole-day period.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.entities import Grid, Region, RollupDay, Ticket
from gridbot.models.enums import TicketStatus
from gridbot.models.metrics import GridMetrics, Period, Scope, daily_series, scope_metrics
from gridbot.models.metrics.rollup_read import grid_node, region_node, reports, with_percentiles
from gridbot.models.metrics.rollups import refresh_changed, refresh_rollups
from tests.conftest import World
from tests.integration.test_metrics import END, Ids, build_metrics_world

pytestmark = pytest.mark.integration
FIRST, LAST = date(2026, 2, 1), date(2026, 5, 31)  # the fixture's data lies in Feb–April
SUMMED = [f.name for f in fields(GridMetrics) if f.name not in {"grid_id", "grid_code", "grid_name"}]
PERIODS = [
    (date(2026, 3, 1), date(2026, 3, 31)),
    (date(2026, 3, 2), date(2026, 3, 10)),
    (date(2026, 3, 1), date(2026, 3, 1)),
    (date(2026, 4, 1), date(2026, 4, 30)),
    (date(2026, 2, 20), date(2026, 5, 31)),
]


@pytest.fixture
def ids(session_factory: sessionmaker[Session], world: World) -> Ids:
    with session_factory.begin() as s:
        built = build_metrics_world(s, world)
    with session_factory.begin() as s:
        refresh_rollups(s, FIRST, LAST, through=LAST)
    return built


def _same(rolled: GridMetrics, direct: GridMetrics) -> None:
    skip = {"active_residents", "first_response_median_s", "first_response_p90_s"}
    got = {k: getattr(rolled, k) for k in SUMMED if k not in skip}
    assert got == {k: getattr(direct, k) for k in got}


@pytest.mark.parametrize(("first", "last"), PERIODS)
def test_rollups_equal_the_direct_computation(
    session_factory: sessionmaker[Session], ids: Ids, first: date, last: date
) -> None:
    period = Period.local_days(first, last)
    with session_factory() as s:
        street = s.get(Region, s.scalar(select(Region.id).where(Region.path == ids.street_path)))
        community = s.scalar(select(Region).where(Region.path == ids.community_path))
        assert street and community
        for node, scope in (
            (region_node(street), Scope.region(street.path)),
            (region_node(community), Scope.region(community.path)),
        ):
            [rolled] = reports(s, [node], first, last)
            direct = scope_metrics(s, scope, period)
            _same(rolled.metrics, direct.total)
            assert with_percentiles(s, node, items := [rolled], first, last)
            assert items[0].metrics.first_response_median_s == direct.total.first_response_median_s
            assert items[0].metrics.first_response_p90_s == direct.total.first_response_p90_s
        grids = [grid_node(g) for g in s.scalars(select(Grid).order_by(Grid.id))]
        direct_grids = scope_metrics(s, Scope.region(street.path), period)
        for rolled in reports(s, grids, first, last):
            _same(rolled.metrics, direct_grids.by_grid(rolled.node.id))


def test_daily_active_residents_and_series_match(session_factory: sessionmaker[Session], ids: Ids) -> None:
    with session_factory() as s:
        days = daily_series(s, Scope.grids(ids.grid), Period.local_days(date(2026, 3, 1), date(2026, 3, 31)))
        rows = {
            r.day: r
            for r in s.scalars(
                select(RollupDay).where(RollupDay.level == "grid", RollupDay.node_id == ids.grid)
            )
        }
    for day in days:
        row = rows.get(day.day)
        got = (
            (row.resident_messages, row.worker_messages, row.active_residents, row.rated, row.satisfied)
            if row
            else (0,) * 5
        )
        assert got == (
            day.resident_messages,
            day.worker_messages,
            day.active_residents,
            day.rated,
            day.satisfied,
        )


def test_refresh_changed_follows_a_resolution(session_factory: sessionmaker[Session], ids: Ids) -> None:
    # t4 (created 1 March, unresolved, overdue) is resolved on 20 April: March stays as it was
    # (resolved after March's end), April's overdue count drops, and the cohort gains a resolution.
    when = END + timedelta(days=19)
    with session_factory.begin() as s:
        t4 = s.scalars(
            select(Ticket).where(
                Ticket.grid_id == ids.grid,
                Ticket.escalation_level == 1,
                Ticket.status == TicketStatus.IN_PROGRESS,
            )
        ).one()
        t4.status, t4.resolved_at, t4.updated_at = TicketStatus.RESOLVED, when, when
    with session_factory.begin() as s:
        refresh_changed(s, since=when, now=when)
    for first, last in ((date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 2, 20), date(2026, 4, 20))):
        with session_factory() as s:
            [rolled] = reports(s, [grid_node(s.get(Grid, ids.grid))], first, last)  # type: ignore[arg-type]
            direct = scope_metrics(s, Scope.grids(ids.grid), Period.local_days(first, last)).total
        _same(rolled.metrics, direct)
