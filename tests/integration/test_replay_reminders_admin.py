"""Replay: reminders and escalations at simulated times; binding rooms and appointing gridworkers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from gridbot.models.entities import ChatGroup, Message, RoleAssignment
from gridbot.models.enums import Role
from tests.integration.conftest import T0, Group

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

LAMP = "3栋2单元楼道灯又坏了，晚上黑灯瞎火的"
TRASH = "小区东门的垃圾桶满了好几天没人清理，太臭了"
NEW_ROOM = "new-room@chatroom"


async def test_warning_before_the_deadline_then_escalation_after(group: Group) -> None:
    number = await group.report(LAMP)  # 09:01: first response due in 1 working hour, 10:01
    replay = group.replay
    start = len(replay.transport.sent)
    await replay.advance(T0 + timedelta(hours=3))
    later = replay.transport.sent[start:]
    warnings = [(at, m) for at, m in later if "【工单提醒】" in m.text]
    escalations = [(at, m) for at, m in later if "【超时督办】" in m.text]
    assert len(warnings) == 1 and len(escalations) >= 1
    (warn_at, warn), (esc_at, esc) = warnings[0], escalations[0]
    due = T0 + timedelta(hours=1, minutes=1)
    assert due - timedelta(minutes=15) <= warn_at < due  # 80 % of the hour, at the next 5-minute sweep
    assert warn.mention_ids == ("wx-wang",) and f"#{number} 物业服务 首次响应 剩余" in warn.text
    assert due <= esc_at < due + timedelta(minutes=10)
    assert esc.mention_ids == ("wx-chen",) and f"#{number} 物业服务 首次响应 超时" in esc.text
    assert not any(m.text.startswith("【") for at, m in later if at < warn_at)  # nothing early


async def test_a_response_in_time_silences_the_ladder(group: Group) -> None:
    number = await group.report(LAMP)
    await group.say("小王", f"接单 #{number}")
    start = len(group.replay.transport.sent)
    await group.replay.advance(T0 + timedelta(hours=3))
    assert not any("首次响应" in m.text for _, m in group.replay.transport.sent[start:])


async def test_one_digest_per_person_per_sweep(group: Group) -> None:
    numbers = [await group.report(text, name) for text, name in ((LAMP, "张阿姨"), (TRASH, "刘师傅"))]
    start = len(group.replay.transport.sent)
    await group.replay.advance(T0 + timedelta(hours=3))
    warnings = [m for _, m in group.replay.transport.sent[start:] if "【工单提醒】" in m.text]
    assert len(warnings) == 1  # both tickets fire in the same sweep: one message to 小王
    assert warnings[0].text.startswith("【工单提醒】您有2张工单即将超时：")
    assert all(f"#{n} " in warnings[0].text for n in numbers)
    with group.runtime.sessions() as s:
        rows = s.scalars(select(func.count()).where(Message.text.like("【工单提醒】%"))).one()
        assert rows == 1


async def test_urgent_ladder_runs_in_minutes(group: Group) -> None:
    number = await group.report("5栋楼下着火了，冒烟了，快来人")
    start = len(group.replay.transport.sent)
    await group.replay.advance(group.replay.clock.now + timedelta(minutes=30))
    texts = [(at - T0, m.text) for at, m in group.replay.transport.sent[start:]]
    kinds = [text.split("】")[0] + "】" for _, text in texts]
    assert kinds[:2] == ["【工单提醒】", "【超时督办】"], texts
    assert all(f"#{number} " in text for _, text in texts)


async def bind_lines(group: Group, *rows: dict[str, object]) -> list[str]:
    sent, _ = await group.play([{"room": NEW_ROOM, **row} for row in rows])
    return [m.text for m in sent]


async def test_an_unbound_room_is_silent_until_an_admin_binds_it(group: Group) -> None:
    assert await bind_lines(group, {"name": "张阿姨", "text": LAMP}, {"name": "小王", "text": "帮助"}) == []
    with group.runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Message).where(Message.text == LAMP)) == 0
    texts = await bind_lines(group, {"name": "孙主任", "text": "绑定 WTS-02"})
    assert texts == ["本群已绑定到【五台山第二网格】（WTS-02），居民反映的问题将自动登记为工单"]
    texts = await bind_lines(group, {"id": "x1", "name": "张阿姨", "text": LAMP})
    assert "已收到您反映的【物业服务】问题" in texts[0] and "已转社区" in texts[0]  # no gridworker there yet


async def test_only_an_admin_of_the_region_may_bind(group: Group) -> None:
    assert await bind_lines(group, {"name": "小王", "text": "绑定 WTS-02"}) == []  # silence: not an admin
    texts = await bind_lines(group, {"name": "孙主任", "text": "绑定 LCX-01"})
    assert texts == ["网格「龙仓巷第一网格」不在您管辖的区域内"]
    assert await bind_lines(group, {"name": "孙主任", "text": "绑定 NOPE-9"}) == [
        "没有编号为「NOPE-9」的网格，请核对"
    ]
    with group.runtime.sessions() as s:
        g = s.scalars(select(ChatGroup).where(ChatGroup.room_id == NEW_ROOM)).one()
        assert g.grid_id is None


async def test_unbind_then_the_room_is_ignored(group: Group) -> None:
    texts = await bind_lines(
        group, {"name": "孙主任", "text": "绑定 WTS-02"}, {"name": "孙主任", "text": "解绑"}
    )
    assert texts[-1] == "本群已解除与【五台山第二网格】的绑定，机器人将不再处理本群消息"
    assert await bind_lines(group, {"name": "张阿姨", "text": LAMP}) == []


async def test_appoint_a_gridworker_who_then_gets_the_tickets(group: Group) -> None:
    await bind_lines(group, {"name": "孙主任", "text": "绑定 WTS-02"}, {"name": "钱大姐", "text": "大家好"})
    texts = await bind_lines(group, {"name": "孙主任", "text": "设网格员 @钱大姐", "mentions": ["wx-钱大姐"]})
    assert texts == ["已设置钱大姐为【五台山第二网格】网格员"]
    texts = await bind_lines(group, {"name": "张阿姨", "text": LAMP})
    assert "已转网格员钱大姐" in texts[0]
    # a resident's line starting with a command word but naming no ticket is chat, not a command
    assert await bind_lines(group, {"name": "张阿姨", "text": "设网格员 @张阿姨"}) == []
    assert await bind_lines(group, {"name": "张阿姨", "text": "设网格员"}) == [
        "抱歉，该命令仅限网格员或管理员使用"
    ]
    with group.runtime.sessions() as s:
        roles = s.scalars(select(RoleAssignment.role).where(RoleAssignment.role == Role.GRIDWORKER)).all()
        assert len(roles) == 3  # 小王 and 李四 in WTS-01, 钱大姐 in WTS-02
