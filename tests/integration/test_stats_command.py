"""`统计` applies the "not yet due" rule and shows 及时签收率 and 解决率; a rating records 「问题解决了吗」.

The replay starts on Tuesday 10 March 2026 09:00 (Shanghai); a normal report's first-response
deadline is one working hour.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from gridbot.handlers.intake import solved_answer
from gridbot.models.entities import Rating
from gridbot.models.org.web_sessions import redeem_worker_link
from tests.integration.conftest import Group

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

LAMP = "3栋2单元楼道灯又坏了，晚上黑灯瞎火的"
TRASH = "小区东门的垃圾桶满了好几天没人清理，太臭了"


async def test_stats_leave_out_tickets_not_yet_due(group: Group) -> None:
    lamp = await group.report(LAMP)
    await group.report(TRASH, "刘师傅")
    await group.say("小王", f"接单 #{lamp}")
    # minutes later: the lamp was signed for in time; the trash report's deadline is still ahead
    text = await group.say("小王", "统计")
    assert "受理 2 件" in text
    assert "首次响应及时率 100%（1/1，未到期的不计）" in text and "及时签收率 100%" in text
    # two hours later the trash report's deadline has passed unanswered: it counts, late
    text = await group.say("小王", "统计", t=timedelta(hours=2))
    assert "首次响应及时率 50%（1/2，未到期的不计）" in text and "及时签收率 50%" in text


async def test_rating_records_whether_the_problem_was_solved(group: Group) -> None:
    lamp = await group.report(LAMP)
    trash = await group.report(TRASH, "刘师傅")
    await group.say("小王", f"办结 #{lamp} 已换灯泡")
    await group.say("小王", f"办结 #{trash} 已清运")
    await group.say("张阿姨", "1 已解决")
    await group.say("刘师傅", "2 还没解决，桶还是满的")
    with group.runtime.sessions() as s:
        rows = {r.ticket_id: (r.solved, r.comment) for r in s.scalars(select(Rating))}
    assert rows == {lamp: (True, None), trash: (False, "桶还是满的")}
    text = await group.say("小王", "统计")
    assert "解决率 50%" in text and "满意率 100%（2 条评价）" in text


async def test_workbench_sends_a_one_time_link_privately(group: Group) -> None:
    sent, _ = await group.play([{"name": "小王", "text": "工作台"}])
    in_room = [m.text for m in sent if m.room_id is not None]
    private = [m for m in sent if m.room_id is None]
    # the group sees only that a message was sent; the code goes to 小王 alone
    assert in_room == ["已私信发送工作台登录链接，请查看与我的私聊"]
    [dm] = private
    assert dm.to_contact_id == "wx-wang" and "15分钟内有效" in dm.text
    code = dm.text.rsplit("登录码：", 1)[-1].strip()
    assert code not in in_room[0]
    with group.runtime.sessions.begin() as s:
        secret, _ = redeem_worker_link(s, code, group.clock.now)
        assert secret and secret != code
    # a resident may not ask for one
    assert "工作台登录" not in await group.say("张阿姨", "工作台")


@pytest.mark.parametrize(
    ("rest", "expected"),
    [
        ("", (None, None)),
        ("已解决", (True, None)),
        ("解决了 谢谢", (True, "谢谢")),
        ("未解决", (False, None)),
        ("没有解决，还在漏水", (False, "还在漏水")),
        ("灯亮了", (None, "灯亮了")),
        ("没问题", (None, "没问题")),
        ("解决不了", (False, None)),
    ],
)
def test_solved_answer(rest: str, expected: tuple[bool | None, str | None]) -> None:
    assert solved_answer(rest) == expected
