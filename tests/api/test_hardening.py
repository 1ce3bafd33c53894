"""Bounded input and exposure: body limit before authentication, crafted cursors and dates, security
headers, bounded texts, stored masked text served as is, and the audited unmask role."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.api.guards import CSP
from gridbot.api.present import MAX_TEXT_OUT, TRUNCATED
from gridbot.models.entities import ApiToken, Message, TicketEvent
from gridbot.models.enums import MessageDirection, Role
from tests.api.conftest import PHONE, Seeded, Tokens, bearer, new_token, open_client
from tests.conftest import World

pytestmark = pytest.mark.anyio


async def test_a_huge_unauthenticated_body_is_413_before_it_is_read(client: httpx.AsyncClient) -> None:
    received = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal received
        for _ in range(250):  # 250 MB declared; the app must stop before pulling it
            received += 1
            yield b" " * 1024 * 1024

    r = await client.post(
        "/tickets/1/resolve", content=body(), headers={"Content-Length": str(250 * 1024 * 1024)}
    )
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"
    assert received <= 1  # ASGITransport reads at most the first chunk before the app answers


async def test_a_chunked_body_over_the_limit_is_413_too(client: httpx.AsyncClient, tokens: Tokens) -> None:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b'{"note": "' + b"x" * 600_000

    r = await client.post("/tickets/1/resolve", content=body(), headers=tokens.community)
    assert r.status_code == 413


async def test_a_small_body_passes_the_limit(
    client: httpx.AsyncClient, tokens: Tokens, seeded: Seeded
) -> None:
    r = await client.post(
        f"/tickets/{seeded.mine}/resolve", json={"note": "已处理"}, headers=tokens.community
    )
    assert r.status_code == 200, r.text


def _cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor(["0001-01-01T00:00:00", 1]),
        _cursor(["9999-12-31T23:59:59-12:00", 1]),
        _cursor(["2026-03-10T01:00:00", 1]),  # naive
        _cursor(["2026-03-10T01:00:00+00:00", True]),
        _cursor(["2026-03-10T01:00:00+00:00", 2**40]),
        base64.urlsafe_b64encode(b"[" * 150 + b"]" * 150).decode().rstrip("="),
        _cursor({"a": 1}),
    ],
)
async def test_crafted_cursors_are_422(client: httpx.AsyncClient, tokens: Tokens, cursor: str) -> None:
    for path in ("/tickets", "/messages"):
        r = await client.get(path, params={"cursor": cursor}, headers=tokens.city)
        assert r.status_code == 422, (path, r.text)


@pytest.mark.parametrize("query", ["to=9999-12-31", "from=0001-01-01", "to=2101-01-01", "from=1999-12-31"])
async def test_out_of_range_dates_are_422(client: httpx.AsyncClient, tokens: Tokens, query: str) -> None:
    for path in ("/metrics/report", "/metrics/series", "/metrics/ranking"):
        r = await client.get(f"{path}?{query}", headers=tokens.city)
        assert r.status_code == 422, (path, r.status_code, r.text[:200])


async def test_security_headers(client: httpx.AsyncClient, tokens: Tokens) -> None:
    for path, headers in (("/tickets", tokens.city), ("/dashboard", {}), ("/healthz", {}), ("/tickets", {})):
        r = await client.get(path, headers=headers)
        assert r.headers["content-security-policy"] == CSP
        assert "frame-ancestors 'none'" in CSP and r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["cache-control"] == "no-store", path
    asset = await client.get("/dashboard/assets/dashboard.js")
    assert asset.status_code == 200 and asset.headers.get("cache-control") != "no-store"


async def test_long_texts_are_bounded_and_stored_masks_served(
    client: httpx.AsyncClient, tokens: Tokens, world: World, session_factory: sessionmaker[Session]
) -> None:
    with session_factory.begin() as session:
        session.add(
            Message(
                platform_id="long-1",
                direction=MessageDirection.INBOUND,
                grid_id=world.grid,
                sender_id=world.resident,
                sender_role=Role.RESIDENT,
                text=PHONE + "楼" * 30_000,
                text_masked="[手机号]" + "楼" * 30_000,
                sent_at=datetime(2026, 3, 10, 2, tzinfo=UTC),
            )
        )
    items = (await client.get("/messages", headers=tokens.community)).json()["items"]
    text = next(m["text"] for m in items if m["text"].startswith("[手机号]楼"))
    assert len(text) == MAX_TEXT_OUT and text.endswith(TRUNCATED)


async def test_unmask_is_off_by_default_and_audited_when_on(
    make_app: Callable[..., FastAPI], world: World, session_factory: sessionmaker[Session], seeded: Seeded
) -> None:
    token_id, plain = new_token(session_factory, Role.COMMUNITY_ADMIN, world.community, "网格长老陈")
    _, plain_other = new_token(session_factory, Role.COMMUNITY_ADMIN, world.other_community, "钱主任")
    with session_factory.begin() as session:
        for row in session.scalars(select(ApiToken)):
            row.may_unmask = True
    url = f"/tickets/{seeded.mine}/unmask"
    async for client in open_client(make_app()):  # the deployment has not enabled unmasking
        assert (await client.post(url, headers=bearer(plain))).status_code == 403
        detail = (await client.get(f"/tickets/{seeded.mine}", headers=bearer(plain))).json()
        assert PHONE not in json.dumps(detail, ensure_ascii=False)
    app = make_app()
    async for client in open_client(app):
        app.state.services.settings.api.unmask_enabled = True  # GRIDBOT_API__UNMASK_ENABLED=true
        r = await client.post(url, headers=bearer(plain))
        assert r.status_code == 200 and PHONE in r.json()["text"]
        assert (await client.post(url, headers=bearer(plain_other))).status_code == 403  # other region
        trail = (await client.get(f"/tickets/{seeded.mine}", headers=bearer(plain))).json()["events"]
        assert [e["action"] for e in trail].count("unmask") == 1
    with session_factory() as session:
        person = session.scalar(select(ApiToken.person_id).where(ApiToken.id == token_id))
        audit = session.scalars(select(TicketEvent).where(TicketEvent.action == "unmask")).all()
        assert [(e.ticket_id, e.actor_id) for e in audit] == [(seeded.mine, person)]


async def test_metrics_need_the_metrics_token_or_loopback(make_app: Callable[..., FastAPI]) -> None:
    from pydantic import SecretStr

    app = make_app()
    async for client in open_client(app):  # ASGITransport's client is 127.0.0.1: loopback is answered
        assert (await client.get("/metrics")).status_code == 200
    remote = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=remote, base_url="http://test") as client,
    ):
        assert (await client.get("/metrics")).status_code == 401
        app.state.services.settings.api.metrics_token = SecretStr("scrape-secret")
        assert (await client.get("/metrics", headers=bearer("wrong"))).status_code == 401
        ok = await client.get("/metrics", headers=bearer("scrape-secret"))
        assert ok.status_code == 200 and "gridbot_api_requests_total" in ok.text
