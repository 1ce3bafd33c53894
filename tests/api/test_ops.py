"""Operations endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gridbot.api.app import create_app
from gridbot.models.entities import BotState, utcnow
from gridbot.models.messaging import bot_status
from gridbot.models.migrate import downgrade
from gridbot.models.tickets.holidays import coverage_warning
from gridbot.models.tickets.sla import load_policy
from tests.api.conftest import Tokens, api_settings, open_client

pytestmark = pytest.mark.anyio


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok", "checks": {}, "warnings": []}
    r = await client.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"] == {"database": "ok"}


async def test_readyz_checks_redis_when_configured(make_app: Callable[..., FastAPI], redis_url: str) -> None:
    async for client in open_client(make_app(redis_url=redis_url)):
        r = await client.get("/readyz")
        assert r.status_code == 200 and r.json()["checks"] == {"database": "ok", "redis": "ok"}
    async for client in open_client(make_app(redis_url="redis://127.0.0.1:1/0")):
        r = await client.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["redis"] == "unreachable"


async def test_readyz_is_503_before_migrations_reach_head(sqlite_engine: Engine) -> None:
    downgrade(sqlite_engine, "0001")
    async for client in open_client(create_app(api_settings(sqlite_engine), engine=sqlite_engine)):
        r = await client.get("/readyz")
        assert r.status_code == 503
        assert r.json()["checks"]["database"].startswith("at revision 0001")


async def test_metrics(client: httpx.AsyncClient, tokens: Tokens) -> None:
    await client.get("/tickets", headers=tokens.city)
    await client.get("/tickets/424242", headers=tokens.city)
    text = (await client.get("/metrics")).text
    assert 'gridbot_api_requests_total{method="GET",route="/tickets",status="200"}' in text
    assert 'route="/tickets/{number}",status="404"' in text
    for name in (
        "gridbot_api_request_seconds_bucket",
        "gridbot_outbox_lag_seconds",
        "gridbot_outbox_pending",
        "gridbot_messages_processed_total",
        "gridbot_classification_seconds",
        "gridbot_sla_breaches_total",
        "gridbot_bot_connected",
    ):
        assert name in text, name


async def test_readyz_warns_of_a_qr_code_and_a_missing_holiday_year(
    client: httpx.AsyncClient, session_factory: sessionmaker[Session]
) -> None:
    with session_factory.begin() as session:
        bot_status.record(
            session,
            "wechaty",
            BotState.WAITING_SCAN,
            logged_in=False,
            last_message_at=None,
            last_error="waiting for the login QR code to be scanned",
            login_url="https://wechaty.js.org/qrcode/secret-login",
            now=utcnow(),
        )
    body = (await client.get("/readyz")).json()
    assert body["status"] == "ready"  # serving goes on; an operator is told
    assert "bot wechaty: bot_status=waiting_scan" in body["warnings"]
    assert "secret-login" not in str(body)  # the login link is for admins, /readyz has no token
    calendar = load_policy().calendar
    expected = coverage_warning(calendar, utcnow().astimezone(calendar.tz).date())
    assert (expected in body["warnings"]) if expected else not any("节假日" in w for w in body["warnings"])
