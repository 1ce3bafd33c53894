"""Two bot instances on two WeChat accounts: each room's replies and reminders go out through the
account that serves it (the one its messages arrive through), never through the other."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from gridbot.models.db import make_session_factory
from gridbot.models.entities import ChatGroup
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.nlp.classifier import Classifier
from tests.faults.live import (
    ROOM_A,
    ROOM_B,
    QueueTransport,
    live_bot,
    live_settings,
    make_due,
    make_runtime,
    said,
    seed,
    ticket_of,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
REMINDER = "【工单提醒】"


async def test_each_room_is_answered_through_the_account_that_serves_it(
    pg_engine: Engine, fault_classifier: Classifier, tmp_path: Path
) -> None:
    seed(pg_engine)
    url = pg_engine.url.render_as_string(False)
    runtimes = [
        make_runtime(
            live_settings(url, tmp_path / f"spool-{i}", None, f"acct-{i}", 3600.0),
            pg_engine,
            LocalCoordinator(),
            fault_classifier,
        )
        for i in range(2)
    ]
    a, b = QueueTransport("live-a"), QueueTransport("live-b")  # two accounts: wxid_live-a, wxid_live-b
    async with live_bot(runtimes[0], a), live_bot(runtimes[1], b):
        in_a = a.push(said(ROOM_A, "wx-r1", "张阿姨", "5栋电梯又坏了，老人下不了楼"))
        in_b = b.push(said(ROOM_B, "wx-r2", "刘师傅", "垃圾站三天没清运了，臭得不行"))
        await a.reply_to(in_a)
        await b.reply_to(in_b)
        make_due(pg_engine, ticket_of(pg_engine, in_b))
        make_due(pg_engine, ticket_of(pg_engine, in_a))
        # the digest names both tickets, reported in two rooms: it goes to 小王 directly, claimed by
        # whichever account is free (or, when a sweep told them apart, into each ticket's room)
        a.wakes_on(b)
        await a.wait_for(lambda: any(REMINDER in m.text for m in a.sent + b.sent) or None, "a reminder")

    with make_session_factory(pg_engine)() as s:
        serves = {
            room: account for room, account in s.execute(select(ChatGroup.room_id, ChatGroup.bot_account))
        }
    assert serves == {ROOM_A: "wxid_live-a", ROOM_B: "wxid_live-b"}
    for transport in (a, b):
        rooms = {m.room_id for m in transport.sent if m.room_id}
        assert rooms and all(serves[r] == transport.status.bot_id for r in rooms), (
            f"{transport.status.bot_id} spoke in {rooms}"
        )
    assert not b.to("wx-r1") and not a.to("wx-r2")
    # the grid's reminder went out once per address: in a room only through the account serving it
    # (checked above), directly through one account, never both
    reminders = [m for m in a.sent + b.sent if REMINDER in m.text]
    rows = [i for m in reminders for i in m.outbox_ids]
    assert reminders and rows and len(rows) == len(set(rows)), [
        (m.room_id, m.to_contact_id) for m in reminders
    ]
