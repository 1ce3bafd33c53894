"""The console transport: an interactive terminal group chat on the configured database.

Type as any member: `/as 张阿姨` (a resident) or `/as 小王` (whoever has that name in the grid);
`/who` lists the members, `/quit` ends. The bot's replies are printed as they leave the outbox.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from datetime import datetime

import anyio
from sqlalchemy import select

from gridbot.bot.app import Runtime, serve
from gridbot.bot.transport import OnMemberChange, OnMessage, TransportStatus
from gridbot.handlers.types import IncomingMessage, OutgoingMessage
from gridbot.models.entities import ChatGroup, Grid, Message, Person, RoleAssignment, utcnow

ROOM = "console-group@chatroom"


class ConsoleTransport:
    """Reads chat lines from a text stream and prints what the bot says."""

    def __init__(
        self,
        names: dict[str, str],
        read_line: Callable[[], str] = input,
        write: Callable[[str], None] = print,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.status = TransportStatus(name="console", connected=True, logged_in=True, bot_name="网格助手")
        self.names = names  # display name -> platform id
        self.read_line = read_line
        self.write = write
        self.clock = clock
        self.speaker = next(iter(names), "居民")
        self.ready = anyio.Event()

    async def start(self, on_message: OnMessage, on_member_change: OnMemberChange) -> None:
        """Start reading lines in the background."""
        self.write(f"已进入控制台群聊（当前身份：{self.speaker}）。/as 名字 切换身份，/who 成员，/quit 退出")
        self._on_message = on_message
        self.ready.set()

    async def loop(self) -> None:
        """Read lines until EOF or /quit."""
        await self.ready.wait()
        while True:
            try:
                line = await anyio.to_thread.run_sync(self.read_line)
            except EOFError:
                break
            line = line.strip()
            if line in ("/quit", "/exit"):
                break
            if line.startswith("/as "):
                self.speaker = line[4:].strip() or self.speaker
                self.write(f"（现在以「{self.speaker}」的身份发言）")
            elif line == "/who":
                self.write("成员：" + "、".join(self.names))
            elif line:
                await self._on_message(self._incoming(line))

    def _incoming(self, text: str) -> IncomingMessage:
        sender = self.names.setdefault(self.speaker, f"console:{self.speaker}")
        return IncomingMessage(
            platform_id=f"console-{uuid.uuid4().hex}",
            room_id=ROOM,
            sender_id=sender,
            sender_name=self.speaker,
            text=text,
            sent_at=self.clock(),
            room_topic="控制台网格群",
        )

    async def send(self, message: OutgoingMessage) -> str | None:
        """Print a bot message."""
        by_id = {v: k for k, v in self.names.items()}
        mentions = " ".join(f"@{by_id.get(m, m)}" for m in message.mention_ids)
        self.write(f"🤖 {self.status.bot_name}: {mentions + ' ' if mentions else ''}{message.text}")
        return None

    async def stop(self) -> None:
        """Nothing to disconnect."""


def _members(runtime: Runtime) -> dict[str, str]:
    """Bind the console room (setting up the demo district on an empty database) and list its members."""
    from gridbot.bot.demo import setup_world
    from gridbot.bot.replay import Line
    from gridbot.models.org import directory

    with runtime.sessions.begin() as session:
        grid = session.scalars(select(Grid).order_by(Grid.id)).first()
        if grid is None:
            now = utcnow()
            staff = [
                Line("c1", now, ROOM, "console:小王", "小王", "gridworker", ""),
                Line("c2", now, ROOM, "console:陈网格长", "陈网格长", "grid_leader", ""),
            ]
            grid = setup_world(session, staff)
        directory.bind_group(session, ROOM, grid, topic="控制台网格群")
        group = session.scalars(select(ChatGroup).where(ChatGroup.room_id == ROOM)).one()
        # the room's members: who holds a role in its grid, and who has spoken in it
        in_grid = select(RoleAssignment.person_id).where(
            RoleAssignment.grid_id == grid.id, RoleAssignment.active
        )
        spoke = select(Message.sender_id).where(Message.group_id == group.id)
        people = session.scalars(
            select(Person)
            .where(Person.platform_id.is_not(None), Person.id.in_(in_grid) | Person.id.in_(spoke))
            .order_by(Person.id)
        ).all()
        names = {p.name: p.platform_id for p in people if p.platform_id}
    names.setdefault("张阿姨", "console:张阿姨")
    return dict(sorted(names.items(), key=lambda kv: kv[0] != "张阿姨"))


async def run_console(runtime: Runtime) -> None:
    """`gridbot run --transport console`."""
    transport = ConsoleTransport(await anyio.to_thread.run_sync(_members, runtime), write=_echo)
    stop = anyio.Event()

    async with anyio.create_task_group() as tg:
        tg.start_soon(serve, runtime, transport, stop)
        await transport.loop()
        # the last lines' replies wait out the outbox merge window: let them go out before stopping
        await anyio.sleep(runtime.settings.outbox.merge_window_s + runtime.settings.outbox.min_interval_s)
        stop.set()


def _echo(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
