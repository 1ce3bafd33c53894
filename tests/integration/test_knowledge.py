"""Answers to questions (咨询): a question answered from the knowledge base (first response, rated
like a ticket), an unsure one filed as before, 人工 escalating, and 答 … 存为常见问题 teaching it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from gridbot.models import knowledge
from gridbot.models.entities import KnowledgeAnswer, KnowledgeEntry, Ticket
from gridbot.models.entities.knowledge import EntryStatus
from gridbot.models.enums import TicketStatus
from gridbot.models.org.tokens import find_region
from tests.integration.conftest import Group

pytestmark = [pytest.mark.anyio, pytest.mark.integration]
SAMPLE = Path(__file__).resolve().parents[2] / "nlp" / "data" / "faq" / "sample_kb.yaml"


def load_sample(group: Group) -> None:
    code, entries = knowledge.read_file(SAMPLE)
    with group.runtime.sessions.begin() as session:
        knowledge.import_entries(session, find_region(session, code), entries, datetime.now(UTC))


async def test_answered_rated_escalated_and_unsure_filed(group: Group) -> None:
    load_sample(group)
    reply = await group.say("张阿姨", "请问开居住证明要带啥材料？")
    assert "带本人身份证和房产证或租房合同" in reply
    assert "来源：五台山社区居委会" in reply and "没解决请回复「人工」" in reply
    with group.runtime.sessions() as session:
        (answered,) = session.scalars(select(KnowledgeAnswer)).all()
        ticket = session.get(Ticket, answered.ticket_id)
        assert ticket is not None and ticket.status is TicketStatus.RESOLVED
        assert ticket.first_response_at is not None  # the answer is the first response
        number = ticket.id
    assert "感谢您的评价" in await group.say("张阿姨", "1")  # rated like any ticket
    with group.runtime.sessions() as session:
        assert session.get(Ticket, number).status is TicketStatus.CLOSED  # type: ignore[union-attr]

    # 人工: the answer did not help → reopened for the gridworker, who is @-mentioned
    reply = await group.say("刘师傅", "老年卡怎么办理")
    assert "老年优待证" in reply
    sent, _ = await group.play([{"name": "刘师傅", "text": "人工"}])
    assert any("已转网格员小王人工跟进" in m.text and "wx-wang" in m.mention_ids for m in sent), sent
    with group.runtime.sessions() as session:
        t = session.scalars(select(Ticket).where(Ticket.text == "老年卡怎么办理")).one()
        assert t.status is TicketStatus.IN_PROGRESS and t.cycle == 1

    # an unsure match (狂犬疫苗: the base knows only 流感疫苗) is filed as before, not answered
    n = await group.report("狂犬疫苗去哪里打")
    with group.runtime.sessions() as session:
        t = session.get(Ticket, n)
        assert t is not None and t.status is TicketStatus.NEW and t.resolved_at is None
        assert session.scalar(select(KnowledgeAnswer).where(KnowledgeAnswer.ticket_id == n)) is None

    # the gridworker answers and teaches: the entry waits for review, then answers the next asker
    reply = await group.say("小王", f"答 #{n} 社区不打狂犬疫苗，请到鼓楼区疾控中心犬伤门诊 存为常见问题")
    assert "已存为待审核的常见问题" in reply
    with group.runtime.sessions.begin() as session:
        (entry,) = session.scalars(select(KnowledgeEntry).where(KnowledgeEntry.key == f"ticket-{n}")).all()
        assert entry.status is EntryStatus.PENDING_REVIEW and entry.answer.endswith("犬伤门诊")
    assert "犬伤门诊" not in await group.say("赵大爷", "狂犬疫苗在哪里打？")  # not before review
    with group.runtime.sessions.begin() as session:
        knowledge.approve(session, entry.id, datetime.now(UTC))
    assert "犬伤门诊" in await group.say("赵大爷", "请问狂犬疫苗去哪打")


async def test_without_a_knowledge_base_questions_are_filed_as_before(group: Group) -> None:
    n = await group.report("请问开居住证明要带啥材料？")
    with group.runtime.sessions() as session:
        assert session.get(Ticket, n).status is TicketStatus.NEW  # type: ignore[union-attr]
    assert "格式不对" in await group.say("小王", "答 #1")
