"""The bot serving in-process on the real clock, driven by a queue: `bot.app.serve` as `gridbot run` runs it.

`QueueTransport` is a Transport the test drives: `push` queues an inbound message (delivered to the
handler one at a time, in order, as the Wechaty adapter does), `send` records what the bot said and
wakes whoever awaits it. `live_bot` runs `serve` in a task group; an error that kills `serve` (or a
loop inside it) fails the test instead of leaving it waiting.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import anyio
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from gridbot.bot.app import Runtime, build_runtime, serve
from gridbot.bot.demo import setup_world
from gridbot.bot.replay import Line
from gridbot.bot.transport import OnMemberChange, OnMessage, TransportStatus
from gridbot.handlers.types import IncomingMessage, OutgoingMessage
from gridbot.models.db import make_session_factory
from gridbot.models.entities import Message, TicketDeadline, utcnow
from gridbot.models.enums import DeadlineKind
from gridbot.models.messaging.coordination import Coordinator
from gridbot.models.settings import DBSettings, OutboxSettings, RedisSettings, Settings, SLASettings
from gridbot.models.tickets import deadlines
from gridbot.models.tickets.sweeper import SweepResult
from gridbot.nlp.classifier import Classifier

T = TypeVar("T")
ROOM_A, ROOM_B = "fault-room-a@chatroom", "fault-room-b@chatroom"
WORKER, LEADER = ("wx-wang", "小王"), ("wx-chen", "陈网格长")
WAIT_S = 20.0  # for what a serving bot does on its own
_ids = itertools.count(1)


def live_settings(
    db_url: str,
    spool_dir: Path,
    redis_url: str | None = None,
    instance_id: str = "fault-a",
    rollup_interval_s: float = 1.0,
) -> Settings:
    """Settings for a bot that runs fast: sweeps every 0.2 s, 50 ms between sends, a short merge window."""
    return Settings(
        _env_file=None,
        db=DBSettings(url=db_url),
        redis=RedisSettings(url=redis_url),
        sla=SLASettings(sweep_interval_s=0.2),
        outbox=OutboxSettings(min_interval_s=0.05, merge_window_s=0.2, backoff_base_s=0.5),
        rollup_interval_s=rollup_interval_s,
        spool_dir=spool_dir,
        instance_id=instance_id,
    )


def seed(engine: Engine, rooms: Sequence[str] = (ROOM_A, ROOM_B)) -> int:
    """The demo grid with `rooms` bound to it, 小王 its gridworker and 陈网格长 its leader; the grid id."""
    at = utcnow()
    staff = [
        Line(f"setup-{room}-{pid}", at, room, pid, name, role, "")
        for room in rooms
        for (pid, name), role in ((WORKER, "gridworker"), (LEADER, "grid_leader"))
    ]
    with make_session_factory(engine).begin() as session:
        return setup_world(session, staff).id


def said(room: str, sender: str, name: str, text: str, platform_id: str | None = None) -> IncomingMessage:
    """A text a member says in a room now (a fresh platform id unless one is given)."""
    return IncomingMessage(
        platform_id=platform_id or f"live-{next(_ids)}",
        room_id=room,
        sender_id=sender,
        sender_name=name,
        text=text,
        sent_at=utcnow(),
    )


class QueueTransport:
    """A Transport driven by the test; see the module docstring."""

    def __init__(self, name: str = "live") -> None:
        self.status = TransportStatus(name=name, bot_id=f"wxid_{name}", bot_name="网格助手")
        self.sent: list[OutgoingMessage] = []
        # per delivery, in order: (platform id, what the handler returned or raised)
        self.handled_log: list[tuple[str, object]] = []
        self._pushed: dict[str, int] = {}
        self.sweeps = 0  # sweeps that completed (counted by `live_bot`)
        # awaited inside `send` before it returns (a fault injected while a message is in flight)
        self.before_send: Callable[[OutgoingMessage], Awaitable[None]] | None = None
        self._inbox_in, self._inbox_out = anyio.create_memory_object_stream[IncomingMessage](math.inf)
        self._on_message: OnMessage | None = None
        self._started = anyio.Event()
        self._changed = anyio.Event()
        self.peers: list[QueueTransport] = []  # instances logged in to the same account

    def share_account_with(self, other: QueueTransport) -> None:
        """Both instances are logged in to one WeChat account: one record of what it sent, seen by both."""
        other.sent = self.sent
        self.peers.append(other)
        other.peers.append(self)

    async def start(self, on_message: OnMessage, on_member_change: OnMemberChange) -> None:
        """'Log in': from now on pushed messages reach `on_message`."""
        self._on_message = on_message
        self.status.connected = self.status.logged_in = True
        self._started.set()

    async def send(self, message: OutgoingMessage) -> str | None:
        """Record one outgoing message and wake the waiters."""
        if self.before_send is not None:
            await self.before_send(message)
        self.sent.append(message)
        self.changed()
        for peer in self.peers:
            peer.changed()
        return f"{self.status.name}-out-{len(self.sent)}"

    async def stop(self) -> None:
        """'Log out': messages still queued are not delivered."""
        self.status.connected = self.status.logged_in = False
        self._inbox_in.close()

    def push(self, message: IncomingMessage) -> IncomingMessage:
        """Queue an inbound message (it arrives after everything pushed before it)."""
        self._inbox_in.send_nowait(message)
        self._pushed[message.platform_id] = self._pushed.get(message.platform_id, 0) + 1
        return message

    async def deliver(self) -> None:
        """Hand queued messages to the handler one at a time; a handler error is kept, not raised."""
        await self._started.wait()
        assert self._on_message is not None
        async with self._inbox_out:
            async for message in self._inbox_out:
                self.status.last_message_at = utcnow()
                try:
                    outcome: object = await self._on_message(message)
                except Exception as exc:  # like the Wechaty adapter: log-worthy, not fatal
                    outcome = exc
                self.handled_log.append((message.platform_id, outcome))
                self.changed()

    def close(self) -> None:
        """Close the inbound queue (idempotent)."""
        self._inbox_in.close()
        self._inbox_out.close()

    def changed(self) -> None:
        """Wake everything waiting in `wait_for` to re-check its condition."""
        self._changed.set()
        self._changed = anyio.Event()

    def wakes_on(self, other: QueueTransport) -> None:
        """Waiters on this transport also re-check when `other` sends (a condition spanning both)."""
        other.peers.append(self)

    async def wait_for(
        self, check: Callable[[], T | None], what: str | Callable[[], str], timeout_s: float = WAIT_S
    ) -> T:
        """Await until `check()` returns something truthy (re-checked whenever this transport changes).

        `what` names the condition in the failure message; a callable is asked at the timeout.
        """
        try:
            with anyio.fail_after(timeout_s):
                while not (value := check()):
                    await self._changed.wait()
                return value
        except TimeoutError:
            said = what() if callable(what) else what
            raise AssertionError(
                f"timed out after {timeout_s:g} s waiting for {said}; {self.summary()}"
            ) from None

    async def handled(self, message: IncomingMessage, timeout_s: float = WAIT_S) -> object:
        """What the handler returned for the latest push of `message` (fails the test if it raised)."""
        pid, nth = message.platform_id, self._pushed.get(message.platform_id, 0)

        def outcomes() -> list[object]:
            return [outcome for p, outcome in self.handled_log if p == pid]

        await self.wait_for(lambda: len(outcomes()) >= nth, f"{pid} handled", timeout_s)
        outcome = outcomes()[nth - 1]
        if isinstance(outcome, BaseException):
            raise AssertionError(f"the handler raised on {pid}") from outcome
        return outcome

    def to(self, person: str) -> list[OutgoingMessage]:
        """Everything sent that @-mentions `person`."""
        return [m for m in self.sent if person in m.mention_ids]

    async def reply_to(self, message: IncomingMessage, timeout_s: float = WAIT_S) -> OutgoingMessage:
        """The first message sent that @-mentions the sender of `message`."""
        return (
            await self.wait_for(lambda: self.to(message.sender_id), f"a reply to {message.text!r}", timeout_s)
        )[0]

    async def sweeps_after(self, count: int, more: int = 2, timeout_s: float = WAIT_S) -> None:
        """Await `more` completed sweeps after the `count`-th."""
        await self.wait_for(lambda: self.sweeps >= count + more, f"{more} more sweeps", timeout_s)

    def summary(self) -> str:
        """What happened so far, for a failure message."""
        texts = [f"{m.mention_ids}: {m.text[:60]!r}" for m in self.sent]
        return f"sent {texts}, handled {self.handled_log}, sweeps {self.sweeps}"


def ticket_of(engine: Engine, message: IncomingMessage) -> int:
    """The ticket the stored message filed (fails the test when it filed none)."""
    with Session(engine) as session:
        found = session.scalar(select(Message.ticket_id).where(Message.platform_id == message.platform_id))
    assert found is not None, f"{message.platform_id} ({message.text!r}) filed no ticket"
    return found


def acks(sent: Sequence[OutgoingMessage], ticket: int) -> int:
    """How often the filing of ticket #N was acknowledged (a merged message counts each part)."""
    return sum(m.text.count(f"工单 #{ticket} 已转") for m in sent)


def accepts(sent: Sequence[OutgoingMessage], ticket: int) -> int:
    """How often the reporter heard that ticket #N was accepted (接单)."""
    return sum(m.text.count(f"（工单 #{ticket}）已由") for m in sent)


@dataclass
class _CountingRuntime(Runtime):
    """The runtime, telling the transport about each completed sweep."""

    on_sweep: Callable[[], None] = field(default=lambda: None, repr=False)

    def sweep(self, now: datetime) -> SweepResult:
        result = super().sweep(now)
        anyio.from_thread.run_sync(self.on_sweep)  # runs in serve's worker thread
        return result


def make_runtime(
    settings: Settings, engine: Engine, coordinator: Coordinator, classifier: Classifier
) -> Runtime:
    """`build_runtime` with the session's classifier (loading the model takes seconds)."""
    built = build_runtime(settings, engine, coordinator)
    runtime = _CountingRuntime(**{f.name: getattr(built, f.name) for f in fields(built)})
    runtime.classifier = lambda: classifier
    return runtime


@asynccontextmanager
async def live_bot(runtime: Runtime, transport: QueueTransport) -> AsyncIterator[QueueTransport]:
    """`serve(runtime, transport, stop)` running until the block ends; yields the transport."""
    if isinstance(runtime, _CountingRuntime):

        def counted() -> None:
            transport.sweeps += 1
            transport.changed()

        runtime.on_sweep = counted
    stop = anyio.Event()

    async def serving() -> None:
        await serve(runtime, transport, stop)
        if not stop.is_set():
            raise AssertionError("serve returned before it was told to stop")

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(serving)
            tg.start_soon(transport.deliver)
            with anyio.fail_after(60):
                await transport._started.wait()
            try:
                yield transport
            finally:
                stop.set()
    finally:
        transport.close()


def make_due(engine: Engine, ticket: int, in_s: float = 0.0) -> None:
    """Bring a ticket's first-response warning to now (+ `in_s`): the next sweep fires that level only."""
    at = utcnow() + timedelta(seconds=in_s)
    with make_session_factory(engine).begin() as session:
        d = session.scalars(
            select(TicketDeadline).where(
                TicketDeadline.ticket_id == ticket, TicketDeadline.kind == DeadlineKind.FIRST_RESPONSE
            )
        ).one()
        d.warn_at = at
        deadlines.rearm(session, [d])  # as the lifecycle does when it moves a clock
