"""PostgreSQL stopped and started again while residents keep talking: what arrived meanwhile is
answered once the database is back, once each and in order per room, and the bot's loops live on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import anyio
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from gridbot.handlers.types import IncomingMessage, OutgoingMessage
from gridbot.models.entities import ChatGroup, Message, Outbox, Ticket
from gridbot.models.enums import MessageDirection, MessageStatus, OutboxStatus
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.nlp.classifier import Classifier
from tests.faults.live import (
    ROOM_A,
    ROOM_B,
    WORKER,
    QueueTransport,
    accepts,
    acks,
    live_bot,
    live_settings,
    make_runtime,
    said,
    seed,
    ticket_of,
)
from tests.faults.servers import PrivatePostgres

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.anyio]
BACK_S = 30.0  # the database is back: spooled and interrupted messages are retried every few seconds


def inbound_order(engine: Engine, room: str) -> list[str]:
    """Platform ids of the room's stored inbound messages, in the order they were stored."""
    with Session(engine) as s:
        return list(
            s.scalars(
                select(Message.platform_id)
                .join(ChatGroup, ChatGroup.id == Message.group_id)
                .where(ChatGroup.room_id == room, Message.direction == MessageDirection.INBOUND)
                .order_by(Message.id)
            )
        )


def spooled_lines(spool_dir: Path) -> int:
    """Non-empty lines in the spool's JSONL files."""
    return sum(
        1
        for f in spool_dir.glob("*.jsonl")
        for line in f.read_text(encoding="utf-8").splitlines()
        if line.strip()
    )


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_messages_sent_while_postgres_is_down_are_answered_once_in_order(
    mode: Literal["fast", "immediate"],
    private_postgres: PrivatePostgres,
    private_pg_engine: Engine,
    fault_classifier: Classifier,
    tmp_path: Path,
) -> None:
    engine = private_pg_engine
    seed(engine)
    spool = tmp_path / "spool"
    runtime = make_runtime(
        live_settings(private_postgres.url, spool), engine, LocalCoordinator(), fault_classifier
    )
    async with live_bot(runtime, QueueTransport()) as bot:
        warm = bot.push(said(ROOM_A, "wx-r0", "张阿姨", "3栋2单元楼道灯坏了，晚上黑灯瞎火的"))
        await bot.reply_to(warm)
        warm_no = ticket_of(engine, warm)
        await bot.wait_for(lambda: not unsent(engine), "the reply recorded as sent")
        # one message arrives just as the database goes down (stored, half-routed or spooled)
        racing = bot.push(said(ROOM_B, "wx-r9", "钱阿姨", "5栋电梯又坏了，老人下不了楼"))
        await anyio.to_thread.run_sync(private_postgres.stop, mode)
        r1 = said(ROOM_A, "wx-r1", "刘师傅", "小区东门下水道堵了，污水漫到路上")
        during: list[IncomingMessage] = [
            r1,
            said(ROOM_B, "wx-r2", "赵大爷", "垃圾站三天没清运了，臭得不行"),
            said(ROOM_A, *WORKER, f"接单 #{warm_no}"),
            said(ROOM_A, "wx-r3", "孙奶奶", "楼上装修噪音太大，晚上十点还在砸墙"),
            said(ROOM_B, "wx-r4", "周师傅", "地下车库消防通道被车堵死了"),
            r1,  # the platform delivers r1 again
        ]
        for msg in during:
            bot.push(msg)
        for msg in during:  # each handled promptly (spooled), not held until the database returns
            await bot.handled(msg)
        assert spooled_lines(spool) >= len(during) - 1, bot.summary()
        assert not [m for m in during if bot.to(m.sender_id)], "answered while the database was down?"

        await anyio.to_thread.run_sync(private_postgres.start)
        after = bot.push(said(ROOM_A, "wx-r5", "吴阿姨", "小区门口路面有个大坑，电动车容易摔"))
        residents = [racing, *during[:2], *during[3:5], after]
        for m in residents:
            await bot.reply_to(m, BACK_S)
        numbers = {m.sender_id: ticket_of(engine, m) for m in residents}
        await bot.wait_for(lambda: accepts(bot.sent, warm_no), "接单 answered", BACK_S)
        await bot.sweeps_after(bot.sweeps)  # the sweeper lives on
        await bot.wait_for(lambda: not unsent(engine), lambda: f"the outbox to drain ({unsent(engine)} left)")

    for number in (warm_no, *numbers.values()):  # one acknowledgement each, however often delivered
        assert acks(bot.sent, number) == 1, bot.summary()
    assert accepts(bot.sent, warm_no) == 1
    # in order per room: stored in arrival order, tickets numbered in arrival order
    in_a = [warm.platform_id, *(m.platform_id for m in during if m.room_id == ROOM_A), after.platform_id]
    assert inbound_order(engine, ROOM_A) == list(dict.fromkeys(in_a))
    assert numbers["wx-r1"] < numbers["wx-r3"] < numbers["wx-r5"]
    assert inbound_order(engine, ROOM_B)[1:] == [m.platform_id for m in during if m.room_id == ROOM_B]
    assert numbers["wx-r2"] < numbers["wx-r4"]
    with Session(engine) as s:
        statuses = s.execute(
            select(Message.status, func.count())
            .where(Message.direction == MessageDirection.INBOUND)
            .group_by(Message.status)
        ).all()
        assert dict(statuses) == {MessageStatus.PROCESSED: 8}
        assert s.scalar(select(func.count()).select_from(Ticket)) == 7
    assert spooled_lines(spool) == 0


def unsent(engine: Engine) -> list[tuple[str, str, int, str | None]]:
    """Outbox rows not sent: (dedupe key, status, attempts, last error)."""
    with Session(engine) as s:
        rows = s.execute(
            select(Outbox.dedupe_key, Outbox.status, Outbox.attempts, Outbox.last_error).where(
                Outbox.status != OutboxStatus.SENT
            )
        ).all()
        return [(key, status.value, attempts, error) for key, status, attempts, error in rows]


async def test_a_reply_in_flight_when_postgres_stops_is_recorded_once_it_is_back(
    private_postgres: PrivatePostgres, private_pg_engine: Engine, fault_classifier: Classifier, tmp_path: Path
) -> None:
    """The platform took the reply, then the database went away before the send was recorded."""
    engine = private_pg_engine
    seed(engine)
    runtime = make_runtime(
        live_settings(private_postgres.url, tmp_path / "spool"), engine, LocalCoordinator(), fault_classifier
    )
    stopped = anyio.Event()

    async def database_goes_down(message: OutgoingMessage) -> None:
        if not stopped.is_set():
            await anyio.to_thread.run_sync(private_postgres.stop, "fast")
            stopped.set()

    async with live_bot(runtime, QueueTransport()) as bot:
        bot.before_send = database_goes_down
        report = bot.push(said(ROOM_A, "wx-r1", "张阿姨", "3栋2单元楼道灯坏了，晚上黑灯瞎火的"))
        await bot.reply_to(report)
        await anyio.to_thread.run_sync(private_postgres.start)
        later = bot.push(said(ROOM_A, "wx-r2", "刘师傅", "垃圾站三天没清运了，臭得不行"))
        await bot.reply_to(later, BACK_S)
        await bot.wait_for(
            lambda: not unsent(engine), lambda: f"the outbox to drain ({unsent(engine)} left)", BACK_S
        )
    assert acks(bot.sent, ticket_of(engine, report)) == 1 and acks(bot.sent, ticket_of(engine, later)) == 1
