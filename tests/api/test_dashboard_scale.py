"""The city-scale read paths give the same answers as the full computations, and the cache never serves stale rollups.

The hand-counted March world of tests/integration/test_metrics.py, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.entities import Region
from gridbot.models.metrics import Period, Scope, views
from gridbot.models.metrics.assessment import load_method
from gridbot.models.metrics.quality import _live_counts
from gridbot.models.metrics.queries import scope_metrics
from gridbot.models.metrics.rollup_read import generation, grid_reports, grids_under, region_node, reports
from gridbot.models.metrics.rollups import refresh_rollups
from gridbot.models.tickets.sla import SLAPolicy
from tests.api.conftest import Tokens, file_ticket
from tests.conftest import World
from tests.integration.test_metrics import build_metrics_world

pytestmark = pytest.mark.anyio
MARCH = (date(2026, 3, 1), date(2026, 3, 31))


@pytest.fixture
def march(world: World, session_factory: sessionmaker[Session]) -> World:
    with session_factory.begin() as s:
        build_metrics_world(s, world)
    with session_factory.begin() as s:
        refresh_rollups(s, date(2026, 2, 1), date(2026, 4, 30), through=date(2026, 4, 30))
    return world


def test_fast_paths_equal_the_full_computations(march: World, session_factory: sessionmaker[Session]) -> None:
    method = load_method(None, known=views.INDICATOR_KEYS)
    with session_factory() as s:
        region = s.get(Region, march.street)
        assert region is not None
        node = region_node(region)
        # grid reports read through a subquery = the same grids listed as ids
        by_subquery = grid_reports(s, node, *MARCH)
        by_list = reports(s, grids_under(s, node), *MARCH)
        assert by_subquery == by_list and len(by_list) == 4
        assert any(r.metrics.received for r in by_list)
        # the ranking's score alone = the full assessment's score, for every grid
        ranked = views.ranking(s, node, "score", *MARCH, method)
        for _, r, value in ranked:
            assert value == (views.assess(r, method).score if r.metrics.has_cases else None)
        assert [v for _, _, v in ranked if v is not None]
        # the quality check's live counts = the full per-grid report's totals
        period = Period.local_days(*MARCH)
        live = _live_counts(s, Scope.region(node.path), period)
        full = scope_metrics(s, Scope.region(node.path), period).total
        assert live == {k: getattr(full, k) for k in ("received", "responded", "resolved", "rated")}
        assert live["received"] == 11


async def test_cached_figures_change_when_the_rollups_do(
    client: httpx.AsyncClient,
    tokens: Tokens,
    world: World,
    session_factory: sessionmaker[Session],
    policy: SLAPolicy,
) -> None:
    day = date(2026, 3, 10)
    span = {"from": str(day), "to": str(day)}
    with session_factory.begin() as s:
        refresh_rollups(s, day, day, through=day)
        before_generation = generation(s)

    async def received() -> tuple[int, int | None]:
        report = await client.get("/metrics/report", params=span, headers=tokens.community)
        ranking = await client.get(
            "/metrics/ranking", params={**span, "key": "received"}, headers=tokens.community
        )
        assert report.status_code == 200 and ranking.status_code == 200, report.text + ranking.text
        [g001] = [r for r in ranking.json()["rows"] if r["node"]["code"] == "G001"]
        return report.json()["total"]["received"], g001["value"]

    assert await received() == (0, 0)
    assert await received() == (0, 0)  # served from the cache
    with session_factory.begin() as s:
        at = Period.local_days(day, day).start + timedelta(hours=10)
        file_ticket(s, policy, world.grid, world.resident, "路灯坏了", now=at)
    assert await received() == (0, 0)  # the rollups do not have it yet, so neither does the API
    with session_factory.begin() as s:
        refresh_rollups(s, day, day, through=day)
        assert generation(s) > before_generation
    assert await received() == (1, 1)
