"""A resident who takes a staff member's display name gets no staff rights: authorisation is by platform id.

The impostor speaks with its own platform id and the exact name of the gridworker, the grid leader or
the community admin; every staff command is refused with the Chinese permission reply and changes
nothing, while the real gridworker, renamed, keeps working.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from gridbot.handlers import replies
from gridbot.handlers.types import IncomingMessage
from gridbot.models.entities import ChatGroup, Grid, RoleAssignment, TicketEvent
from gridbot.models.enums import Role, TicketStatus
from tests.integration.conftest import ROOM, Group, ticket

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

LAMP = "3栋2单元楼道灯又坏了，晚上黑灯瞎火的"
IMPOSTOR = "wx-impostor"


def state(group: Group, number: int) -> tuple[object, ...]:
    """The ticket's status, assignee and event count, and how many staff role assignments exist."""
    with group.runtime.sessions() as s:
        t = ticket(s, number)
        events = s.scalar(select(func.count()).where(TicketEvent.ticket_id == number))
        roles = s.scalar(select(func.count()).where(RoleAssignment.role != Role.RESIDENT))
        return (t.status, t.assignee_id, t.resolution_note, events, roles)


@pytest.mark.parametrize("name", ["小王", "陈网格长", "孙主任"])
async def test_a_resident_named_like_staff_is_refused_every_staff_command(group: Group, name: str) -> None:
    number = await group.report(LAMP)
    before = state(group, number)
    for text, extra in (
        (f"接单 #{number}", {}),
        (f"办结 #{number} 已修好", {}),
        (f"转派 #{number} @李四", {"mentions": ["wx-li"]}),
        (f"挂起 #{number} 等物业", {}),
        (f"退回 #{number} 不归本网格", {}),
        (f"改类 #{number} 市政设施", {}),
        ("设网格员", {}),
        ("解绑", {}),
        ("统计", {}),
    ):
        said = await group.say(name, text, sender=IMPOSTOR, **extra)
        assert said == replies.NO_PERMISSION, text
    # with an argument that names no ticket, a resident's 绑定 / 设网格员 is chat: no reply at all
    assert await group.say(name, "设网格员 @张阿姨", sender=IMPOSTOR, mentions=[IMPOSTOR]) == ""
    assert await group.say(name, "绑定 WTS-02", sender=IMPOSTOR) == ""
    assert state(group, number) == before
    with group.runtime.sessions() as s:
        room = s.scalars(select(ChatGroup).where(ChatGroup.room_id == ROOM)).one()
        assert room.grid_id == group_grid(group)


def group_grid(group: Group) -> int:
    """The demo room's grid id as bound at setup."""
    with group.runtime.sessions() as s:
        return s.scalars(select(Grid.id).where(Grid.code == "WTS-01")).one()


async def test_an_impostor_admin_cannot_bind_an_unbound_room(group: Group) -> None:
    said = await group.say("孙主任", "绑定 WTS-02", sender=IMPOSTOR, room="room-new@chatroom")
    assert said == ""
    with group.runtime.sessions() as s:
        rooms = s.scalars(select(ChatGroup).where(ChatGroup.room_id == "room-new@chatroom")).all()
        assert [r.grid_id for r in rooms] in ([], [None])


async def test_the_real_gridworker_renamed_still_works_beside_an_impostor(group: Group) -> None:
    number = await group.report(LAMP)
    assert await group.say("小王", f"接单 #{number}", sender=IMPOSTOR) == replies.NO_PERMISSION
    # the real 小王 (wx-wang) now shows another name: the rights follow the platform id
    await group.say("王五", f"接单 #{number}", sender="wx-wang")
    with group.runtime.sessions() as s:
        t = ticket(s, number)
        assert t.status is TicketStatus.ACCEPTED
        events = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == number)).all()
        assert [e.action for e in events][-1] == "accept"


async def test_a_transfer_by_name_never_lands_on_a_resident_who_took_the_name(group: Group) -> None:
    number = await group.report(LAMP)
    await group.say("李四", "大家好", sender=IMPOSTOR)  # a resident now displayed as 李四
    before = state(group, number)
    said = await group.say("小王", f"转派 #{number} @李四")  # by name only, no mention id
    assert said == "找不到唯一的群成员「李四」，请直接@对方"
    # the real 李四 renamed: the name now points at the impostor alone, who is no gridworker
    await group.say("李四（休假）", "收到", sender="wx-li")
    said = await group.say("小王", f"转派 #{number} @李四")
    assert said == f"转派对象不是本网格的网格员，无法转派工单 #{number}"
    assert state(group, number) == before


async def test_a_resident_quoting_a_gridworker_gets_no_rights_from_the_quote(group: Group) -> None:
    number = await group.report(LAMP)
    before = state(group, number)
    for quote in (
        f"@张阿姨 已收到您反映的【物业服务】问题，工单 #{number} 已转网格员小王",
        f"小王：办结 #{number} 已修好",
    ):
        # a bare command word is a command (refused); with free text and no number, a resident's
        # line is chat (looks_deliberate): the quote's ticket number does not make it a command
        for text, expected in (("接单", replies.NO_PERMISSION), ("办结 已修好", "")):
            said = await group.say("小王", text, sender=IMPOSTOR, quote=quote)
            assert said == expected, (quote, text)
    assert state(group, number) == before


async def test_a_resident_mentioning_the_bot_with_a_command_is_refused(group: Group) -> None:
    number = await group.report(LAMP)
    before = state(group, number)
    conversation = group.replay.conversation
    msg = IncomingMessage(
        platform_id="wx-at-bot-1",
        room_id=ROOM,
        sender_id=IMPOSTOR,
        sender_name="小王",
        text=f"办结 #{number} 已修好",  # the adapter stripped the bot's @-mention
        sent_at=group.clock.now + timedelta(minutes=1),
        mentions=("wx-bot",),
        mentions_bot=True,
    )
    outcome = await conversation.handle(msg)
    assert outcome.status == "refused"
    await group.replay.drain()
    last = group.replay.transport.sent[-1][1]
    assert last.text == replies.NO_PERMISSION and last.mention_ids == (IMPOSTOR,)
    assert state(group, number) == before
