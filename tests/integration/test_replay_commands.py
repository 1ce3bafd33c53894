"""Replay: every gridworker and resident command, with refusals, unknown tickets and usage replies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from gridbot.handlers import replies
from gridbot.handlers.commands import COMMANDS, Audience
from gridbot.models.entities import Ticket, TicketEvent
from gridbot.models.enums import TicketStatus
from tests.integration.conftest import Group, name_of, ticket

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

LAMP = "3栋2单元楼道灯又坏了，晚上黑灯瞎火的"
TRASH = "小区东门的垃圾桶满了好几天没人清理，太臭了"


def load(group: Group, number: int) -> Ticket:
    """The ticket as stored now (a fresh session, detached)."""
    with group.runtime.sessions() as s:
        t = ticket(s, number)
        s.expunge(t)
        return t


def events(group: Group, number: int, action: str) -> list[TicketEvent]:
    """The ticket's events of one action."""
    with group.runtime.sessions() as s:
        rows = s.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == number, TicketEvent.action == action)
        ).all()
        s.expunge_all()
        return list(rows)


async def test_help_is_generated_from_the_table(group: Group) -> None:
    worker = await group.say("小王", "帮助")
    resident = await group.say("张阿姨", "帮助")
    for cmd in COMMANDS.values():
        line = f"· {cmd.usage} —— {cmd.help}"
        assert (line in worker) is (cmd.audience is not Audience.ADMIN), line
        assert (line in resident) is (cmd.audience is Audience.ANYONE), line
    assert "直接在群里描述问题即可上报" in resident


async def test_my_tickets_lists_my_open_ones(group: Group) -> None:
    lamp, trash = await group.report(LAMP), await group.report(TRASH, "刘师傅")
    await group.say("小王", f"退回 #{trash} 不属于本网格")
    text = await group.say("小王", "工单")
    assert text.startswith("您的待办工单：")
    assert f"#{lamp} 物业服务 待受理" in text and f"#{trash} " not in text
    assert await group.say("李四", "工单") == "您目前没有待办工单 👍"


async def test_a_resident_may_look_up_only_their_own_ticket(group: Group) -> None:
    number = await group.report(LAMP)
    own = await group.say("张阿姨", f"查 #{number}")
    assert own.startswith(f"#{number} 物业服务 待受理") and "首次响应期限 剩余" in own
    other = await group.say("刘师傅", f"查 #{number}")
    assert other == f"您只能查询自己反映的工单，#{number} 不是您反映的"
    assert (await group.say("小王", f"查 #{number}")).startswith(f"#{number} ")


async def test_accept_is_the_first_response_and_tells_the_reporter(group: Group) -> None:
    number = await group.report(LAMP)
    said_at = group.clock.now + timedelta(minutes=1)  # a line's default time
    sent, _ = await group.play([{"name": "小王", "text": f"接单 #{number}"}])
    assert sent[0].mention_ids == ("wx-zhang",)
    assert f"（工单 #{number}）已由网格员小王受理" in sent[0].text
    t = load(group, number)
    assert t.status is TicketStatus.ACCEPTED and t.first_response_at == said_at


async def test_respond_is_relayed_to_the_reporter_and_counts_as_first_response(group: Group) -> None:
    number = await group.report(LAMP)
    said_at = group.clock.now + timedelta(minutes=1)  # a line's default time
    sent, _ = await group.play([{"name": "小王", "text": f"回复 #{number} 下午三点物业上门更换"}])
    assert [(m.mention_ids, m.text) for m in sent] == [
        (("wx-zhang",), f"网格员小王回复工单 #{number}：下午三点物业上门更换")
    ]
    t = load(group, number)
    assert t.first_response_at == said_at and t.feedback_at == said_at


async def test_resolve_asks_for_a_rating(group: Group) -> None:
    number = await group.report(LAMP)
    text = await group.say("小王", f"办结 #{number} 已更换灯泡")
    assert text.endswith("已办结：已更换灯泡。请对本次处理评价：回复 1 满意 / 2 基本满意 / 3 不满意")
    t = load(group, number)
    assert t.status is TicketStatus.RESOLVED and t.resolution_note == "已更换灯泡"


@pytest.mark.parametrize("how", ["mention list", "name only"])
async def test_transfer_to_another_gridworker(group: Group, how: str) -> None:
    number = await group.report(LAMP)
    extra = {"mentions": ["wx-li"]} if how == "mention list" else {}
    text = await group.say("小王", f"转派 #{number} @李四", **extra)
    assert text == f"工单 #{number} 已转派给李四处理。"
    with group.runtime.sessions() as s:
        assert name_of(s, ticket(s, number).assignee_id) == "李四"
    assert "转派对象不是本网格的网格员" in await group.say("李四", f"转派 #{number} @张阿姨")


async def test_suspend_pauses_and_resume_restarts(group: Group) -> None:
    number = await group.report(LAMP)
    await group.say("小王", f"接单 #{number}")
    assert await group.say("小王", f"挂起 #{number} 等物业报价") == f"工单 #{number} 暂时挂起：等物业报价"
    t = load(group, number)
    assert t.status is TicketStatus.SUSPENDED and t.suspended_at is not None
    assert await group.say("小王", f"恢复 #{number}") == f"工单 #{number} 已恢复处理。"
    assert load(group, number).status is TicketStatus.IN_PROGRESS


async def test_reject_closes_the_ticket_with_its_reason(group: Group) -> None:
    number = await group.report(LAMP)
    assert await group.say("小王", f"退回 #{number} 已由物业报修") == f"工单 #{number} 已退回：已由物业报修"
    assert load(group, number).status is TicketStatus.REJECTED


async def test_reclassify_keeps_the_correction_as_training_data(group: Group) -> None:
    number = await group.report(LAMP)
    assert (
        await group.say("小王", f"改类 #{number} 市政设施")
        == f"已将工单 #{number} 改为【市政设施】，谢谢纠正"
    )
    t = load(group, number)
    assert (t.category, t.category_label) == ("facilities", "市政设施")
    (event,) = events(group, number, "reclassify")
    assert event.data["from"] == {"kind": "incident", "category": "property"}
    assert event.data["to"] == {"kind": "incident", "category": "facilities"}
    assert event.data["text"] == t.text_masked
    assert "没有「外星人」这个类别" in await group.say("小王", f"改类 #{number} 外星人")


async def test_merge_moves_the_reporters_to_the_main_ticket(group: Group) -> None:
    main, dup = await group.report(LAMP), await group.report(TRASH, "刘师傅")
    text = await group.say("小王", f"合并 #{dup} #{main}")
    assert f"已将工单 #{dup} 合并到 #{main}" in text
    assert load(group, dup).status is TicketStatus.MERGED
    with group.runtime.sessions() as s:
        assert {name_of(s, r.person_id) for r in ticket(s, main).reporters} == {"张阿姨", "刘师傅"}


async def test_stats_counts_this_weeks_tickets(group: Group) -> None:
    first = await group.report(LAMP)
    await group.report(TRASH, "刘师傅")
    await group.say("小王", f"办结 #{first} 已修好")
    text = await group.say("小王", "统计")
    assert text.startswith("【五台山第一网格本周统计】")
    assert "受理 2 件，办结 1 件" in text


@pytest.mark.parametrize("ref", ["#{n}", "＃{n}", "＃ {n}", "{n}"])
async def test_full_and_half_width_ticket_references(group: Group, ref: str) -> None:
    number = await group.report(LAMP)
    wide = ref.format(n=str(number).translate(str.maketrans("0123456789", "０１２３４５６７８９")))
    await group.say("小王", f"接单 {wide if '＃' in ref else ref.format(n=number)}")
    assert load(group, number).status is TicketStatus.ACCEPTED


async def test_quote_reply_names_the_ticket(group: Group) -> None:
    number = await group.report(LAMP)
    quoted = f"@张阿姨 已收到您反映的【物业服务】问题，工单 #{number} 已转网格员小王"
    await group.say("小王", "接单", quote=quoted)
    assert load(group, number).status is TicketStatus.ACCEPTED


async def test_a_gridworkers_at_reply_is_the_first_response(group: Group) -> None:
    older, newer = await group.report(TRASH), await group.report(LAMP)
    said_at = group.clock.now + timedelta(minutes=1)  # a line's default time
    sent, _ = await group.play([{"name": "小王", "text": "@张阿姨 我下午过去看看", "mentions": ["wx-zhang"]}])
    assert sent == []  # an ordinary reply, not announced again
    assert load(group, newer).first_response_at == said_at
    assert load(group, older).first_response_at is None


async def test_a_resident_cannot_use_a_gridworker_command(group: Group) -> None:
    number = await group.report(LAMP)
    assert await group.say("张阿姨", f"接单 #{number}") == replies.NO_PERMISSION
    assert await group.say("张阿姨", f"办结 #{number} 我自己修好了") == replies.NO_PERMISSION
    assert load(group, number).status is TicketStatus.NEW


async def test_an_unknown_ticket_number(group: Group) -> None:
    assert await group.say("小王", "接单 #999") == "没有找到工单 #999，请核对编号"


@pytest.mark.parametrize(
    ("text", "usage"),
    [
        ("回复 #{n}", "回复 #工单号 内容"),
        ("接单", "接单 #工单号"),
        ("转派 #{n}", "转派 #工单号 @网格员"),
        ("合并 #{n}", "合并 #重复工单 #主工单"),
        ("挂起 #{n}", "挂起 #工单号 原因"),
    ],
)
async def test_a_malformed_command_gets_its_usage(group: Group, text: str, usage: str) -> None:
    number = await group.report(LAMP)
    answer = await group.say("小王", text.format(n=number))
    assert answer.startswith(f"格式不对。用法：{usage}（")
    assert load(group, number).status is TicketStatus.NEW
