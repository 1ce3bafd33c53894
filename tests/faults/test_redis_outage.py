"""Redis stopped, restarted, flushed or hung while the bot serves: it keeps answering, loses nothing,
sends nothing twice. Redis is only a fast path and a pacer; the database is the real guard.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from gridbot.models.db import make_session_factory
from gridbot.models.entities import Message, Outbox, ReminderLog, Ticket
from gridbot.models.enums import MessageDirection, MessageStatus, OutboxKind, OutboxStatus
from gridbot.models.messaging.coordination import RedisCoordinator
from gridbot.nlp.classifier import Classifier
from tests.faults.live import (
    LEADER,
    ROOM_A,
    WORKER,
    QueueTransport,
    accepts,
    acks,
    live_bot,
    live_settings,
    make_due,
    make_runtime,
    said,
    seed,
    ticket_of,
)
from tests.faults.servers import PrivateRedis

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.anyio]
DEGRADED = "Redis unavailable (ConnectionError): coordinating in-process only"
RECOVERED = "Redis reachable again: coordinating through Redis"
REMINDER = "【工单提醒】"


@pytest.fixture
def coordinator(private_redis: PrivateRedis) -> Iterator[RedisCoordinator]:
    """A coordinator on the private Redis with a short socket timeout."""
    coord = RedisCoordinator(private_redis.url, timeout_s=0.5)
    yield coord
    coord.close()


def counts(engine: Engine) -> dict[str, int]:
    """Inbound messages by status, tickets, reminder levels fired, outbox rows not sent."""
    with Session(engine) as s:
        by_status = dict(
            s.execute(
                select(Message.status, func.count())
                .where(Message.direction == MessageDirection.INBOUND)
                .group_by(Message.status)
            ).all()
        )
        return {
            "processed": by_status.get(MessageStatus.PROCESSED, 0),
            "unfinished": sum(n for st, n in by_status.items() if st is not MessageStatus.PROCESSED),
            "tickets": s.scalar(select(func.count()).select_from(Ticket)) or 0,
            "reminders": s.scalar(select(func.count()).select_from(ReminderLog)) or 0,
            "reminder_rows": s.scalar(
                select(func.count()).where(Outbox.kind.in_((OutboxKind.REMINDER, OutboxKind.ESCALATION)))
            )
            or 0,
            "unsent": s.scalar(select(func.count()).where(Outbox.status != OutboxStatus.SENT)) or 0,
        }


async def test_redis_stopped_then_restarted_mid_run(
    pg_engine: Engine,
    private_redis: PrivateRedis,
    coordinator: RedisCoordinator,
    fault_classifier: Classifier,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="gridbot.models.messaging.coordination")
    seed(pg_engine)
    settings = live_settings(pg_engine.url.render_as_string(False), tmp_path / "spool", private_redis.url)
    runtime = make_runtime(settings, pg_engine, coordinator, fault_classifier)
    async with live_bot(runtime, QueueTransport()) as bot:
        first = bot.push(said(ROOM_A, "wx-r1", "张阿姨", "3栋2单元楼道灯坏了，晚上黑灯瞎火的"))
        await bot.reply_to(first)
        first_no = ticket_of(pg_engine, first)
        assert private_redis.keys("gridbot:*"), "the bot does not use Redis while it is up"

        private_redis.stop()
        second = bot.push(said(ROOM_A, "wx-r2", "刘师傅", "垃圾站三天没清运了，臭得不行"))
        await bot.reply_to(second)
        second_no = ticket_of(pg_engine, second)
        accept = bot.push(said(ROOM_A, *WORKER, f"接单 #{first_no}"))
        await bot.wait_for(lambda: accepts(bot.sent, first_no), "接单 answered while Redis is down")
        assert await bot.handled(accept) is not None
        make_due(pg_engine, second_no)
        reminder = (await bot.wait_for(lambda: [m for m in bot.sent if REMINDER in m.text], "the reminder"))[
            0
        ]
        assert f"#{second_no} " in reminder.text and WORKER[0] in reminder.mention_ids
        await bot.sweeps_after(bot.sweeps)
        assert caplog.messages.count(DEGRADED) == 1
        assert RECOVERED not in caplog.messages

        private_redis.start()
        third = bot.push(said(ROOM_A, "wx-r3", "赵大爷", "楼上装修噪音太大，晚上十点还在砸墙"))
        await bot.reply_to(third)
        third_no = ticket_of(pg_engine, third)
        await bot.wait_for(lambda: RECOVERED in caplog.messages, "the coordinator to use Redis again")
        assert private_redis.keys("gridbot:*"), "back up, Redis is not written to"
        lookup = bot.push(said(ROOM_A, *LEADER, f"查 #{second_no}"))
        await bot.wait_for(lambda: bot.to(LEADER[0]), "the 查 reply")
        await bot.handled(lookup)
        await bot.sweeps_after(bot.sweeps)
        await bot.wait_for(lambda: counts(pg_engine)["unsent"] == 0 or None, "the outbox to drain")

    assert caplog.messages.count(DEGRADED) == 1 and caplog.messages.count(RECOVERED) == 1
    for number in (first_no, second_no, third_no):
        assert acks(bot.sent, number) == 1, bot.summary()
    assert accepts(bot.sent, first_no) == 1
    assert [m.text.count(REMINDER) for m in bot.sent if REMINDER in m.text] == [1]
    assert counts(pg_engine) == {
        "processed": 5,
        "unfinished": 0,
        "tickets": 3,
        "reminders": 1,
        "reminder_rows": 1,
        "unsent": 0,
    }


@asynccontextmanager
async def two_bots(
    engine: Engine, redis: PrivateRedis, classifier: Classifier, tmp_path: Path, rollup_interval_s: float
) -> AsyncIterator[tuple[QueueTransport, QueueTransport]]:
    """Two instances serving on one database and one Redis, each with its own coordinator."""
    url = engine.url.render_as_string(False)
    coords = [RedisCoordinator(redis.url, timeout_s=0.5) for _ in range(2)]
    runtimes = [
        make_runtime(
            live_settings(url, tmp_path / f"spool-{i}", redis.url, f"fault-{i}", rollup_interval_s),
            engine,
            coord,
            classifier,
        )
        for i, coord in enumerate(coords)
    ]
    a, b = QueueTransport("live-a"), QueueTransport("live-b")
    # one account behind both (one Wechaty gateway): either sender may deliver any room's reply
    a.share_account_with(b)
    try:
        async with live_bot(runtimes[0], a), live_bot(runtimes[1], b):
            yield a, b
    finally:
        for coord in coords:
            coord.close()


async def test_flushall_mid_run_does_not_process_or_remind_twice(
    pg_engine: Engine, private_redis: PrivateRedis, fault_classifier: Classifier, tmp_path: Path
) -> None:
    """FLUSHALL drops the de-dup marks, the sweeper lock and the pacing slots under two instances."""
    seed(pg_engine)
    async with two_bots(pg_engine, private_redis, fault_classifier, tmp_path, 3600.0) as (a, b):
        report = a.push(said(ROOM_A, "wx-r1", "张阿姨", "小区东门下水道堵了，污水漫到路上"))
        await a.reply_to(report)
        number = ticket_of(pg_engine, report)
        private_redis.flush()
        # the platform delivers the same message again, to both instances
        assert getattr(await a.handled(a.push(report)), "status", None) != "ticket"
        assert getattr(await b.handled(b.push(report)), "status", None) != "ticket"

        make_due(pg_engine, number, in_s=0.5)
        swept = a.sweeps, b.sweeps
        flushes = await anyio.to_thread.run_sync(flush_for, private_redis, 3.0)
        assert flushes > 100 and a.sweeps > swept[0] + 2 and b.sweeps > swept[1] + 2
        await a.sweeps_after(a.sweeps)
        await a.wait_for(lambda: counts(pg_engine)["unsent"] == 0 or None, "the outbox to drain")

    sent = a.sent  # the account's one record of what it sent (shared by both instances)
    assert acks(sent, number) == 1 and sum(m.text.count("已收到") for m in sent) == 1, (
        a.summary() + b.summary()
    )
    assert sum(m.text.count(REMINDER) for m in sent) == 1
    with make_session_factory(pg_engine)() as s:
        assert s.scalar(select(func.count()).where(Message.platform_id == report.platform_id)) == 1
    assert counts(pg_engine) == {
        "processed": 1,
        "unfinished": 0,
        "tickets": 1,
        "reminders": 1,
        "reminder_rows": 1,
        "unsent": 0,
    }


async def test_two_instances_keep_serving_while_redis_is_flushed_repeatedly(
    pg_engine: Engine, private_redis: PrivateRedis, fault_classifier: Classifier, tmp_path: Path
) -> None:
    """Without the Redis lock both instances refresh the rollups at once; neither may die of it."""
    seed(pg_engine)
    async with two_bots(pg_engine, private_redis, fault_classifier, tmp_path, 0.05) as (a, b):
        first = a.push(said(ROOM_A, "wx-r1", "张阿姨", "5栋电梯又坏了，老人下不了楼"))
        await a.reply_to(first)
        await anyio.to_thread.run_sync(flush_for, private_redis, 3.0)
        late = [a.push(said(ROOM_A, "wx-r2", "刘师傅", "垃圾站三天没清运了，臭得不行"))]
        late.append(b.push(said(ROOM_A, "wx-r3", "赵大爷", "楼上装修噪音太大，晚上十点还在砸墙")))
        await a.reply_to(late[0])
        await b.reply_to(late[1])
    assert counts(pg_engine)["tickets"] == 3


async def test_a_hung_redis_does_not_stall_the_event_loop(
    pg_engine: Engine, private_redis: PrivateRedis, fault_classifier: Classifier, tmp_path: Path
) -> None:
    """SIGSTOP'd Redis: every call waits out the socket timeout; that wait must not freeze the bot."""
    seed(pg_engine)
    coordinator = RedisCoordinator(private_redis.url, timeout_s=1.0)
    settings = live_settings(pg_engine.url.render_as_string(False), tmp_path / "spool", private_redis.url)
    runtime = make_runtime(settings, pg_engine, coordinator, fault_classifier)
    gaps: list[float] = []

    async def ticker(stop: anyio.Event) -> None:
        last = time.monotonic()
        while not stop.is_set():
            with anyio.move_on_after(0.05):  # measures how late the loop wakes us, waits for nothing
                await stop.wait()
            now = time.monotonic()
            gaps.append(now - last - 0.05)
            last = now

    try:
        async with live_bot(runtime, QueueTransport()) as bot:
            await bot.reply_to(
                bot.push(said(ROOM_A, "wx-r1", "张阿姨", "3栋2单元楼道灯坏了，晚上黑灯瞎火的"))
            )
            private_redis.pause()
            try:
                done = anyio.Event()
                async with anyio.create_task_group() as tg:
                    tg.start_soon(ticker, done)
                    report = bot.push(said(ROOM_A, "wx-r2", "刘师傅", "垃圾站三天没清运了，臭得不行"))
                    await bot.reply_to(report)
                    done.set()
            finally:
                private_redis.resume()
    finally:
        coordinator.close()
    assert max(gaps) < 0.5, f"the event loop stalled for {max(gaps):.2f} s"


def flush_for(server: PrivateRedis, seconds: float) -> int:
    """FLUSHALL in a tight loop for `seconds` (locks vanish mid-sweep); returns how many."""
    n, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        server.flush()
        n += 1
    return n


def test_a_hung_redis_answers_within_the_socket_timeout(private_redis: PrivateRedis) -> None:
    """SIGSTOP: connections are accepted but never answered; each call falls back after its timeout."""
    coord = RedisCoordinator(private_redis.url, timeout_s=0.5)

    def take_lock() -> bool:
        with coord.lock("sweep", 30) as held:
            return held.acquired

    try:
        assert coord.seen_message("warm-up") is False  # a pooled connection exists now
        private_redis.pause()
        try:
            for call in (
                lambda: coord.seen_message("m-1"),
                lambda: coord.acquire_send_slot("bot", "room", 1.0),
                take_lock,
            ):
                started = time.monotonic()
                call()
                assert time.monotonic() - started < 1.5, call
        finally:
            private_redis.resume()
        with coord.lock("sweep", 30) as held:
            assert held.acquired
            assert private_redis.keys("gridbot:lock:*") == ["gridbot:lock:sweep"]  # through Redis again
    finally:
        coord.close()
