"""Replay: the neighbours' talk around an emergency (「打119了吗」「消防在路上」) joins its ticket.

A real group day showed each such remark become a 待确认 ticket with a private 疑似紧急 alarm and a
督办 chain up to the street. The classifier is doubled here so each remark reaches intake the way the
shipped model sends those words: a danger word in what it reads as chatter (review), or unsure.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from gridbot.models.entities import Message, Ticket, TicketEvent
from gridbot.models.enums import Priority
from gridbot.models.tickets.service import THREAD
from gridbot.nlp.base import REVIEW_LIVE_CUE
from gridbot.nlp.classifier import Classification
from tests.integration.conftest import Group, ticket

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

FIRE = "5栋楼下着火了，冒烟了，快来人"


class Remark:
    """A classifier double: a danger word the text model reads as chatter (or an unsure guess)."""

    manifest: dict[str, str] = {"backend": "stub"}

    def __init__(self, category: str = "safety", reason: str = REVIEW_LIVE_CUE) -> None:
        self.category, self.reason = category, reason

    def classify(self, text: str) -> Classification:
        return Classification(
            "incident", self.category, "urgent", 0.03, (("chatter", 0.8),), True, ("call_for_help",),
            review_reason=self.reason,
        )  # fmt: skip


async def remarks(group: Group, double: Remark, *rows: dict[str, object]) -> list[str]:
    """Play `rows` with the double classifying; what the bot sent, rendered."""
    conversation = group.replay.conversation
    real = conversation.classifier
    conversation.classifier = lambda: double
    try:
        sent, _ = await group.play(list(rows))
    finally:
        conversation.classifier = real
    return [group.render(m) for m in sent]


def count_tickets(group: Group) -> int:
    with group.runtime.sessions() as s:
        return s.scalar(select(func.count()).select_from(Ticket)) or 0


async def test_remarks_after_a_fire_report_join_its_ticket_silently(group: Group) -> None:
    number = await group.report(FIRE)
    with group.runtime.sessions() as s:
        assert ticket(s, number).priority is Priority.URGENT
    said = await remarks(
        group,
        Remark(),
        {"name": "刘师傅", "text": "打119了吗"},
        {"name": "张阿姨", "text": "打了打了 消防在路上"},
    )
    assert said == []  # no receipt, no 疑似紧急, nothing in front of everyone
    assert count_tickets(group) == 1
    with group.runtime.sessions() as s:
        linked = s.scalars(
            select(Message.ticket_id).where(Message.text.in_(["打119了吗", "打了打了 消防在路上"]))
        )
        assert list(linked) == [number, number]
        trail = s.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == number)).all()
        assert trail.count(THREAD) == 2


async def test_an_unsure_remark_of_the_same_danger_joins_too(group: Group) -> None:
    number = await group.report(FIRE)
    said = await remarks(
        group, Remark(reason="low_confidence"), {"name": "赵大爷", "text": "火好大 大家别下楼"}
    )
    assert said == [] and count_tickets(group) == 1
    with group.runtime.sessions() as s:
        assert s.scalar(select(Message.ticket_id).where(Message.text == "火好大 大家别下楼")) == number


async def test_a_second_place_is_a_second_emergency(group: Group) -> None:
    await group.report(FIRE)
    said = await remarks(group, Remark(), {"name": "刘师傅", "text": "8栋也有烟 闻着像着火了"})
    assert count_tickets(group) == 2  # another building: never swallowed by the first fire
    assert any("收到，已转网格员核实" in t for t in said)


async def test_an_unsure_report_of_something_else_is_filed(group: Group) -> None:
    await group.report(FIRE)
    await remarks(group, Remark("facilities", "low_confidence"), {"name": "张阿姨", "text": "电梯好像停了"})
    assert count_tickets(group) == 2


async def test_after_the_hour_a_danger_word_is_checked_again(group: Group) -> None:
    await group.report(FIRE)
    said = await remarks(
        group, Remark(), {"name": "刘师傅", "text": "快打119", "t": group.clock.now + timedelta(minutes=75)}
    )
    assert count_tickets(group) == 2 and any("收到，已转网格员核实" in t for t in said)
