"""The dashboard's sign-in (token → cookie) and its data endpoints, over the hand-counted March
fixture of test_metrics_api (PostgreSQL)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gridbot.api.app import create_app
from gridbot.api.ratelimit import LocalRateLimiter
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.models.org.tokens import list_tokens, revoke_token
from tests.api import test_metrics_api as base
from tests.api.conftest import api_settings
from tests.api.test_metrics_api import MARCH, Fixture

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
fx, anyio_backend = base.fx, base.anyio_backend


@pytest.fixture
async def anon(
    pg_engine: Engine, pg_session_factory: sessionmaker[Session]
) -> AsyncIterator[tuple[httpx.AsyncClient, str, int, sessionmaker[Session]]]:
    """A client without credentials, the street admin's token, the street id and the sessions."""
    world, _ids, token = base.seed(pg_session_factory)
    app = create_app(
        api_settings(pg_engine), engine=pg_engine, coordinator=LocalCoordinator(), limiter=LocalRateLimiter()
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        yield client, token, world.street, pg_session_factory


async def test_sign_in_sets_a_strict_http_only_cookie_and_sign_out_ends_it(
    anon: tuple[httpx.AsyncClient, str, int, sessionmaker[Session]],
) -> None:
    client, token, street, sf = anon
    assert (await client.get("/auth/me")).status_code == 401
    bad = await client.post("/auth/login", json={"token": "gb_not-a-real-token"})
    assert bad.status_code == 401 and bad.json()["detail"] == "令牌无效或已过期"
    r = await client.post("/auth/login", json={"token": token})
    assert r.status_code == 200 and r.json()["name"] == "街道测试"
    header = r.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=strict" in header and "max-age=14400" in header
    assert token not in r.headers["set-cookie"]  # the cookie holds a session secret, not the token
    assert (await client.get("/auth/me")).status_code == 200
    r = await client.get("/metrics/report", params={"region": street, **MARCH})
    assert r.status_code == 200 and r.json()["total"]["received"] == 11
    # a cookie-authenticated write from another site is refused
    r = await client.post(
        "/tickets/1/reject", json={"reason": "x"}, headers={"Origin": "https://evil.example"}
    )
    assert r.status_code == 403
    await client.post("/auth/logout")
    assert (await client.get("/auth/me")).status_code == 401


async def test_revoking_the_token_ends_its_sessions(
    anon: tuple[httpx.AsyncClient, str, int, sessionmaker[Session]],
) -> None:
    client, token, _street, sf = anon
    await client.post("/auth/login", json={"token": token})
    assert (await client.get("/auth/me")).status_code == 200
    with sf.begin() as s:
        revoke_token(s, list_tokens(s)[0].id)
    assert (await client.get("/auth/me")).status_code == 401


async def test_ticket_list_filters_csv_and_detail(fx: Fixture) -> None:
    street = fx.world.street

    async def numbers(**params: object) -> int:
        r = await fx.client.get("/dashboard/api/tickets", params={"region": street, **params})
        assert r.status_code == 200, r.text
        return int(r.json()["total"])

    # the fixture's tickets in the street (tests/integration/test_metrics.py): 3 rejected (t7 u2 u4),
    # one reopened and closed (t3) plus v2 reopened in progress, nobody pressed (催办) on any
    assert await numbers(status="rejected") == 3
    assert await numbers(reopened="true") == 2
    assert await numbers(urged="true") == 0
    assert await numbers(priority="urgent") == 0
    assert await numbers(grid=fx.ids.other_grid) == 2
    assert await numbers(status="rejected", **MARCH) == 2  # u4 was filed in February
    r = await fx.client.get(
        "/dashboard/api/tickets", params={"region": street, "status": "rejected", "format": "csv"}
    )
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "工单号" and len(rows) == 4
    assert "attachment" in r.headers["content-disposition"]
    first = rows[1][0]
    d = (await fx.client.get(f"/dashboard/api/tickets/{first}")).json()
    assert d["status"] == "rejected" and isinstance(d["events"], list) and "ratings" in d
    assert (await fx.client.get("/dashboard/api/tickets/999999")).status_code == 404


async def test_dates_keys_and_scope_are_checked_in_chinese(fx: Fixture) -> None:
    r = await fx.client.get(
        "/dashboard/api/overview",
        params={"region": fx.world.street, "from": "2026-03-31", "to": "2026-03-01"},
    )
    assert r.status_code == 422 and "日期范围无效" in r.json()["detail"][0]["msg"]
    r = await fx.client.get("/dashboard/api/map", params={"region": fx.world.street, "key": "nope"})
    assert r.status_code == 422 and "未知指标" in r.json()["detail"][0]["msg"]
    assert (
        await fx.client.get("/dashboard/api/workers", params={"region": fx.world.city})
    ).status_code == 403


async def test_overview_overdue_workers_path_and_quality(fx: Fixture) -> None:
    street = fx.world.street
    ov = (await fx.client.get("/dashboard/api/overview", params={"region": street, **MARCH})).json()
    assert ov["categories"] == [{"category": "环境卫生", "count": 11}]  # every received ticket of March
    overdue = (await fx.client.get("/dashboard/api/overdue", params={"region": street})).json()
    assert overdue and all(t["overdue_s"] > 0 and "assignee" in t for t in overdue)
    assert [o["overdue_s"] for o in overdue] == sorted((o["overdue_s"] for o in overdue), reverse=True)
    path = (await fx.client.get("/dashboard/api/path", params={"grid": fx.ids.grid})).json()
    assert [p["name"] for p in path] == ["华侨路街道", "五台山社区", "五台山第一网格"]
    checks = {
        c["key"]: c for c in (await fx.client.get("/metrics/quality", params={"region": street})).json()
    }
    # G102 has no household count
    assert checks["no_households"]["problems"] == 1
    assert set(checks) == {
        "uncategorised",
        "no_first_response",
        "no_sla_clock",
        "no_households",
        "rollups_stale",
    }
    defs = (await fx.client.get("/metrics/definitions")).json()
    weights = {i["key"]: i["weight"] for i in defs["indicators"]}
    assert weights["solve_rate"] == 15 and defs["total_weight"] == 100
