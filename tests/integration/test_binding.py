"""Binding a group with a one-time code, and appointing staff by @-mention, through the whole pipeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from gridbot.handlers.types import IncomingMessage
from gridbot.models.entities import ChatGroup, Grid, Person, RoleAssignment
from gridbot.models.enums import Role
from gridbot.models.org import bind_codes
from gridbot.models.org.org_import import import_org
from gridbot.models.org.org_sheet import read_xlsx
from tests.integration.conftest import ROOM, Group
from tests.orgsheet import workbook

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
NEW_ROOM = "room-wutaishan@chatroom"
GRID = "320106011001-01"


def issue(group: Group, person: str | None = None, ttl: timedelta = bind_codes.DEFAULT_TTL) -> str:
    """Import the realistic sheet (once) and issue a code for its first grid."""
    with group.runtime.sessions.begin() as session:
        if session.scalar(select(Grid).where(Grid.code == GRID)) is None:
            import_org(session, read_xlsx(workbook()))
        grid = session.scalars(select(Grid).where(Grid.code == GRID)).one()
        who = session.scalars(select(Person).where(Person.name == person)).one() if person else None
        _, plain = bind_codes.issue(session, grid, who, ttl=ttl, now=group.clock.now)
        return plain


def bound_grid(group: Group, room: str) -> str | None:
    with group.runtime.sessions() as s:
        row = s.scalar(
            select(Grid.code).join(ChatGroup, ChatGroup.grid_id == Grid.id).where(ChatGroup.room_id == room)
        )
        return row


async def test_a_personal_code_binds_the_group_and_makes_the_poster_the_imported_worker(group: Group) -> None:
    code = issue(group, person="李强")  # 李强 was imported with a phone only: the bot cannot know him
    said = await group.say("强哥", f"绑定 {code}", sender="wxid_liqiang", room=NEW_ROOM)
    assert "本群已绑定到【五台山第1网格】" in said and "已认出您是李强（网格员" in said
    assert bound_grid(group, NEW_ROOM) == GRID
    with group.runtime.sessions() as s:
        li = s.scalars(select(Person).where(Person.platform_id == "wxid_liqiang")).one()
        roles = {
            r.role
            for r in s.scalars(
                select(RoleAssignment).where(RoleAssignment.person_id == li.id, RoleAssignment.active)
            )
        }
        assert li.name == "李强" and Role.GRIDWORKER in roles
    # single use: the same code in another room is refused, and that room stays unbound
    again = await group.say("强哥", f"绑定 {code}", sender="wxid_liqiang", room="room-other@chatroom")
    assert "已使用过" in again and bound_grid(group, "room-other@chatroom") is None


async def test_an_expired_code_is_refused(group: Group) -> None:
    code = issue(group, person="李强", ttl=timedelta(minutes=5))
    later = group.clock.now + timedelta(minutes=6)
    said = await group.say("强哥", f"绑定 {code}", sender="wxid_liqiang", room=NEW_ROOM, t=later)
    assert "已过期" in said and bound_grid(group, NEW_ROOM) is None


async def test_a_grid_code_without_a_person_needs_staff(group: Group) -> None:
    code = issue(group)
    said = await group.say("路人", f"绑定 {code}", sender="wxid_stranger", room=NEW_ROOM)
    assert "需由管理员或本网格网格员发送" in said and bound_grid(group, NEW_ROOM) is None
    # 王芳 was imported with her WeChat id: the bot recognises her on first sight
    said = await group.say("芳", f"绑定 {code}", sender="wangfang_88", room=NEW_ROOM)
    assert "本群已绑定到【五台山第1网格】" in said and bound_grid(group, NEW_ROOM) == GRID


async def test_appoint_a_member_who_never_spoke_by_mention(group: Group) -> None:
    # 孙主任 admins the demo room's community; 老周 is in the room but has never said a word
    said = await group.say("孙主任", "设网格员 @老周", mentions=["wxid_laozhou"])
    assert said.startswith("已设置老周为【") and said.endswith("】网格员")
    with group.runtime.sessions() as s:
        zhou = s.scalars(select(Person).where(Person.platform_id == "wxid_laozhou")).one()
        assert s.scalar(
            select(RoleAssignment.id).where(
                RoleAssignment.person_id == zhou.id,
                RoleAssignment.role == Role.GRIDWORKER,
                RoleAssignment.active,
            )
        )


async def test_a_typed_name_is_resolved_by_the_member_list_and_a_clash_refused(group: Group) -> None:
    conversation = group.replay.conversation

    def typed(n: int, members: tuple[tuple[str, str], ...]) -> IncomingMessage:
        return IncomingMessage(
            platform_id=f"typed-{n}",
            room_id=ROOM,
            sender_id="demo-community-admin",
            sender_name="孙主任",
            text="设网格员 @小李",
            sent_at=group.clock.now,
            mention_names=members,
        )

    await conversation.handle(typed(1, (("wxid_li_a", "小李"), ("wxid_li_b", "小李"))))
    await group.replay.drain()
    assert "2 位成员都叫「小李」" in group.replay.transport.sent[-1][1].text
    await conversation.handle(typed(2, (("wxid_li_b", "小李"),)))
    await group.replay.drain()
    assert "已设置小李为" in group.replay.transport.sent[-1][1].text
    with group.runtime.sessions() as s:
        assert s.scalar(select(Person.id).where(Person.platform_id == "wxid_li_a")) is None
    # no mention list and no member of that name: never guessed from names the bot has seen
    said = await group.say("孙主任", "设网格员 @小王")
    assert "请在微信里输入 @ 后从成员列表中选择对方" in said
