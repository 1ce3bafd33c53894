"""Trusted in a real group, end to end: two rooms, a burst, a private message, a bot killed mid-chat.

The Node puppet service runs with the gateway's durable delivery (gateway/durable.js, a journal
in the test's directory): what residents say while the bot is down reaches it when it logs in again.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gridbot.models.db import make_session_factory
from gridbot.models.entities import BotState, Message, Outbox
from gridbot.models.enums import MessageDirection, OutboxStatus
from gridbot.models.org import directory
from gridbot.nlp.classifier import load_classifier
from tests.e2e.conftest import PuppetProcess, start_puppet
from tests.e2e.test_bot_e2e import LIU, START_S, ZHANG, BotProcess, Said, bot_state, eventually, seed

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

BURST = 120  # chatter lines in room 1, sent at once
BURST_BUDGET_S = float(os.environ.get("GRIDBOT_E2E_BURST_BUDGET_S", "3"))
CHATTER = ["收到", "好的", "谢谢", "辛苦了", "今天天气不错", "哈哈", "大家早上好", "明天见"]


async def answered_in(puppet: PuppetProcess, said: Said, room: str, text: str) -> float:
    """Seconds from a resident's report in `room` until the bot's answer reaches that room."""
    start = time.monotonic()
    await puppet.say(ZHANG, text, room=room)
    answer = await said.next()
    assert answer["room"] == room and "已收到您反映的" in answer["text"], answer
    return time.monotonic() - start


@pytest.fixture
async def journaled_puppet(tmp_path: Path) -> AsyncIterator[PuppetProcess]:
    """A puppet service of its own, with the durable journal."""
    server = await start_puppet(tmp_path, journal=tmp_path / "journal.jsonl")
    yield server
    await server.stop()


async def test_two_rooms_a_burst_a_private_message_and_a_killed_bot(
    journaled_puppet: PuppetProcess, tmp_path: Path
) -> None:
    puppet = journaled_puppet
    room2 = str(puppet.ready["room2"]["id"])
    await asyncio.to_thread(load_classifier)
    engine = seed(tmp_path / "gridbot.db", puppet.room_id)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        other = directory.grid_by_code(session, "WTS-02")
        assert other is not None
        directory.bind_group(session, room2, other, topic="第二网格群")
    bot = BotProcess(puppet, tmp_path / "gridbot.db", tmp_path)
    await bot.start()
    said = Said(puppet, bot)
    try:
        await eventually(bot_state(sessions)(BotState.ONLINE), "the bot to log in", bot, START_S)

        # room 2's answer time when all is quiet, then right after a burst of chatter in room 1
        quiet = await answered_in(puppet, said, room2, "5栋门口垃圾桶满了没人清理")
        burst = [
            await puppet.submit("say", **{"from": LIU, "text": CHATTER[i % 8], "room": puppet.room_id})
            for i in range(BURST)
        ]
        await asyncio.gather(*burst)
        busy = await answered_in(puppet, said, room2, "3栋2单元楼道灯又坏了，晚上黑灯瞎火的")
        print(
            f"room 2 answered in {quiet:.1f} s when quiet, {busy:.1f} s after a {BURST}-message burst in room 1"
        )
        # the burst adds less than 3 s (GRIDBOT_E2E_BURST_BUDGET_S on a machine shared beyond its cores)
        assert busy - quiet < BURST_BUDGET_S, f"room 2: {quiet:.1f} s quiet, {busy:.1f} s after the burst"

        # a private message is answered privately
        await puppet.say(ZHANG, "你好，楼道灯坏了找谁", room="")
        private = await said.next()
        assert private["to"] == ZHANG and "网格群" in private["text"]

        # the bot is killed mid-conversation (its replies recorded as sent: a reply WeChat took but
        # the bot had not yet recorded would go out again, the outbox's documented at-least-once
        # point); residents keep talking; it comes back
        def replies_recorded() -> bool:
            with sessions() as s:
                return not s.scalar(select(func.count()).where(Outbox.status != OutboxStatus.SENT))

        await eventually(replies_recorded, "the replies so far recorded as sent", bot)
        assert bot.proc is not None
        bot.proc.kill()
        await bot.proc.wait()
        bot.proc = None
        while_down = [
            await puppet.say(LIU, "7栋门口污水井冒水了，污水流了一地"),
            await puppet.say(ZHANG, "大家注意绕行"),
            await puppet.say(LIU, "9号楼电梯困人了，快来人", room=room2),
        ]
        await bot.start()

        def stored() -> bool:
            with sessions() as s:
                ids = set(s.scalars(select(Message.platform_id).where(Message.platform_id.in_(while_down))))
                return ids == set(while_down)

        # the backlog of the burst is replayed first (arrival order), then these
        await eventually(stored, "the messages said while the bot was down", bot, 3 * START_S)
        with sessions() as s:
            inbound = select(func.count()).where(Message.direction == MessageDirection.INBOUND)
            assert (
                s.scalar(inbound) == BURST + 2 + 3
            )  # every room message once (the private one is not stored)
            assert (
                s.scalar(
                    select(func.count(func.distinct(Message.platform_id))).where(
                        Message.direction == MessageDirection.INBOUND
                    )
                )
                == BURST + 5
            )
        # both reports answered after the restart; the elevator's urgent alarm to the gridworkers is a
        # message of its own (staff-facing rows never merge with residents' replies)
        texts: list[str] = []
        while sum("已收到您反映的" in t for t in texts) < 2:
            texts.append((await said.next())["text"])
        assert sum("已收到您反映的" in t for t in texts) == 2 and len(texts) <= 3, texts
        assert any(t.startswith("【紧急】") and "电梯困人" in t for t in texts), texts
    finally:
        await bot.stop()
        engine.dispose()
