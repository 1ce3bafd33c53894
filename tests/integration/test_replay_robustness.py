"""Replay: a crash in a handler, redelivery, oversized and binary input, and recovery after a restart."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from gridbot.bot.app import Runtime
from gridbot.bot.replay import Replay, ReplayTransport, SimClock
from gridbot.handlers import commands, intake, replies
from gridbot.handlers.conversation import MAX_RECOVERIES, Conversation
from gridbot.handlers.types import IncomingMessage
from gridbot.models.entities import Message, Ticket
from gridbot.models.enums import MessageDirection, MessageStatus
from gridbot.models.messaging.coordination import LocalCoordinator
from tests.integration.conftest import ROOM, Group, inbound

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

LAMP = "3栋2单元楼道灯又坏了，晚上黑灯瞎火的"
PHONE = "13812345678"


def crash(*_args: object) -> None:
    raise RuntimeError("simulated handler bug")


async def test_a_crashing_command_does_not_stop_the_next_message(
    group: Group, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(commands.COMMANDS, "统计", replace(commands.COMMANDS["统计"], run=crash))
    with caplog.at_level(logging.ERROR):
        sent, replay = await group.play(
            [{"name": "小王", "text": "统计"}, {"id": "after", "name": "张阿姨", "text": LAMP}]
        )
    assert [(m.mention_ids, m.text) for m in sent[:1]] == [(("wx-wang",), replies.APOLOGY)]
    assert "已收到您反映的【物业服务】问题" in sent[1].text  # the next message went through
    with group.runtime.sessions() as s:
        assert inbound(s, "统计").status is MessageStatus.FAILED
        assert inbound(s, LAMP).status is MessageStatus.PROCESSED and "after" in replay.tickets
    (record,) = [r for r in caplog.records if r.exc_info]
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)


async def test_a_crash_on_a_residents_message_logs_no_resident_text(
    group: Group, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(intake, "file_report", crash)
    text = f"3栋2单元楼道灯坏了，我电话{PHONE}，麻烦来看看"
    with caplog.at_level(logging.DEBUG):
        sent, _ = await group.play([{"name": "张阿姨", "text": text}])
    assert [m.text for m in sent] == [replies.APOLOGY] and sent[0].mention_ids == ("wx-zhang",)
    assert "simulated handler bug" in caplog.text and "Traceback" in caplog.text
    assert PHONE not in caplog.text and "楼道灯" not in caplog.text
    with group.runtime.sessions() as s:
        assert inbound(s, text).status is MessageStatus.FAILED
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0  # rolled back with the failure


async def test_a_redelivered_message_is_processed_once(group: Group, runtime: Runtime) -> None:
    msg = IncomingMessage("wx-msg-1", ROOM, "wx-zhang", "张阿姨", LAMP, group.clock.now)
    conversation = group.replay.conversation
    assert (await conversation.handle(msg)).status == "ticket"
    assert (await conversation.handle(msg)).status == "duplicate"
    # after a restart the in-memory fast path is empty: the UNIQUE platform id still holds
    restarted = replace(runtime, coordinator=LocalCoordinator(clock=group.clock.seconds))
    assert (await restarted.conversation(group.clock).handle(msg)).status == "duplicate"
    await group.replay.drain()
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1
        assert s.scalar(select(func.count()).where(Message.platform_id == "wx-msg-1")) == 1
    filed = [m for _, m in group.replay.transport.sent if "已收到您反映的" in m.text]
    assert len(filed) == 1


@pytest.mark.parametrize(
    "text",
    [
        "楼道灯坏了" * 20_000,  # 100 kB of text
        "\x00\x01\x02\x1b[31m\ufffd\udcff灯\x7f" + "\u202e" * 10,
        "回复 #1 " + "很长" * 50_000,
    ],
    ids=["oversized", "control-characters", "oversized-command"],
)
async def test_hostile_input_is_handled_and_the_next_message_still_works(group: Group, text: str) -> None:
    sent, replay = await group.play(
        [{"name": "张阿姨", "text": text}, {"id": "after", "name": "刘师傅", "text": LAMP}]
    )
    assert replies.APOLOGY not in [m.text for m in sent]
    assert "after" in replay.tickets
    with group.runtime.sessions() as s:
        stored = s.scalars(select(Message).where(Message.direction == MessageDirection.INBOUND)).all()
        first = [m for m in stored if m.text != LAMP]
        assert len(first) == 1 and first[0].status is MessageStatus.PROCESSED
        assert first[0].text is not None and len(first[0].text) <= 20_000


async def test_recover_pending_finishes_a_message_stored_but_never_routed(
    group: Group, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation = group.replay.conversation

    def die_after_persist(msg: IncomingMessage, message_id: int, *_: object) -> None:
        raise SystemExit("process killed")  # not caught by the error boundary: a real crash

    monkeypatch.setattr(conversation, "_route", die_after_persist)
    msg = IncomingMessage("wx-msg-2", ROOM, "wx-zhang", "张阿姨", LAMP, group.clock.now)
    with pytest.raises(SystemExit):
        conversation.process(msg)
    with runtime.sessions() as s:
        assert inbound(s, LAMP).status is MessageStatus.PENDING
    # a new process over the same database
    clock = SimClock(group.clock.now + timedelta(minutes=3))
    fresh = replace(runtime, coordinator=LocalCoordinator(clock=clock.seconds))
    replay = Replay(fresh, clock, ReplayTransport(clock))
    assert await replay.conversation.recover_pending() == 1
    await replay.drain()
    assert await replay.conversation.recover_pending() == 0
    with runtime.sessions() as s:
        stored = inbound(s, LAMP)
        assert stored.status is MessageStatus.PROCESSED and stored.ticket_id is not None
    assert ["已收到您反映的【物业服务】问题" in m.text for _, m in replay.transport.sent] == [True]


def _crash_after_persist(conversation: Conversation, monkeypatch: pytest.MonkeyPatch) -> None:
    def die(msg: IncomingMessage, message_id: int, *_: object) -> None:
        raise SystemExit("process killed")  # not caught by the error boundary: a real crash

    monkeypatch.setattr(conversation, "_route", die)


async def test_a_redelivered_message_that_was_never_routed_is_routed_on_redelivery(
    group: Group, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    dying = runtime.conversation(group.clock)
    _crash_after_persist(dying, monkeypatch)
    msg = IncomingMessage("wx-msg-3", ROOM, "wx-zhang", "张阿姨", LAMP, group.clock.now)
    with pytest.raises(SystemExit):
        dying.process(msg)
    # the platform delivers it again to the restarted process
    assert (await group.replay.conversation.handle(msg)).status == "ticket"
    assert (await group.replay.conversation.handle(msg)).status == "duplicate"
    await group.replay.drain()
    with runtime.sessions() as s:
        assert inbound(s, LAMP).status is MessageStatus.PROCESSED
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1
    assert sum("已收到您反映的" in m.text for _, m in group.replay.transport.sent) == 1


async def test_a_message_that_keeps_killing_the_process_is_given_up_with_an_apology(
    group: Group, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    msg = IncomingMessage("wx-msg-4", ROOM, "wx-zhang", "张阿姨", LAMP, group.clock.now)
    first = runtime.conversation(group.clock)
    _crash_after_persist(first, monkeypatch)
    with pytest.raises(SystemExit):
        first.process(msg)
    for _ in range(MAX_RECOVERIES):  # each restart tries it again and dies again
        restarted = runtime.conversation(group.clock)
        _crash_after_persist(restarted, monkeypatch)
        with pytest.raises(SystemExit):
            await restarted.recover_pending()
    survivor = group.replay.conversation
    assert await survivor.recover_pending() == 1
    await group.replay.drain()
    assert await survivor.recover_pending() == 0
    with runtime.sessions() as s:
        stored = inbound(s, LAMP)
        assert stored.status is MessageStatus.FAILED and stored.error == "interrupted too often"
        assert s.scalar(select(func.count()).select_from(Ticket)) == 0
    assert [m.text for _, m in group.replay.transport.sent] == [replies.APOLOGY]
