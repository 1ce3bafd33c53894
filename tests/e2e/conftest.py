"""End-to-end fixtures: a real Wechaty puppet service (Node, tests/e2e/puppet) on a loopback port.

Without node, tests/e2e/puppet/node_modules (scripts/e2e-setup installs them) or the `wechaty`
extra these tests skip with the reason; with GRIDBOT_E2E_REQUIRED=1 (CI) they fail instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

PUPPET_DIR = Path(__file__).resolve().parent / "puppet"
REQUIRED = os.environ.get("GRIDBOT_E2E_REQUIRED") == "1"
EVENT_TIMEOUT_S = 10.0
READY_TIMEOUT_S = 60.0  # node's start alone took 17 s on a loaded 2-core machine


def unavailable(reason: str) -> None:
    """Skip the test, or fail it when the e2e environment is required (CI)."""
    if REQUIRED:
        pytest.fail(f"GRIDBOT_E2E_REQUIRED=1 but {reason}")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """The e2e tests run on asyncio (python-wechaty and grpclib need it); session-wide, so one
    event loop can serve the module-scoped puppet server."""
    return "asyncio"


class PuppetProcess:
    """The Node puppet service as a subprocess: JSON commands on stdin, JSON events on stdout."""

    def __init__(self, port: int, token: str, log_path: Path) -> None:
        self.port, self.token, self.log_path = port, token, log_path
        self.endpoint = f"127.0.0.1:{port}"
        self.ready: dict[str, Any] = {}
        self.bot_said: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ref = 0

    @property
    def room_id(self) -> str:
        """The id of the grid group (it contains '@', like a real WeChat room id)."""
        return str(self.ready["room"]["id"])

    async def start(self) -> None:
        """Start node and wait for its ready line."""
        node = shutil.which("node")
        assert node is not None
        with self.log_path.open("ab") as log:
            self._proc = await asyncio.create_subprocess_exec(
                node,
                "server.js",
                "--port",
                str(self.port),
                "--token",
                self.token,
                cwd=PUPPET_DIR,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        assert self._proc.stdout is not None
        while not self.ready:
            line = await asyncio.wait_for(self._proc.stdout.readline(), READY_TIMEOUT_S)
            if not line:
                raise RuntimeError(f"puppet server exited before ready; see {self.log_path}")
            event = json.loads(line)
            if event.get("event") == "ready":
                self.ready = event
        self._reader = asyncio.create_task(self._read(self._proc.stdout))

    async def _read(self, stdout: asyncio.StreamReader) -> None:
        while line := await stdout.readline():
            event = json.loads(line)
            if event["event"] == "bot_said":
                self.bot_said.put_nowait(event)
            elif event["event"] in ("done", "error") and event.get("ref") in self._pending:
                self._pending.pop(event["ref"]).set_result(event)

    async def command(self, op: str, **fields: Any) -> dict[str, Any]:
        """Send one command and return its `done` event (with the new message id for say/image)."""
        event = await (await self.submit(op, **fields))
        assert event["event"] == "done", event
        return event

    async def submit(self, op: str, **fields: Any) -> asyncio.Future[dict[str, Any]]:
        """Send one command without waiting for it: await the returned future for its event."""
        assert self._proc is not None and self._proc.stdin is not None
        self._ref += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._ref] = future
        line = json.dumps({"op": op, "ref": self._ref, **fields}, ensure_ascii=False) + "\n"
        self._proc.stdin.write(line.encode())
        await self._proc.stdin.drain()
        return asyncio.ensure_future(asyncio.wait_for(future, EVENT_TIMEOUT_S))

    async def say(
        self, sender: str, text: str, mentions: tuple[str, ...] = (), room: str | None = None
    ) -> str:
        """A member says `text` in the room (or to the bot when room is ''); returns the message id."""
        target = self.room_id if room is None else room or None
        event = await self.command(
            "say", **{"from": sender, "text": text, "mentions": list(mentions), "room": target}
        )
        return str(event["id"])

    async def next_bot_said(self) -> dict[str, Any]:
        """The next message the bot sent, as the Node side saw it."""
        return await asyncio.wait_for(self.bot_said.get(), EVENT_TIMEOUT_S)

    async def stop(self) -> None:
        """Stop node (closing stdin makes it shut its gRPC server down)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), EVENT_TIMEOUT_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


async def start_puppet(log_dir: Path) -> PuppetProcess:
    """Start a puppet server (or skip/fail when the e2e environment is missing)."""
    if shutil.which("node") is None:
        unavailable("node is not on PATH")
    if not (PUPPET_DIR / "node_modules" / "wechaty-puppet-service").is_dir():
        unavailable("tests/e2e/puppet/node_modules is missing: run scripts/e2e-setup")
    if importlib.util.find_spec("wechaty") is None:
        unavailable("python-wechaty is not installed: run scripts/e2e-setup")
    server = PuppetProcess(free_port(), f"e2e-{secrets.token_hex(8)}", log_dir / "puppet.log")
    await server.start()
    return server


@pytest.fixture(scope="module")
async def shared_puppet(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[PuppetProcess]:
    """One puppet server for a test module: Node needs seconds to load its modules here."""
    server = await start_puppet(tmp_path_factory.mktemp("puppet"))
    yield server
    await server.stop()


@pytest.fixture
async def puppet(shared_puppet: PuppetProcess) -> PuppetProcess:
    """The module's puppet server, with no bot messages left over from an earlier test."""
    while not shared_puppet.bot_said.empty():
        shared_puppet.bot_said.get_nowait()
    return shared_puppet


@pytest.fixture
async def own_puppet(tmp_path: Path) -> AsyncIterator[PuppetProcess]:
    """A puppet server of the test's own, for tests that stop or restart it."""
    server = await start_puppet(tmp_path)
    yield server
    await server.stop()


class BotSide:
    """The transport under test and what it delivered."""

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self.messages: asyncio.Queue[Any] = asyncio.Queue()
        self.member_changes: asyncio.Queue[Any] = asyncio.Queue()

    async def on_message(self, message: Any) -> None:
        """The transport's message callback."""
        self.messages.put_nowait(message)

    async def on_member_change(self, change: Any) -> None:
        """The transport's member-change callback."""
        self.member_changes.put_nowait(change)

    async def next_message(self) -> Any:
        """The next IncomingMessage the transport delivered."""
        return await asyncio.wait_for(self.messages.get(), EVENT_TIMEOUT_S)


def make_transport(endpoint: str, token: str, tmp_path: Path, **options: Any) -> Any:
    """A WechatyTransport with test-friendly timeouts and a private cache dir."""
    from gridbot.bot.wechaty_transport import WechatyTransport

    options.setdefault("login_timeout_s", 10.0)
    options.setdefault("backoff_s", (0.2, 1.0))
    return WechatyTransport(
        endpoint,
        token,
        bot_name="网格助手",
        plugin_port=free_port(),
        cache_dir=tmp_path / "wechaty",
        **options,
    )


@pytest.fixture
async def bot_side(puppet: PuppetProcess, tmp_path: Path) -> AsyncIterator[BotSide]:
    """The WechatyTransport logged in to the puppet service over real gRPC."""
    side = BotSide(make_transport(puppet.endpoint, puppet.token, tmp_path))
    await side.transport.start(side.on_message, side.on_member_change)
    yield side
    await side.transport.stop()
