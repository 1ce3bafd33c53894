"""Replay: neighbours agreeing with, chasing or re-telling a report join its ticket, not new ones.

In a real group one broken lamp is told five times: the report, 「是啊」 from a neighbour, the same
lamp in other words, 「…的事有人管没」 hours later, and the reporter's own 「还是不亮」. One ticket,
its reporters growing; the reporter's own repeat is a 催办; another place stays another ticket.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gridbot.models.entities import Ticket
from tests.integration.conftest import Group

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def test_one_lamp_told_five_ways_is_one_ticket(group: Group) -> None:
    number = await group.report("村口那个路灯又不亮了 黑灯瞎火的", name="老刘")
    for name, text in (
        ("秀英", "是啊 路灯坏好久了"),
        ("张叔", "村口路灯不亮，晚上骑电瓶车差点掉沟里"),
        ("老郑", "路灯的事有人管没"),
    ):
        said = await group.say(name, text)
        assert f"与工单 #{number}" in said and "已合并处理" in said, (text, said)
    said = await group.say("老刘", "路灯还是不亮啊")  # the reporter again: chased, not merged into itself
    assert f"工单 #{number}" in said and "已为您催办" in said, said
    other = await group.report("桥头的路灯也不亮了", name="阿军")
    assert other != number
    with group.runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 2


async def test_agreeing_with_something_else_files_nothing(group: Group) -> None:
    await group.report("村口那个路灯又不亮了 黑灯瞎火的", name="老刘")
    said = await group.say("秀英", "是啊 今天天气真好")
    assert "工单" not in said
    with group.runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1
