"""Authentication, scope and rate limits over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.entities import ApiToken, Ticket, TicketEvent
from gridbot.models.enums import Role
from gridbot.models.org.tokens import revoke_token
from tests.api.conftest import Seeded, Tokens, bearer, new_token, open_client
from tests.conftest import World

pytestmark = pytest.mark.anyio
PROTECTED = ["/regions", "/grids", "/people", "/tickets", "/messages", "/ratings", "/tickets/1"]


async def test_401_without_a_token(client: httpx.AsyncClient, world: World) -> None:
    for path in PROTECTED:
        r = await client.get(path)
        assert r.status_code == 401, path
        assert r.json() == {"detail": "令牌无效或已过期", "code": "unauthorized"}
        assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer nonsense",
        "Basic dXNlcjpwYXNz",
        "gb_abc",
        "Bearer gb_" + "x" * 300,
        "Bearer gb_unknown",
    ],
)
async def test_401_with_a_malformed_or_unknown_token(
    client: httpx.AsyncClient, world: World, header: str
) -> None:
    r = await client.get("/tickets", headers={"Authorization": header})
    assert r.status_code == 401


async def test_401_with_a_revoked_token(
    client: httpx.AsyncClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    token_id, plain = new_token(session_factory, Role.COMMUNITY_ADMIN, world.community, "临时")
    assert (await client.get("/tickets", headers=bearer(plain))).status_code == 200
    with session_factory.begin() as session:
        revoke_token(session, token_id)
    r = await client.get("/tickets", headers=bearer(plain))
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized"


async def test_401_with_an_expired_token(
    client: httpx.AsyncClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    _, plain = new_token(
        session_factory, Role.STREET_ADMIN, world.street, "过期", expires_in=timedelta(seconds=-1)
    )
    assert (await client.get("/regions", headers=bearer(plain))).status_code == 401


async def test_tokens_are_stored_hashed(tokens: Tokens, session_factory: sessionmaker[Session]) -> None:
    plain = tokens.community["Authorization"].removeprefix("Bearer ")
    with session_factory() as session:
        rows = session.scalars(select(ApiToken)).all()
    assert len(rows) == 4
    for row in rows:
        assert plain not in (row.token_hash, row.name) and len(row.token_hash) == 64


async def test_403_outside_the_region(
    client: httpx.AsyncClient, tokens: Tokens, world: World, seeded: Seeded
) -> None:
    mine = tokens.community
    for path in (
        f"/tickets/{seeded.other}",
        f"/grids/{world.other_grid}",
        f"/regions/{world.other_community}",
        f"/regions/{world.street}",
        f"/tickets?grid={world.other_grid}",
        f"/messages?grid={world.other_grid}",
        f"/ratings?grid={world.other_grid}",
        f"/people?grid={world.other_grid}",
        f"/grids?community={world.other_community}",
    ):
        r = await client.get(path, headers=mine)
        assert r.status_code == 403, path
        assert r.json() == {"detail": "该资源不在您的管辖区域内", "code": "forbidden"}
    r = await client.post(f"/tickets/{seeded.other}/resolve", json={}, headers=mine)
    assert r.status_code == 403
    # the street admin above both communities may
    assert (await client.get(f"/tickets/{seeded.other}", headers=tokens.street)).status_code == 200


async def test_404_for_what_does_not_exist(client: httpx.AsyncClient, tokens: Tokens) -> None:
    r = await client.get("/tickets/999999", headers=tokens.city)
    assert r.status_code == 404
    assert r.json() == {"detail": "没有找到工单 #999999，请核对编号", "code": "ticket_not_found"}
    assert (await client.get("/grids/999999", headers=tokens.city)).status_code == 404


async def test_429_with_retry_after_per_token(make_app: Callable[..., FastAPI], tokens: Tokens) -> None:
    async for client in open_client(make_app(rate_limit=3)):
        for _ in range(3):
            assert (await client.get("/regions", headers=tokens.community)).status_code == 200
        r = await client.get("/regions", headers=tokens.community)
        assert r.status_code == 429
        assert 1 <= int(r.headers["retry-after"]) <= 61
        assert r.json()["code"] == "rate_limited"
        # another token has its own budget
        assert (await client.get("/regions", headers=tokens.street)).status_code == 200


async def test_rate_limit_shared_through_redis(
    make_app: Callable[..., FastAPI], tokens: Tokens, redis_url: str
) -> None:
    async for first in open_client(make_app(rate_limit=4, redis_url=redis_url)):
        async for second in open_client(make_app(rate_limit=4, redis_url=redis_url)):
            codes = [(await c.get("/regions", headers=tokens.city)).status_code for c in (first, second) * 3]
    assert codes == [200, 200, 200, 200, 429, 429]


async def test_cors_from_settings(client: httpx.AsyncClient, tokens: Tokens) -> None:
    r = await client.options(
        "/tickets",
        headers={"Origin": "https://dashboard.example", "Access-Control-Request-Method": "GET"},
    )
    assert r.headers["access-control-allow-origin"] == "https://dashboard.example"
    r = await client.get("/regions", headers={**tokens.city, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


ACTIONS = [
    ("transfer", {"person_id": 1}),
    ("assign", {"person_id": 1}),
    ("resolve", {"note": "已修好"}),
    ("reopen", {"reason": "居民说没修好"}),
    ("reject", {"reason": "不归本网格"}),
]


def ticket_state(factory: sessionmaker[Session], number: int) -> tuple[object, ...]:
    """What an action would change on a ticket, and its event count."""
    with factory() as session:
        t = session.get(Ticket, number)
        assert t is not None
        events = session.scalar(select(func.count()).where(TicketEvent.ticket_id == number))
        return (t.status, t.version, t.assignee_id, t.resolution_note, events)


async def test_actions_refuse_a_revoked_an_expired_and_a_malformed_token(
    client: httpx.AsyncClient, world: World, seeded: Seeded, session_factory: sessionmaker[Session]
) -> None:
    revoked_id, revoked = new_token(session_factory, Role.COMMUNITY_ADMIN, world.community, "已撤销")
    with session_factory.begin() as session:
        revoke_token(session, revoked_id)
    _, expired = new_token(
        session_factory, Role.COMMUNITY_ADMIN, world.community, "过期", expires_in=timedelta(seconds=-1)
    )
    _, valid = new_token(session_factory, Role.COMMUNITY_ADMIN, world.community, "有效")
    headers = [
        bearer(revoked),
        bearer(expired),
        {"Authorization": valid},  # no scheme
        {"Authorization": f"Token {valid}"},
        {"Authorization": f"Bearer {valid} {valid}"},
        {"Authorization": f"Bearer {valid}x"},
    ]
    before = ticket_state(session_factory, seeded.mine)
    for action, body in ACTIONS:
        for header in headers:
            r = await client.post(f"/tickets/{seeded.mine}/{action}", json=body, headers=header)
            assert r.status_code == 401, (action, header)
            assert r.json() == {"detail": "令牌无效或已过期", "code": "unauthorized"}
    assert ticket_state(session_factory, seeded.mine) == before
    # the same ticket and bodies with the valid token do reach the lifecycle
    r = await client.post(f"/tickets/{seeded.mine}/resolve", json={}, headers=bearer(valid))
    assert r.status_code == 200


async def test_actions_on_a_ticket_outside_the_tokens_region_are_403_and_change_nothing(
    client: httpx.AsyncClient, tokens: Tokens, seeded: Seeded, session_factory: sessionmaker[Session]
) -> None:
    before = ticket_state(session_factory, seeded.mine)
    for action, body in ACTIONS:
        r = await client.post(f"/tickets/{seeded.mine}/{action}", json=body, headers=tokens.other_community)
        assert r.status_code == 403, action
        assert r.json()["code"] == "forbidden"
    assert ticket_state(session_factory, seeded.mine) == before
