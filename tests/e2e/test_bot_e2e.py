"""The whole bot against a real Wechaty puppet service: `gridbot run --transport wechaty` as a subprocess.

The Node puppet service (tests/e2e/puppet) plays the grid group; the bot process logs in over gRPC
with a SQLite database this test migrated and seeded with the group bound to a grid. Residents and
the gridworker speak through Node; the test reads what the bot said from Node's `bot_said` events
and what it did from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.bot.demo import setup_world
from gridbot.bot.replay import Line
from gridbot.models.db import make_engine, make_session_factory
from gridbot.models.entities import BotState, BotStatus, Message, Outbox, Ticket
from gridbot.models.enums import MessageDirection, MessageStatus, OutboxStatus, TicketStatus
from gridbot.models.migrate import upgrade
from gridbot.models.settings import DBSettings
from gridbot.nlp.classifier import load_classifier
from tests.e2e.conftest import PuppetProcess, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

GRIDBOT = Path(sys.executable).with_name("gridbot")
BOT, ZHANG, LIU, XIAOWANG, LEADER = "wxid_bot", "wxid_zhang", "wxid_liu", "wxid_xiaowang", "wxid_leader"
WAIT_S = 20.0  # for what the running bot process does
START_S = 60.0  # a bot process starting: imports, the classifier, the login
T = TypeVar("T")


class BotProcess:
    """`gridbot run --transport wechaty` on the test's database, logged in to a puppet service."""

    def __init__(self, puppet: PuppetProcess, db_path: Path, workdir: Path, token: str | None = None) -> None:
        self.log_path = workdir / "gridbot.log"  # stderr: the log and any error
        self.workdir = workdir
        self.env = {
            **os.environ,
            "GRIDBOT_DB__URL": f"sqlite:///{db_path}",
            "GRIDBOT_WECHATY__ENDPOINT": puppet.endpoint,
            "GRIDBOT_WECHATY__TOKEN": token or puppet.token,
            "GRIDBOT_WECHATY__PLUGIN_PORT": str(free_port()),
            "GRIDBOT_WECHATY__LOGIN_TIMEOUT_S": "10",
            "GRIDBOT_OUTBOX__MIN_INTERVAL_S": "0.05",
            "GRIDBOT_SLA__SWEEP_INTERVAL_S": "1",
            "GRIDBOT_LOG_LEVEL": "INFO",
        }
        self.env.pop("GRIDBOT_REDIS__URL", None)
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start the bot process (it logs in on its own; wait for that through the database)."""
        with self.log_path.open("ab") as log, (self.workdir / "gridbot.out").open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                str(GRIDBOT),
                "run",
                "--transport",
                "wechaty",
                cwd=self.workdir,  # no developer .env is read
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=log,
            )

    @property
    def log(self) -> str:
        """What the bot process wrote so far."""
        return self.log_path.read_text(errors="replace")

    async def stop(self) -> int:
        """Ctrl-C the bot and wait for it to exit; returns its exit code."""
        proc, self.proc = self.proc, None
        if proc is None:
            return 0
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        try:
            return await asyncio.wait_for(proc.wait(), WAIT_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise AssertionError(f"gridbot did not stop on SIGINT; log:\n{self.log}") from None


def seed(db_path: Path, room_id: str) -> Engine:
    """Migrate the database and bind the Node room to the demo grid, with 小王 and 陈组长 as its staff."""
    engine = make_engine(DBSettings(url=f"sqlite:///{db_path}"))
    upgrade(engine)
    at = datetime.now(UTC)
    staff = [
        Line("setup-1", at, room_id, XIAOWANG, "小王", "gridworker", ""),
        Line("setup-2", at, room_id, LEADER, "陈组长", "grid_leader", ""),
    ]
    with make_session_factory(engine).begin() as session:
        setup_world(session, staff)
    return engine


async def eventually(read: Callable[[], T | None], what: str, bot: BotProcess, timeout: float = WAIT_S) -> T:
    """Poll the database (in a thread) until `read` returns a value; fail with the bot's log otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(read)
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; gridbot log:\n{bot.log}")
        await asyncio.sleep(0.1)  # polling a database another process writes: nothing to await


def bot_state(sessions: sessionmaker[Session]) -> Callable[[BotState], Callable[[], bool]]:
    """`bot_state(sessions)(BotState.ONLINE)`: a reader true once the bot's status row says so."""

    def reader(state: BotState) -> Callable[[], bool]:
        def read() -> bool:
            with sessions() as session:
                row = session.get(BotStatus, BOT)
                return row is not None and row.state is state

        return read

    return reader


@pytest.fixture
async def running_bot(puppet: PuppetProcess, tmp_path: Path) -> AsyncIterator[tuple[BotProcess, Engine]]:
    """The bot process logged in to the module's puppet service, on a freshly seeded database."""
    async with bot_running(puppet, tmp_path) as started:
        yield started


@contextlib.asynccontextmanager
async def bot_running(puppet: PuppetProcess, tmp_path: Path) -> AsyncIterator[tuple[BotProcess, Engine]]:
    """Seed a database, start the bot process on it and wait until it is logged in."""
    # Build the default model here (cached on disk), so the bot process only loads it.
    await asyncio.to_thread(load_classifier)
    engine = seed(tmp_path / "gridbot.db", puppet.room_id)
    bot = BotProcess(puppet, tmp_path / "gridbot.db", tmp_path)
    await bot.start()
    try:
        await eventually(
            bot_state(make_session_factory(engine))(BotState.ONLINE), "the bot to log in", bot, START_S
        )
        yield bot, engine
    finally:
        await bot.stop()
        engine.dispose()


class Said:
    """Everything the bot said in this test, as Node saw it."""

    def __init__(self, puppet: PuppetProcess, bot: BotProcess) -> None:
        self.puppet, self.bot, self.all = puppet, bot, list[dict[str, Any]]()

    async def next(self) -> dict[str, Any]:
        """The next message the bot sent."""
        try:
            event = await asyncio.wait_for(self.puppet.bot_said.get(), WAIT_S)
        except TimeoutError:
            raise AssertionError(f"the bot said nothing within {WAIT_S:g} s; log:\n{self.bot.log}") from None
        self.all.append(event)
        return event


async def test_residents_and_gridworker_in_the_bound_room(
    puppet: PuppetProcess, running_bot: tuple[BotProcess, Engine]
) -> None:
    bot, engine = running_bot
    sessions = make_session_factory(engine)
    said = Said(puppet, bot)

    # chatter first: whatever the bot says next must be the answer to the report, not to this
    await puppet.say(LIU, "今天菜市场的菠菜挺新鲜，大家可以去看看")
    report_id = await puppet.say(ZHANG, "3栋2单元楼道灯又坏了，晚上黑灯瞎火的")
    filed = await said.next()
    assert (filed["room"], filed["mentions"]) == (puppet.room_id, [ZHANG])
    assert filed["text"].count("@张阿姨") == 1 and filed["text"].startswith(
        "@张阿姨"
    )  # said once, by Wechaty
    match = re.search(r"已收到您反映的【(.+?)】.*工单 #(\d+) 已转网格员小王", filed["text"])
    assert match is not None, filed["text"]
    number = int(match.group(2))
    with sessions() as s:
        ticket = s.get(Ticket, number)
        assert ticket is not None and ticket.status is TicketStatus.NEW
        assert ticket.category_label == match.group(1)
        source = s.get(Message, ticket.source_message_id)
        assert source is not None and source.platform_id == report_id

    await puppet.say(XIAOWANG, f"接单 #{number}")
    accepted = await said.next()
    assert accepted["mentions"] == [ZHANG]
    assert f"（工单 #{number}）已由网格员小王受理" in accepted["text"]
    with sessions() as s:
        ticket = s.get(Ticket, number)
        assert ticket is not None and ticket.status is TicketStatus.ACCEPTED
        assert ticket.first_response_at is not None

    await puppet.say(XIAOWANG, f"办结 #{number} 已更换灯泡")
    resolved = await said.next()
    assert resolved["mentions"] == [ZHANG]
    assert resolved["text"].endswith(
        "已办结：已更换灯泡。请对本次处理评价：回复 1 满意 / 2 基本满意 / 3 不满意"
    )

    await puppet.say(ZHANG, "3 灯还是不亮")
    reopened = await said.next()
    assert reopened["mentions"] == [ZHANG]
    assert f"工单 #{number} 已重新办理（重办）" in reopened["text"]
    with sessions() as s:
        ticket = s.get(Ticket, number)
        assert ticket is not None and (ticket.status, ticket.cycle) == (TicketStatus.IN_PROGRESS, 1)
        assert s.scalar(select(func.count()).select_from(Ticket)) == 1  # the chatter filed nothing

    def drained() -> bool:
        with sessions() as s:
            handled = s.scalar(
                select(func.count()).where(
                    Message.direction == MessageDirection.INBOUND, Message.status == MessageStatus.PROCESSED
                )
            )
            waiting = s.scalar(
                select(func.count()).where(Outbox.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)))
            )
            return handled == 5 and waiting == 0

    await eventually(drained, "every message handled and the outbox drained", bot)
    # Node reports in send order: anything said to the chatter would come before this answer.
    await puppet.say(XIAOWANG, f"查 #{number}")
    lookup = await said.next()
    assert lookup["mentions"] == [XIAOWANG] and lookup["text"].startswith(f"@小王 #{number} ")
    assert len(said.all) == 5
    assert all(LIU not in event["mentions"] and "刘师傅" not in event["text"] for event in said.all)
    with sessions() as s:
        chatter = s.scalars(select(Message).where(Message.text.like("今天菜市场%"))).one()
        assert (chatter.status, chatter.ticket_id) == (MessageStatus.PROCESSED, None)


async def test_a_wrong_token_stops_gridbot_run_with_a_clear_error(
    puppet: PuppetProcess, tmp_path: Path
) -> None:
    await asyncio.to_thread(load_classifier)
    seed(tmp_path / "gridbot.db", puppet.room_id).dispose()
    wrong = "wrong-token-5d2e8b"
    bot = BotProcess(puppet, tmp_path / "gridbot.db", tmp_path, token=wrong)
    started = time.monotonic()
    await bot.start()
    assert bot.proc is not None
    code = await asyncio.wait_for(bot.proc.wait(), 30)
    elapsed = time.monotonic() - started
    stderr = bot.log
    assert code != 0, stderr
    assert "error: " in stderr and "rejected the token" in stderr, stderr
    assert "Traceback" not in stderr and wrong not in stderr
    assert elapsed < 30


async def test_watchdog_reports_a_lost_puppet_service_in_the_database(
    own_puppet: PuppetProcess, tmp_path: Path
) -> None:
    async with bot_running(own_puppet, tmp_path) as (bot, engine):
        sessions = make_session_factory(engine)
        state = bot_state(sessions)
        await own_puppet.stop()
        await eventually(state(BotState.DISCONNECTED), "bot_status to say disconnected", bot)
        with sessions() as s:
            row = s.get(BotStatus, BOT)
            assert row is not None and not row.logged_in and row.last_error

        await own_puppet.start()  # same port and token: the bot reconnects with backoff
        await eventually(state(BotState.ONLINE), "bot_status to say online again", bot)
        sent_id = await own_puppet.say(ZHANG, "重连以后楼道灯还是不亮，麻烦看看")
        filed = await Said(own_puppet, bot).next()
        assert filed["mentions"] == [ZHANG] and "已收到您反映的" in filed["text"]
        with sessions() as s:
            assert s.scalars(select(Message).where(Message.platform_id == sent_id)).one().ticket_id

        assert await bot.stop() == 0  # Ctrl-C: a clean exit that says so in bot_status
        await eventually(state(BotState.STOPPED), "bot_status to say stopped", bot)
