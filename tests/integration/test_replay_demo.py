"""The shipped demo day (bot/data/demo_day.jsonl) through the whole pipeline, as `gridbot demo` runs it."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from gridbot.bot.app import Runtime
from gridbot.bot.demo import DEMO_TRANSCRIPT, run_demo
from gridbot.bot.replay import SimClock, read_transcript
from gridbot.models.entities import Message, Rating, ReminderLog, Ticket, TicketReporter
from gridbot.models.enums import STATUS_LABELS, MessageDirection, MessageStatus, Priority

pytestmark = [pytest.mark.integration, pytest.mark.anyio, pytest.mark.slow]


async def test_the_shipped_demo_day_runs_and_its_summary_matches_the_database(
    runtime: Runtime, clock: SimClock
) -> None:
    lines = read_transcript(DEMO_TRANSCRIPT)
    assert len(lines) >= 150
    clock.now = lines[0].at
    printed: list[str] = []
    summary = await run_demo(runtime, clock, lines, printed.append, timedelta(hours=3))
    said = "\n".join(p for p in printed if "🤖" in p)
    with runtime.sessions() as s:
        inbound = Counter(
            s.scalars(select(Message.status).where(Message.direction == MessageDirection.INBOUND))
        )
        assert inbound == {MessageStatus.PROCESSED: len(lines)}  # nothing failed, nothing pending
        tickets = s.scalars(select(Ticket)).all()
        assert len(tickets) >= 5
        for t in tickets:  # every ticket was announced with its number, but those awaiting review
            # (a neutral receipt without a number or a promise while a gridworker checks it)
            assert (f"#{t.id}" in said) is not t.needs_review
        assert "收到，已转网格员核实，请稍候" in said or not any(t.needs_review for t in tickets)
        assert any(t.priority is Priority.URGENT for t in tickets) and "【紧急】" in said
        merged = s.scalar(
            select(func.count()).select_from(
                select(TicketReporter.ticket_id)
                .group_by(TicketReporter.ticket_id)
                .having(func.count() > 1)
                .subquery()
            )
        )
        assert merged and "已合并处理" in said
        assert s.scalar(select(func.count()).select_from(Rating))
        assert s.scalar(select(func.count()).select_from(ReminderLog)) and "【超时督办】" in said
        states = Counter(t.status for t in tickets)
    assert "===== 今日小结 =====" in summary
    for status, n in states.items():
        assert f"{STATUS_LABELS[status]} {n}" in summary
