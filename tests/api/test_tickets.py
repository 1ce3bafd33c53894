"""Tickets over HTTP: scope, masking, filters, pagination, and lifecycle actions via the outbox."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.entities import Outbox
from gridbot.models.tickets.sla import SLAPolicy
from tests.api.conftest import PHONE, T0, Seeded, Tokens, file_ticket
from tests.conftest import World

pytestmark = pytest.mark.anyio


async def test_a_community_admin_sees_only_its_community(
    client: httpx.AsyncClient, tokens: Tokens, seeded: Seeded, world: World
) -> None:
    mine = (await client.get("/tickets", headers=tokens.community)).json()["items"]
    assert {t["number"] for t in mine} == {seeded.mine, seeded.mine2}
    other = (await client.get("/tickets", headers=tokens.other_community)).json()["items"]
    assert {t["number"] for t in other} == {seeded.other}
    street = (await client.get("/tickets", headers=tokens.street)).json()["items"]
    assert {t["number"] for t in street} == {seeded.mine, seeded.mine2, seeded.other}
    regions = (await client.get("/regions", headers=tokens.community)).json()
    assert [r["id"] for r in regions] == [world.community]
    grids = (await client.get("/grids", headers=tokens.community)).json()["items"]
    assert {g["id"] for g in grids} == {world.grid, world.grid2}
    people = (await client.get("/people", headers=tokens.community)).json()["items"]
    assert world.other_resident not in {p["person_id"] for p in people}
    messages = (await client.get("/messages", headers=tokens.community)).json()["items"]
    assert {m["grid_id"] for m in messages} == {world.grid}


async def test_the_phone_number_never_leaves_the_api(
    client: httpx.AsyncClient, tokens: Tokens, seeded: Seeded, world: World
) -> None:
    # a resolution note quoting the number lands in the trail too
    await client.post(
        f"/tickets/{seeded.mine}/resolve", json={"note": f"已电话{PHONE}联系"}, headers=tokens.street
    )
    paths = [
        "/regions",
        f"/regions/{world.community}",
        "/grids",
        f"/grids/{world.grid}",
        "/people",
        "/people?role=resident",
        "/tickets",
        f"/tickets/{seeded.mine}",
        f"/tickets/{seeded.other}",
        "/messages",
        "/ratings",
        "/openapi.json",
        "/metrics",
    ]
    seen = 0
    for headers in (tokens.community, tokens.other_community, tokens.street, tokens.city):
        for path in paths:
            r = await client.get(path, headers=headers)
            assert PHONE not in r.text, (path, r.text)
            seen += r.status_code == 200
    assert seen >= 40
    detail = (await client.get(f"/tickets/{seeded.mine}", headers=tokens.community)).json()
    assert detail["text"] == "3栋2单元楼道灯坏了，联系我[手机号]"  # a stairwell is not personal data
    assert detail["resolution_note"] == "已电话[手机号]联系"
    people = (await client.get("/people?role=resident", headers=tokens.city)).json()["items"]
    assert {p["phone"] for p in people if p["person_id"] == world.resident} == {"138****5678"}
    message = (await client.get("/messages", headers=tokens.community)).json()["items"][0]
    assert message["text"] == "我的手机是[手机号]，住[门牌号]"


@pytest.mark.parametrize(
    "query",
    [
        "status=bogus",
        "limit=10000",
        "limit=201",
        "limit=0",
        "created_from=2024-13-45",
        "created_to=yesterday",
        "created_from=1900-01-01",
        "grid=abc",
        "grid=99999999999",
        "overdue=perhaps",
        "kind=complaint",
        "cursor=not-a-cursor",
        "cursor=%00%01",
        "category=a%00b",
    ],
)
async def test_422_on_bad_parameters(client: httpx.AsyncClient, tokens: Tokens, query: str) -> None:
    r = await client.get(f"/tickets?{query}", headers=tokens.city)
    assert r.status_code == 422, r.text
    assert isinstance(r.json()["detail"], list)


async def test_page_size_is_capped_and_defaults_to_50(
    client: httpx.AsyncClient,
    tokens: Tokens,
    world: World,
    session_factory: sessionmaker[Session],
    policy: SLAPolicy,
) -> None:
    with session_factory.begin() as session:
        for i in range(205):
            file_ticket(session, policy, world.grid, None, f"第{i}件", T0 + timedelta(seconds=i))
    default = (await client.get("/tickets", headers=tokens.city)).json()
    assert len(default["items"]) == 50 and default["next_cursor"]
    biggest = (await client.get("/tickets?limit=200", headers=tokens.city)).json()
    assert len(biggest["items"]) == 200 and biggest["next_cursor"]


async def test_cursor_pagination_returns_every_ticket_exactly_once(
    client: httpx.AsyncClient,
    tokens: Tokens,
    world: World,
    session_factory: sessionmaker[Session],
    policy: SLAPolicy,
) -> None:
    with session_factory.begin() as session:
        # groups of three share a creation instant: the id breaks the tie
        numbers = {
            file_ticket(session, policy, world.grid, None, f"第{i}件", T0 + timedelta(minutes=i // 3)).id
            for i in range(23)
        }
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 5}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/tickets", params=params, headers=tokens.community)).json()
        seen += [t["number"] for t in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(numbers) and len(seen) == len(numbers)
    assert pages == 5
    created = [t for t in seen]
    assert created == sorted(created, reverse=True)  # newest first (ids grow with time here)


async def test_filters(client: httpx.AsyncClient, tokens: Tokens, seeded: Seeded, world: World) -> None:
    async def numbers(query: str) -> set[int]:
        r = await client.get(f"/tickets?{query}", headers=tokens.city)
        assert r.status_code == 200, r.text
        return {t["number"] for t in r.json()["items"]}

    everything = {seeded.mine, seeded.mine2, seeded.other}
    assert await numbers(f"grid={world.grid2}") == {seeded.mine2}
    assert await numbers("status=new") == everything
    assert await numbers("status=resolved&status=closed") == set()
    assert await numbers("kind=incident&category=environment") == everything
    assert await numbers(f"assignee={world.worker}") == {seeded.mine}  # grid2 has no gridworker
    assert await numbers("created_from=2026-03-10&created_to=2026-03-10") == everything
    assert await numbers("created_to=2026-03-09") == set()
    assert await numbers("overdue=true") == everything  # filed in March 2026: long past every deadline
    assert await numbers("overdue=false") == set()


async def test_an_api_action_is_announced_in_the_group(
    client: httpx.AsyncClient,
    tokens: Tokens,
    seeded: Seeded,
    world: World,
    session_factory: sessionmaker[Session],
) -> None:
    r = await client.post(
        f"/tickets/{seeded.mine}/resolve", json={"note": "已更换灯泡"}, headers=tokens.community
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "resolved"
    assert body["events"][-1]["action"] == "resolve"
    assert body["events"][-1]["actor_id"] == tokens.community_person
    assert body["events"][-1]["actor_name"] == "孙主任"
    with session_factory() as session:
        rows = session.scalars(select(Outbox).where(Outbox.ticket_id == seeded.mine)).all()
    assert len(rows) == 1
    assert rows[0].room_id == world.room
    assert "已办结：已更换灯泡" in rows[0].text and "wx-zhang" in rows[0].mention_ids


async def test_transfer_assign_reopen_and_reject(
    client: httpx.AsyncClient,
    tokens: Tokens,
    seeded: Seeded,
    world: World,
    session_factory: sessionmaker[Session],
) -> None:
    h = tokens.community
    r = await client.post(f"/tickets/{seeded.mine}/transfer", json={"person_id": world.worker2}, headers=h)
    assert r.status_code == 200 and r.json()["assignee_name"] == "李四"
    r = await client.post(f"/tickets/{seeded.mine}/assign", json={"person_id": world.worker}, headers=h)
    assert r.status_code == 200 and r.json()["assignee_id"] == world.worker
    r = await client.post(f"/tickets/{seeded.mine}/transfer", json={"person_id": world.resident}, headers=h)
    assert r.status_code == 409 and "不是本网格的网格员" in r.json()["detail"]
    assert (await client.post(f"/tickets/{seeded.mine}/resolve", json={}, headers=h)).status_code == 200
    r = await client.post(f"/tickets/{seeded.mine}/reopen", json={"reason": "居民说灯还是不亮"}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "in_progress" and r.json()["cycle"] == 1
    r = await client.post(f"/tickets/{seeded.mine2}/reject", json={"reason": "不属于网格事项"}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    with session_factory() as session:
        texts = session.scalars(
            select(Outbox.text).where(Outbox.ticket_id == seeded.mine).order_by(Outbox.id)
        ).all()
    assert texts[0] == f"工单 #{seeded.mine} 已转派给网格员李四处理。"
    assert any("重新办理" in t for t in texts)


async def test_a_lifecycle_refusal_is_409_with_the_chinese_message(
    client: httpx.AsyncClient, tokens: Tokens, seeded: Seeded
) -> None:
    h = tokens.community
    assert (await client.post(f"/tickets/{seeded.mine}/resolve", json={}, headers=h)).status_code == 200
    r = await client.post(f"/tickets/{seeded.mine}/resolve", json={}, headers=h)
    assert r.status_code == 409
    assert r.json() == {
        "detail": f"工单 #{seeded.mine} 已是「已办结」，无需再「办结」",  # asked twice: said calmly
        "code": "conflict",
    }
    stale = await client.post(f"/tickets/{seeded.mine2}/resolve", json={"expected_version": 99}, headers=h)
    assert stale.status_code == 409 and stale.json()["code"] == "concurrent_update"
    bad = await client.post(f"/tickets/{seeded.mine2}/reject", json={}, headers=h)
    assert bad.status_code == 422  # a reason is required


async def test_detail_has_the_trail_and_allowed_actions(
    client: httpx.AsyncClient, tokens: Tokens, seeded: Seeded
) -> None:
    body = (await client.get(f"/tickets/{seeded.mine}", headers=tokens.community)).json()
    assert [e["action"] for e in body["events"]] == ["create"]
    assert body["reporters"] == 1 and body["assignee_name"] == "小王"
    assert {"resolve", "transfer", "reject"} <= set(body["allowed_actions"])
    assert "reopen" not in body["allowed_actions"]


async def test_grid_detail_shows_groups_member_counts_and_the_bot_state(
    client: httpx.AsyncClient, tokens: Tokens, world: World, session_factory: sessionmaker[Session]
) -> None:
    from gridbot.models.entities import BotState, ChatGroup, MemberSnapshot
    from gridbot.models.messaging import bot_status

    with session_factory.begin() as session:
        group = session.scalars(select(ChatGroup).where(ChatGroup.room_id == world.room)).one()
        session.add(MemberSnapshot(group_id=group.id, taken_at=T0, member_count=180))
        session.add(MemberSnapshot(group_id=group.id, taken_at=T0 + timedelta(days=1), member_count=185))
        bot_status.record(
            session, "bot-1", BotState.ONLINE, logged_in=True, last_message_at=T0, last_error=None, now=T0
        )
    body = (await client.get(f"/grids/{world.grid}", headers=tokens.community)).json()
    assert body["households"] == 300
    [g] = body["groups"]
    assert (g["room_id"], g["member_count"], g["bot_state"]) == (world.room, 185, "online")
    assert {w["name"] for w in body["workers"]} == {"小王", "李四", "周兼职", "陈网格长"}
