"""Fixtures: the fake WeCom (AI bot over TLS WebSocket, qyapi over HTTP, the archive) and a bot
process's runtime on the real PostgreSQL, serving the WeCom transport in this event loop."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

if importlib.util.find_spec("aibot") is None and os.environ.get("GRIDBOT_E2E_REQUIRED") == "1":
    raise RuntimeError(
        "GRIDBOT_E2E_REQUIRED=1 but the wecom extra is not installed (pip install 'gridbot[wecom]')"
    )
pytest.importorskip("aibot", reason="the wecom extra is not installed (pip install 'gridbot[wecom]')")

from gridbot.bot.app import Runtime, build_runtime, serve  # noqa: E402
from gridbot.bot.wecom.finance import KeyRing  # noqa: E402
from gridbot.bot.wecom.transport import WeComTransport  # noqa: E402
from gridbot.models.db import make_session_factory  # noqa: E402
from gridbot.models.entities import ChatGroup  # noqa: E402
from gridbot.models.enums import Role  # noqa: E402
from gridbot.models.messaging.coordination import make_coordinator  # noqa: E402
from gridbot.models.org import directory  # noqa: E402
from gridbot.models.settings import OutboxSettings, Settings, SLASettings, WeComSettings  # noqa: E402
from tests.e2e.wecom.fakes import FakeAiBot, FakeArchive, FakeQyApi, corp_keys, make_tls  # noqa: E402

CORP, BOT_ID, BOT_SECRET, ARCHIVE_SECRET, APP_SECRET = (
    "ww-test-corp",
    "bot-grid",
    "s3cret",
    "arch-secret",
    "app-secret",
)
ROOM = "wrOgQhDgAAgrid001"  # an external group (客户群) of grid G001
WORKER, LEADER = "wangxw", "chenwz"  # 企业微信账号 (userid) of the gridworker and the grid leader
ZHANG, LIU, WU = "wmZhangAyi0001", "wmLiuShifu0002", "wmWuDaye0003"  # residents (external contacts)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class WeCom:
    """The fake WeCom and the settings that point a bot at it."""

    bot: FakeAiBot
    api: FakeQyApi
    archive: FakeArchive
    keys: KeyRing
    settings: Settings
    tmp: Path


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """One test CA per session: the SDK keeps one TLS context per process, so one CA is trusted."""
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def wecom(
    tmp_path: Path, pg_engine: Engine, tls_files: tuple[Path, Path, Path]
) -> AsyncIterator[WeCom]:
    ca, cert, key = tls_files
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    bot = FakeAiBot(BOT_ID, BOT_SECRET)
    await bot.start(server_tls)
    api = FakeQyApi(CORP, {ARCHIVE_SECRET, APP_SECRET}, agree={ROOM: {ZHANG: True, LIU: True, WU: False}})
    api.start()
    public, private_file = corp_keys(tmp_path)
    settings = Settings(
        wecom=WeComSettings(
            corp_id=CORP,
            bot_id=BOT_ID,
            bot_secret=BOT_SECRET,
            bot_ws_url=bot.url,
            bot_ca_file=ca,
            archive_secret=ARCHIVE_SECRET,
            archive_private_key_file=private_file,
            archive_poll_s=0.2,
            api_base=api.url,
            agent_id=1000002,
            app_secret=APP_SECRET,
        ),
        outbox=OutboxSettings(min_interval_s=0.0, merge_window_s=0.0),
        sla=SLASettings(sweep_interval_s=3600.0),
        spool_dir=tmp_path / "spool",
        instance_id="wecom-test",
        rollup_interval_s=3600.0,
    )
    yield WeCom(bot, api, FakeArchive(public), KeyRing.from_file(private_file), settings, tmp_path)
    await bot.close()
    api.stop()


def grid_world(sessions: sessionmaker[Session]) -> None:
    """Grid G001 with its external group (the bot may not post there), a gridworker and a leader."""
    with sessions.begin() as session:
        city = directory.create_region(session, "NJ", "南京市")
        district = directory.create_region(session, "NJ-GL", "鼓楼区", city)
        street = directory.create_region(session, "NJ-GL-HQ", "华侨路街道", district)
        community = directory.create_region(session, "NJ-GL-HQ-WTS", "五台山社区", street)
        grid = directory.create_grid(session, "G001", "五台山第一网格", community, households=300)
        group = directory.bind_group(session, ROOM, grid, topic="五台山一网格居民群")
        group.can_post = False
        for uid, name, role in ((WORKER, "小王", Role.GRIDWORKER), (LEADER, "陈网格长", Role.GRID_LEADER)):
            directory.assign_role(session, directory.ensure_person(session, uid, name), role, grid=grid)
        directory.assign_role(
            session,
            directory.ensure_person(session, "sunzr", "孙主任"),
            Role.COMMUNITY_ADMIN,
            region=community,
        )


@dataclass
class Bot:
    runtime: Runtime
    transport: WeComTransport
    stop: anyio.Event
    done: anyio.Event


class BotRunner:
    """Starts and stops bot processes (in this event loop) over one database."""

    def __init__(self, wecom: WeCom, engine: Engine) -> None:
        self.wecom, self.engine = wecom, engine
        self.sessions = make_session_factory(engine)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> Bot:
        settings = self.wecom.settings
        runtime = build_runtime(settings, self.engine, make_coordinator(settings))
        transport = WeComTransport(
            settings, runtime.sessions, source=self.wecom.archive, keys=self.wecom.keys, login_timeout_s=10
        )
        stop, done = anyio.Event(), anyio.Event()
        started = self.wecom.bot.connections

        async def run() -> None:
            try:
                await serve(runtime, transport, stop)
            finally:
                done.set()

        self._tasks.append(asyncio.ensure_future(run()))
        await self.wecom.bot.wait_connected(started + 1, timeout=60)
        while transport.puller is None:  # serve() starts the puller right after the login
            await asyncio.sleep(0.01)
        return Bot(runtime, transport, stop, done)

    async def stop(self, bot: Bot) -> None:
        bot.stop.set()
        with anyio.fail_after(30):
            await bot.done.wait()

    async def close(self) -> None:
        for task in self._tasks:
            if not task.done():
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):  # the test already reported
                await task


@pytest.fixture
async def runner(wecom: WeCom, pg_engine: Engine) -> AsyncIterator[BotRunner]:
    grid_world(make_session_factory(pg_engine))
    r = BotRunner(wecom, pg_engine)
    yield r
    await r.close()


async def until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll the database (through `check`, run in a thread) until it returns something truthy."""
    with anyio.fail_after(timeout):
        while True:
            value = await anyio.to_thread.run_sync(check)
            if value:
                return value
            await anyio.sleep(0.05)


def now() -> datetime:
    return datetime.now(UTC)


__all__ = ["ChatGroup"]
