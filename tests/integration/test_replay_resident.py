"""Replay: residents' reports, chatter, duplicates, low confidence, urgent cases and ratings."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from gridbot.bot.app import Runtime
from gridbot.handlers.types import OutgoingMessage
from gridbot.models.entities import Message, Rating, Ticket, TicketEvent
from gridbot.models.enums import MessageStatus, Priority, RatingScore, TicketStatus
from gridbot.nlp.classifier import Classification
from tests.integration.conftest import Group, Play, inbound, name_of, ticket

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

LAMP = "3栋2单元楼道灯又坏了，晚上黑灯瞎火的"
LAMP_AGAIN = "3栋2单元的楼道灯坏了好几天了，晚上太黑了"  # same place, other words


def number_in(message: OutgoingMessage) -> int:
    """The ticket number a bot message names."""
    m = re.search(r"#(\d+)", message.text)
    assert m is not None, message.text
    return int(m.group(1))


async def test_a_report_becomes_a_ticket_and_the_resident_is_told(play: Play, group: Group) -> None:
    sent, replay = await play([{"id": "m1", "name": "张阿姨", "text": LAMP}])
    assert len(sent) == 1
    number = replay.tickets["m1"]
    assert re.fullmatch(
        rf"@张阿姨 已收到您反映的【物业服务】问题，工单 #{number} 已转网格员小王，预计1小时内响应",
        group.render(sent[0]),
    )
    with group.runtime.sessions() as s:
        t = ticket(s, number)
        assert (t.status, t.category, t.text, t.needs_review) == (TicketStatus.NEW, "property", LAMP, False)
        assert (name_of(s, t.assignee_id), name_of(s, t.reporter_id)) == ("小王", "张阿姨")
        assert inbound(s, LAMP).ticket_id == number


async def test_chatter_gets_no_reply_and_is_stored_with_its_classification(play: Play, group: Group) -> None:
    sent, _ = await play([{"name": "刘师傅", "text": "今天天气不错"}, {"name": "张阿姨", "text": "收到"}])
    assert sent == []
    with group.runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0
        for text in ("今天天气不错", "收到"):
            m = inbound(s, text)
            assert m.status is MessageStatus.PROCESSED
            assert (m.kind, m.category) == ("chatter", None)
            assert m.classification is not None and m.classification["confidence"] > 0.5


async def test_a_duplicate_report_joins_the_open_ticket(play: Play, group: Group) -> None:
    sent, replay = await play(
        [{"id": "m1", "name": "张阿姨", "text": LAMP}, {"id": "m2", "name": "刘师傅", "text": LAMP_AGAIN}]
    )
    number = replay.tickets["m1"]
    assert replay.tickets["m2"] == number  # no second ticket
    assert group.render(sent[-1]).startswith(
        f"@刘师傅 您反映的问题与工单 #{number}（物业服务）相同，已合并处理"
    )
    with group.runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1
        assert {name_of(s, r.person_id) for r in ticket(s, number).reporters} == {"张阿姨", "刘师傅"}
        assert inbound(s, LAMP_AGAIN).ticket_id == number
    # progress reaches both reporters
    sent, _ = await play([{"name": "小王", "text": f"接单 #{number}"}])
    assert set(sent[0].mention_ids) == {"wx-zhang", "wx-liu"}


async def test_a_similar_report_elsewhere_is_a_new_ticket(play: Play, group: Group) -> None:
    _, replay = await play(
        [
            {"id": "m1", "name": "张阿姨", "text": LAMP},
            {"id": "m2", "name": "刘师傅", "text": "7栋1单元楼道灯坏了，晚上黑灯瞎火的"},
        ]
    )
    assert replay.tickets["m1"] != replay.tickets["m2"]


class LowConfidence:
    """A classifier double: everything is a property incident it is not sure about."""

    manifest: dict[str, str] = {"backend": "stub"}

    def classify(self, text: str) -> Classification:
        return Classification("incident", "property", "normal", 0.41, (("property", 0.41),), True)


async def test_low_confidence_goes_to_the_review_list_without_a_public_reply(
    play: Play, group: Group, runtime: Runtime
) -> None:
    conversation = group.replay.conversation
    real = conversation.classifier
    conversation.classifier = LowConfidence
    sent, _ = await play([{"name": "张阿姨", "text": "那个东西好像又不太对劲了"}])
    assert sent == []
    with runtime.sessions() as s:
        t = s.scalars(select(Ticket)).one()
        assert t.needs_review and t.confidence == pytest.approx(0.41)
        number = t.id
    conversation.classifier = real
    sent, _ = await play([{"name": "小王", "text": "工单"}])
    assert f"#{number} 【待确认】物业服务" in sent[0].text
    # accepting it confirms it: it leaves the review queue
    await play([{"name": "小王", "text": f"接单 #{number}"}])
    with runtime.sessions() as s:
        assert not ticket(s, number).needs_review


async def test_urgent_report_alarms_the_gridworker_and_the_grid_leader_at_once(
    play: Play, group: Group
) -> None:
    sent, replay = await play([{"id": "m1", "name": "张阿姨", "text": "5栋楼下着火了，冒烟了，快来人"}])
    number = replay.tickets["m1"]
    alarm = [m for m in sent if "【紧急】" in m.text]
    assert len(alarm) == 1
    assert {"wx-wang", "wx-chen"} <= set(alarm[0].mention_ids)
    assert f"工单 #{number}【治安消防】" in alarm[0].text
    assert replay.transport.sent[-1][0] - replay.clock.now <= timedelta(seconds=5)  # at once
    with group.runtime.sessions() as s:
        assert ticket(s, number).priority is Priority.URGENT


@pytest.mark.parametrize(
    ("answer", "score", "status", "cycle"),
    [
        ("1", RatingScore.SATISFIED, TicketStatus.CLOSED, 0),
        ("2", RatingScore.BASICALLY_SATISFIED, TicketStatus.CLOSED, 0),
        ("3", RatingScore.UNSATISFIED, TicketStatus.IN_PROGRESS, 1),
    ],
)
async def test_rating_after_resolution(
    play: Play, group: Group, answer: str, score: RatingScore, status: TicketStatus, cycle: int
) -> None:
    _, replay = await play([{"id": "m1", "name": "张阿姨", "text": LAMP}])
    number = replay.tickets["m1"]
    sent, _ = await play([{"name": "小王", "text": f"办结 #{number} 已换灯泡"}])
    assert "已办结：已换灯泡。请对本次处理评价：回复 1 满意 / 2 基本满意 / 3 不满意" in sent[0].text
    assert sent[0].mention_ids == ("wx-zhang",)
    replay.sweep_every = timedelta(hours=1)  # fewer sweeps over two simulated days
    sent, _ = await play([{"name": "张阿姨", "text": answer, "t": replay.clock.now + timedelta(hours=47)}])
    expected = "已重新办理（重办）" if answer == "3" else f"感谢您的评价！工单 #{number} 已完结"
    assert expected in sent[-1].text
    with group.runtime.sessions() as s:
        t = ticket(s, number)
        assert (t.status, t.cycle) == (status, cycle)
        assert s.scalars(select(Rating.score).where(Rating.ticket_id == number)).one() is score
        if answer == "3":
            reopen = s.scalars(select(TicketEvent).where(TicketEvent.action == "reopen")).one()
            assert reopen.note == "居民评价不满意"


async def test_a_rating_after_48_hours_is_not_taken(play: Play, group: Group) -> None:
    _, replay = await play([{"id": "m1", "name": "张阿姨", "text": LAMP}])
    number = replay.tickets["m1"]
    await play([{"name": "小王", "text": f"办结 #{number} 已换灯泡"}])
    replay.sweep_every = timedelta(hours=1)  # fewer sweeps over two simulated days
    sent, _ = await play([{"name": "张阿姨", "text": "3", "t": replay.clock.now + timedelta(hours=49)}])
    assert not any("重办" in m.text or "感谢您的评价" in m.text for m in sent)
    with group.runtime.sessions() as s:
        t = ticket(s, number)
        assert (t.status, t.cycle) == (TicketStatus.CLOSED, 0)  # closed unrated by the sweep
        assert s.scalar(select(func.count()).select_from(Rating)) == 0


async def test_another_residents_number_is_not_a_rating(play: Play, group: Group) -> None:
    _, replay = await play([{"id": "m1", "name": "张阿姨", "text": LAMP}])
    number = replay.tickets["m1"]
    await play([{"name": "小王", "text": f"办结 #{number} 已换灯泡"}])
    sent, _ = await play([{"name": "刘师傅", "text": "3"}])
    assert sent == []
    with group.runtime.sessions() as s:
        assert ticket(s, number).status is TicketStatus.RESOLVED


async def test_an_unbound_room_is_ignored(play: Play, group: Group) -> None:
    sent, _ = await play([{"name": "张阿姨", "text": LAMP, "room": "stranger-room@chatroom"}])
    assert sent == []
    with group.runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 0
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0
