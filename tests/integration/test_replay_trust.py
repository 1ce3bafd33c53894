"""Replay: trusted in a real group — right ticket, right room, no false alarms, nothing lost (issue 13).

Each test is a group transcript: residents and staff speak, the bot's answers are asserted as the
group (or the person, privately) would read them. Two groups bound to one grid and a resident in
two grids are set up by an administrator's 绑定 in the other rooms.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gridbot.handlers.types import OutgoingMessage
from gridbot.models.entities import Rating, Ticket, TicketEvent
from gridbot.models.enums import DeadlineKind, Priority, TicketSource, TicketStatus
from gridbot.nlp.classifier import Classification
from tests.integration.conftest import ROOM, Group, ticket

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

LAMP = "3栋2单元楼道灯又坏了，晚上黑灯瞎火的"
ROOM2 = "second-room@chatroom"  # a second group of the same grid
OTHER = "other-grid-room@chatroom"  # a group of another grid (WTS-02)


async def bind(group: Group, room: str, code: str) -> None:
    """The community administrator binds `room` to grid `code`."""
    said = await group.say("孙主任", f"绑定 {code}", room=room)
    assert "本群已绑定到" in said, said


async def resolved(group: Group, text: str = LAMP, name: str = "张阿姨", room: str = ROOM) -> int:
    """A report by `name`, resolved by 小王; returns its number."""
    _, replay = await group.play([{"id": f"r{group.fed}", "name": name, "text": text, "room": room}])
    number = replay.tickets[f"r{group.fed - 1}"]
    await group.say("小王", f"办结 #{number} 已处理", room=room)
    return number


def rendered(group: Group, sent: list[OutgoingMessage]) -> list[str]:
    return [group.render(m) for m in sent]


# ---- 1. ratings only when they are ratings -------------------------------------------------------


async def test_a_score_followed_by_a_new_report_files_the_report(group: Group) -> None:
    number = await resolved(group)
    sent, replay = await group.play(
        [{"id": "new", "name": "张阿姨", "text": "3，4号楼中间的路灯坏了好几天了"}]
    )
    texts = rendered(group, sent)
    assert "new" in replay.tickets and replay.tickets["new"] != number  # the report is filed
    assert any("已收到您反映的" in t for t in texts)
    assert any(f"如需评价工单 #{number}，请单独回复" in t for t in texts)
    with group.runtime.sessions() as s:
        assert ticket(s, number).status is TicketStatus.RESOLVED  # not reopened as 不满意
        assert s.scalar(select(func.count()).select_from(Rating)) == 0


async def test_a_remark_after_the_score_about_the_same_problem_is_a_rating(group: Group) -> None:
    number = await resolved(group)
    await group.say("张阿姨", "3 楼道灯还是不亮")
    with group.runtime.sessions() as s:
        assert ticket(s, number).status is TicketStatus.IN_PROGRESS  # 不满意 → 重办
        assert s.scalars(select(Rating.comment)).one() == "楼道灯还是不亮"


async def test_a_score_in_another_grids_group_rates_nothing_there(group: Group) -> None:
    await bind(group, OTHER, "WTS-02")
    number = await resolved(group)  # in the first grid's group
    sent, _ = await group.play([{"name": "张阿姨", "text": "1", "room": OTHER}])
    assert not any("感谢您的评价" in m.text for m in sent)
    with group.runtime.sessions() as s:
        assert ticket(s, number).status is TicketStatus.RESOLVED
    assert "感谢您的评价！工单" in await group.say("张阿姨", "1")  # in its own grid's group it counts


async def test_a_bare_score_with_two_tickets_waiting_asks_which(group: Group) -> None:
    first = await resolved(group)
    second = await resolved(group, "小区东门的垃圾桶满了好几天没人清理，太臭了")
    said = await group.say("张阿姨", "1")
    assert "您有 2 张工单待评价" in said and f"「1 #{second}」" in said
    assert f"感谢您的评价！工单 #{first} 已完结" in await group.say("张阿姨", f"1 #{first}")


# ---- 2. duplicates and follow-ups -------------------------------------------------------------


async def test_the_next_building_is_not_the_same_problem(group: Group) -> None:
    a = await group.report("9号楼楼道灯坏了")
    b = await group.report("8号楼楼道灯坏了", "刘师傅")
    assert a != b


async def test_the_same_building_minutes_later_is_merged(group: Group) -> None:
    a = await group.report("2栋楼顶漏水，顶楼家里墙都湿了")
    sent, replay = await group.play([{"id": "dup", "name": "刘师傅", "text": "2栋顶楼天花板漏水了"}])
    assert replay.tickets["dup"] == a  # joined, not filed
    assert f"与工单 #{a}" in sent[-1].text


async def test_a_reporter_chasing_her_report_gets_its_status_not_a_second_ticket(group: Group) -> None:
    number = await group.report(LAMP)
    said = await group.say("张阿姨", "早上说的楼道灯怎么还没人来修啊")
    assert f"（工单 #{number}）当前状态：待受理" in said and "已为您催办" in said
    with group.runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1
        assert s.scalar(select(func.count()).where(TicketEvent.action == "urge")) == 1


# ---- 3. urgency with a human in the loop ----------------------------------------------------------


class UnsureUrgent:
    """A classifier double: an urgent safety incident it is not sure about."""

    manifest: dict[str, str] = {"backend": "stub"}

    def classify(self, text: str) -> Classification:
        return Classification("incident", "safety", "urgent", 0.51, (("safety", 0.51),), True)


async def test_an_unsure_urgent_guess_alerts_staff_privately_first(group: Group) -> None:
    conversation = group.replay.conversation
    real = conversation.classifier
    conversation.classifier = UnsureUrgent
    sent, _ = await group.play([{"name": "张阿姨", "text": "楼上暖气片漏水了，3栋2单元502"}])
    conversation.classifier = real
    in_group = [m for m in sent if m.room_id]
    private = {m.to_contact_id: m.text for m in sent if m.to_contact_id}
    assert rendered(group, in_group) == ["@张阿姨 收到，已转网格员核实，请稍候"]  # no alarm in public
    assert {"wx-wang", "wx-li", "wx-chen"} <= set(private)
    assert "【疑似紧急·待核实】" in private["wx-wang"] and "改级" in private["wx-wang"]
    with group.runtime.sessions() as s:
        t = s.scalars(select(Ticket)).one()
        number = t.id
    said = await group.say("小王", f"改级 #{number} 普通")
    assert f"已将工单 #{number} 改为【普通】" in said
    with group.runtime.sessions() as s:
        t = ticket(s, number)
        assert (t.priority, t.needs_review) == (Priority.NORMAL, False)
        due = {d.kind: d.due_at - d.started_at for d in t.deadlines}
        assert DeadlineKind.FEEDBACK in due  # the normal rule's clocks


async def test_confirming_an_urgent_guess_alarms_the_group(group: Group) -> None:
    conversation = group.replay.conversation
    real = conversation.classifier
    conversation.classifier = UnsureUrgent
    await group.play([{"name": "张阿姨", "text": "5栋楼道里有烟味"}])
    conversation.classifier = real
    with group.runtime.sessions() as s:
        number = s.scalars(select(Ticket.id)).one()
    sent, _ = await group.play([{"name": "小王", "text": f"改级 #{number} 紧急"}])
    # replies to one room within a second go out as one message
    said = "\n".join(m.text for m in sent)
    assert "已收到您反映的【治安消防】问题" in said and "【紧急】工单" in said
    assert {"wx-zhang", "wx-wang", "wx-chen"} <= {i for m in sent for i in m.mention_ids}


async def test_a_mistyped_merge_asks_first_keeps_urgency_and_can_be_undone(group: Group) -> None:
    fire = await group.report("5栋楼下着火了，冒烟了，快来人")
    trash = await group.report("小区东门的垃圾桶满了好几天没人清理，太臭了", "刘师傅")
    said = await group.say("小王", f"合并 #{fire} #{trash}")
    assert "确认合并请发送" in said
    await group.say("小王", f"合并 #{fire} #{trash} 确认")
    with group.runtime.sessions() as s:
        assert ticket(s, trash).priority is Priority.URGENT  # the urgency is not lost
    said = await group.say("小王", f"撤销合并 #{fire}")
    assert f"已撤销合并：工单 #{fire} 从 #{trash} 中分出" in said
    with group.runtime.sessions() as s:
        assert ticket(s, fire).status is TicketStatus.NEW
        assert ticket(s, trash).priority is Priority.NORMAL
        assert {r.person_id for r in ticket(s, trash).reporters} == {ticket(s, trash).reporter_id}


# ---- 4. acknowledge people ------------------------------------------------------------------------


async def test_addressing_the_bot_gets_an_answer(group: Group) -> None:
    said = await group.say("张阿姨", "你好", mentions_bot=True)
    assert said.startswith("您好！我是本网格的社区助手") and "直接在群里说明情况和位置" in said


async def test_a_private_message_is_answered_privately(group: Group) -> None:
    sent, _ = await group.play([{"name": "张阿姨", "text": "你好，我家楼道灯坏了", "room": ""}])
    assert [(m.to_contact_id, m.room_id) for m in sent] == [("wx-zhang", None)]
    assert "请到您所在的网格群里" in sent[0].text


# ---- 5. right ticket, right room ----------------------------------------------------------------


async def test_notices_go_to_the_room_where_the_ticket_was_reported(group: Group) -> None:
    await bind(group, ROOM2, "WTS-01")  # a second group of the same grid
    _, replay = await group.play([{"id": "r2", "name": "刘师傅", "text": LAMP, "room": ROOM2}])
    number = replay.tickets["r2"]
    sent, _ = await group.play([{"name": "小王", "text": f"接单 #{number}"}])  # said in the first room
    notice = [m for m in sent if "已由网格员小王受理" in m.text]
    assert [m.room_id for m in notice] == [ROOM2]


# ---- 6. staff in the group ----------------------------------------------------------------------


async def test_a_patrol_finding_is_filed_and_counted_apart(group: Group) -> None:
    said = await group.say("小王", "上报 6栋前面绿化带有人私自种菜")
    assert "已登记巡查发现：工单 #" in said
    with group.runtime.sessions() as s:
        t = s.scalars(select(Ticket)).one()
        assert (t.source, t.assignee_id is not None) == (TicketSource.PATROL, True)
    assert "其中主动发现 1 件" in await group.say("小王", "统计")
    assert "格式不对" in await group.say("小王", "上报")


async def test_the_work_list_goes_privately_and_is_paged(group: Group) -> None:
    for i in range(12):
        await group.report(f"{i + 1}栋楼道灯坏了", name=f"居民{i}")
    sent, _ = await group.play([{"name": "小王", "text": "工单"}])
    private = [m for m in sent if m.to_contact_id == "wx-wang"]
    public = [m for m in sent if m.room_id]
    assert len(private) == 1 and "还有 2 张，发送「工单 2」查看下一页" in private[0].text
    assert [m.text for m in public] == ["待办工单清单已私信发给您"]
    sent, _ = await group.play([{"name": "小王", "text": "工单 2"}])
    assert "（第2页，共12张）" in next(m.text for m in sent if m.to_contact_id)


async def test_stats_never_count_a_deadline_not_yet_due(group: Group) -> None:
    number = await group.report("5栋楼下着火了，冒烟了，快来人")  # urgent: resolution due in 4 h, today
    await group.say("小王", f"接单 #{number}")
    said = await group.say("小王", "统计")
    assert "超时 0 件" in said  # evaluated now, not at the end of the day


# ---- 10. wording ------------------------------------------------------------------------------


async def test_a_refusal_says_what_to_do_instead(group: Group) -> None:
    number = await group.report(LAMP)
    said = await group.say("小王", f"挂起 #{number} 等配件")
    assert said == f"工单 #{number} 当前状态为「待受理」，不能执行「挂起」，请先「接单 #{number}」"
