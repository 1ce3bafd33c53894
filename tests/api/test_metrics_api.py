"""Every metric and the assessment score through HTTP, against the hand-computed March fixture, on PostgreSQL.

The world and its hand counts are those of tests/integration/test_metrics.py (G001, G002 in
五台山社区; G101, G102 in 龙仓巷社区; street = all four). The API reads them from the rollups.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gridbot.api.app import create_app
from gridbot.api.ratelimit import LocalRateLimiter
from gridbot.models.entities import Region
from gridbot.models.enums import Role
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.models.metrics.rollups import refresh_rollups
from gridbot.models.org.tokens import create_token
from tests.api.conftest import api_settings
from tests.conftest import World, build_world
from tests.integration.test_metrics import G001, STREET, Ids, build_metrics_world

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


@dataclass
class Fixture:
    client: httpx.AsyncClient
    world: World
    ids: Ids


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def seed(sf: sessionmaker[Session]) -> tuple[World, Ids, str]:
    """The hand-counted world, its rollups, and a street admin's token."""
    with sf.begin() as s:
        world = build_world(s)
        ids = build_metrics_world(s, world)
    with sf.begin() as s:
        refresh_rollups(s, date(2026, 2, 1), date(2026, 4, 30), through=date(2026, 4, 30))
        street = s.get(Region, world.street)
        assert street
        _, token = create_token(s, role=Role.STREET_ADMIN, region=street, name="街道测试")
    return world, ids, token


@pytest.fixture
async def fx(pg_engine: Engine, pg_session_factory: sessionmaker[Session]) -> AsyncIterator[Fixture]:
    world, ids, token = seed(pg_session_factory)
    app = create_app(
        api_settings(pg_engine), engine=pg_engine, coordinator=LocalCoordinator(), limiter=LocalRateLimiter()
    )
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", headers=headers
        ) as client,
    ):
        yield Fixture(client, world, ids)


def _subset(row: dict[str, object], expected: dict[str, object]) -> None:
    keys = [k for k in expected if k != "active_residents"]  # not summable: see docs/metrics-api.md
    assert {k: row[k] for k in keys} == pytest.approx({k: expected[k] for k in keys})


async def test_street_and_grid_metrics_match_the_hand_count(fx: Fixture) -> None:
    r = await fx.client.get("/metrics/report", params={"region": fx.world.street, **MARCH, "limit": 10})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["percentiles"] == "exact" and body["days"] == 31 and body["grid_count"] == 4
    _subset(body["total"], STREET)
    # person-days: G001 resident 1, 2, 3 March and resident2 31 March; G002 4, 5 March; G101 4 March
    assert body["total"]["active_resident_days"] == 7
    assert [c["node"]["name"] for c in body["children"]] == ["五台山社区", "龙仓巷社区"]
    g001 = next(g for g in body["grids"] if g["node"]["code"] == "G001")
    _subset(g001, G001)
    r = await fx.client.get("/metrics/report", params={"grid": fx.ids.grid, **MARCH})
    _subset(r.json()["total"], G001)


async def test_assessment_score_matches_the_hand_computation(fx: Fixture) -> None:
    body = (await fx.client.get("/metrics/report", params={"region": fx.world.street, **MARCH})).json()
    parts = {p["key"]: p for p in body["assessment"]["parts"]}
    # 首次响应及时率 7/11 = 0.6364: 25 × (0.6364 − 0.5) / (0.95 − 0.5) = 7.58
    assert parts["first_response_on_time_rate"]["points"] == pytest.approx(7.58)
    # 按期办结率 2/11 = 0.18, below the floor 0.5: 0
    assert parts["on_time_resolution_rate"]["points"] == 0
    # 满意率 4/6: 25 × (0.6667 − 0.6) / (0.95 − 0.6) = 4.76
    assert parts["satisfaction_rate"]["points"] == pytest.approx(4.76)
    # 入群率 350/750 = 0.4667: 15 × (0.4667 − 0.2) / (0.8 − 0.2) = 6.67
    assert parts["membership_rate"]["points"] == pytest.approx(6.67)
    # activity 7 person-days / 31 days / 750 households × 100 = 0.0301: 10 × 0.0301 / 2 = 0.15
    assert parts["active_residents_per_100_households"]["points"] == pytest.approx(0.15)
    # 7.5758 + 0 + 4.7619 + 6.6667 + 0.1505 = 19.1549 of 100 weights
    assert body["assessment"]["score"] == pytest.approx(19.15)
    assert body["total"]["score"] == body["assessment"]["score"]


async def test_ranking_series_and_overdue(fx: Fixture) -> None:
    r = await fx.client.get(
        "/metrics/ranking", params={"region": fx.world.street, "key": "resolution_rate", **MARCH}
    )
    ranks = [(row["rank"], row["node"]["code"]) for row in r.json()["rows"]]
    # G002 and G101 tie at 1/2, G001 3/7, G102 received nothing
    assert ranks == [(1, "G002"), (1, "G101"), (3, "G001"), (None, "G102")]
    r = await fx.client.get(
        "/metrics/ranking", params={"region": fx.world.street, "key": "received", "of": "children", **MARCH}
    )
    assert [(row["node"]["name"], row["value"]) for row in r.json()["rows"]] == [
        ("五台山社区", 9),
        ("龙仓巷社区", 2),
    ]
    r = await fx.client.get(
        "/metrics/series", params={"grid": fx.ids.grid, "from": "2026-03-01", "to": "2026-03-03"}
    )
    days = [
        (
            d["resident_messages"],
            d["worker_messages"],
            d["received"],
            d["rejected"],
            d["resolved"],
            d["rated"],
        )
        for d in r.json()["days"]
    ]
    assert days == [
        (1, 2, 5, 1, 0, 0),
        (1, 0, 0, 0, 1, 1),
        (1, 1, 0, 0, 2, 2),
    ]  # as test_daily_series_by_local_day
    r = await fx.client.get("/metrics/overdue", params={"region": fx.world.street})
    assert r.status_code == 200 and all("text" not in t for t in r.json())


async def test_bad_parameters_and_scope(fx: Fixture) -> None:
    bad = [
        {"region": fx.world.street, "from": "2026-03-31", "to": "2026-03-01"},
        {"region": fx.world.street, "from": "2024-01-01", "to": "2026-03-01"},
        {"region": "x y"},  # not a code nor an id
    ]
    for params in bad:
        assert (await fx.client.get("/metrics/report", params=params)).status_code == 422
    r = await fx.client.get("/metrics/ranking", params={"region": fx.world.street, "key": "grid_name"})
    assert r.status_code == 422
    assert (await fx.client.get("/metrics/report", params={"region": 999_999})).status_code == 404
    r = await fx.client.get("/metrics/report", params={"region": fx.world.city})
    assert r.status_code == 403  # a street admin does not see the city
    assert (await fx.client.get("/metrics/report", headers={"Authorization": ""})).status_code == 401
