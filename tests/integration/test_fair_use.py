"""Fair use under a flood: per-resident and per-room ticket limits, per-account and per-room send
budgets, and the reserved lane that urgent alerts and escalations always take."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.bot.sender import OutboxSender
from gridbot.handlers.types import OutgoingMessage
from gridbot.models.entities import Outbox, Ticket, TicketDupFeatures, TicketEvent
from gridbot.models.enums import OutboxKind, OutboxStatus
from gridbot.models.messaging import outbox as ob
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.models.settings import FairUseSettings, OutboxSettings
from gridbot.models.wording.residents import OVER_LIMIT as REPLY
from tests.integration.conftest import Group

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
T0 = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
PLACES = ["3栋", "5栋", "7栋", "9栋", "11栋", "北门", "南门", "车棚", "花园", "地库", "东门", "西门"]
PROBLEMS = ["楼道灯坏了", "垃圾没人清运", "单元门禁坏了打不开", "路灯不亮", "电梯困人了有人被关在里面"]


def reports(n: int) -> list[str]:
    """n distinct reports (distinct places, so none merges into another)."""
    return [f"{PLACES[i % len(PLACES)]}{PROBLEMS[i % len(PROBLEMS)]}，第{i}次反映" for i in range(n)]


async def test_one_resident_cannot_open_more_than_the_limit(group: Group) -> None:
    group.replay.conversation.fair_use = FairUseSettings(tickets_per_resident=3, tickets_per_room=100)
    sent, replay = await group.play(
        [{"id": f"f{i}", "name": "张阿姨", "text": t} for i, t in enumerate(reports(12))]
    )
    numbers = [replay.tickets[f"f{i}"] for i in range(12) if f"f{i}" in replay.tickets]
    with group.runtime.sessions() as s:
        opened = s.scalars(select(Ticket).order_by(Ticket.id)).all()
        assert len(opened) == 4  # three tickets, then one review item for everything after
        item = opened[-1]
        assert item.needs_review and not any(t.needs_review for t in opened[:-1])
        overflow = s.scalar(
            select(func.count()).where(TicketEvent.ticket_id == item.id, TicketEvent.action == "overflow")
        )
    # every report after the limit (those not merged into an earlier ticket) landed on the item
    assert overflow == numbers.count(item.id) >= 5
    polite = [m for m in sent if m.text == REPLY["resident"]]
    assert len(polite) == 1  # one reply per window, not one per report
    # an urgent report past the limit is reviewed by a person, it does not sound the alarm again
    alarms = [m for m in sent if m.text.startswith("【紧急】")]
    assert len(alarms) <= 1
    # another resident is not held by 张阿姨's limit
    sent, replay = await group.play([{"id": "other", "name": "刘师傅", "text": "12栋门口的消防栓漏水了"}])
    with group.runtime.sessions() as s:
        number = replay.tickets["other"]
        assert number != item.id
        assert (
            s.scalar(
                select(func.count()).where(TicketEvent.ticket_id == number, TicketEvent.action == "overflow")
            )
            == 0
        )
    assert not any(m.text in REPLY.values() for m in sent)


async def test_a_review_item_is_filed_with_its_duplicate_features(group: Group) -> None:
    group.replay.conversation.fair_use = FairUseSettings(tickets_per_resident=1, tickets_per_room=100)
    first, second = reports(2)
    await group.report(first)
    item = await group.report(second)  # past the limit: it opens the review item
    with group.runtime.sessions() as s:
        assert s.scalar(select(Ticket.needs_review).where(Ticket.id == item))
        stored = s.scalar(select(TicketDupFeatures.data).where(TicketDupFeatures.ticket_id == item))
    assert stored is not None  # the next report's duplicate check has nothing to compute and write


async def test_one_room_cannot_open_more_than_the_limit(group: Group) -> None:
    group.replay.conversation.fair_use = FairUseSettings(tickets_per_resident=100, tickets_per_room=4)
    rows = [{"id": f"r{i}", "name": f"居民{i}", "text": t} for i, t in enumerate(reports(8))]
    sent, _ = await group.play(rows)
    with group.runtime.sessions() as s:
        opened = s.scalar(select(func.count()).select_from(Ticket))
        items = s.scalar(
            select(func.count(func.distinct(TicketEvent.ticket_id))).where(TicketEvent.action == "overflow")
        )
    assert items is not None and items >= 2 and opened == 4 + items  # the limit, then one item per resident
    assert sum(m.text == REPLY["room"] for m in sent) == items  # each of them told once


class _Platform:
    def __init__(self) -> None:
        self.received: list[OutgoingMessage] = []

    async def send(self, message: OutgoingMessage) -> str | None:
        self.received.append(message)
        return f"wx-{len(self.received)}"


def _flood(sf: sessionmaker[Session]) -> None:
    with sf.begin() as s:
        for i in range(30):
            ob.enqueue(
                s, dedupe_key=f"a{i}", kind=OutboxKind.REPLY, text=f"回复{i}", now=T0, room_id="room-a"
            )
        for i in range(3):
            ob.enqueue(s, dedupe_key=f"b{i}", kind=OutboxKind.REPLY, text=f"乙{i}", now=T0, room_id="room-b")
        ob.enqueue(s, dedupe_key="alert", kind=OutboxKind.ALERT, text="【紧急】", now=T0, room_id="room-a")
        ob.enqueue(
            s, dedupe_key="esc", kind=OutboxKind.ESCALATION, text="升级", now=T0, recipient_platform_id="wx-l"
        )


async def _drain(sender: OutboxSender) -> None:
    while await sender.drain_once(limit=5):
        pass


async def test_a_flooded_room_spends_its_budget_not_everyones(session_factory: sessionmaker[Session]) -> None:
    _flood(session_factory)
    platform = _Platform()
    settings = OutboxSettings(min_interval_s=0, merge_window_s=0, daily_budget=1000, daily_budget_per_room=5)
    sender = OutboxSender(
        session_factory, platform, LocalCoordinator(), settings, lambda: T0 + timedelta(seconds=5)
    )
    await _drain(sender)
    texts = [line for m in platform.received for line in m.text.split("\n\n")]
    first_round = {line for m in platform.received[:2] for line in m.text.split("\n\n")}
    assert {"【紧急】", "升级"} <= first_round  # the lane is claimed first
    assert {f"乙{i}" for i in range(3)} <= set(texts)  # room B is not held by room A's flood
    with session_factory() as s:
        sent_a = s.scalar(
            select(func.count()).where(Outbox.room_id == "room-a", Outbox.status == OutboxStatus.SENT)
        )
        waiting = s.scalar(select(func.count()).where(Outbox.status == OutboxStatus.PENDING))
    assert sent_a is not None and 5 <= sent_a <= 10  # the budget (and the alert on top) before it holds
    assert waiting == 31 - sent_a


async def test_a_spent_account_still_sends_alerts_and_escalations(
    session_factory: sessionmaker[Session],
) -> None:
    _flood(session_factory)
    platform = _Platform()
    settings = OutboxSettings(min_interval_s=0, merge_window_s=0, daily_budget=0, daily_budget_per_room=1000)
    sender = OutboxSender(
        session_factory, platform, LocalCoordinator(), settings, lambda: T0 + timedelta(seconds=5)
    )
    await _drain(sender)
    assert sorted(m.text for m in platform.received) == ["【紧急】", "升级"]
