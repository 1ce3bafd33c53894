"""Replay fixtures: the demo world on `any_engine`, a runtime on a simulated clock, and `play`.

`play([...])` feeds transcript lines written inline in a test (dicts shaped like the JSONL lines of
bot/replay.py, with defaults filled in) through the whole pipeline — persist, route, classify,
tickets, outbox, paced sender — and returns what the bot sent for them and the Replay object.
The Replay lives for the whole test, so `#{m2}` placeholders and the clock carry across calls.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from gridbot.bot.app import Runtime, build_runtime
from gridbot.bot.demo import names_of, setup_world
from gridbot.bot.replay import Line, Replay, ReplayTransport, SimClock
from gridbot.handlers.types import OutgoingMessage
from gridbot.models.entities import Message, Person, Ticket
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.models.settings import DBSettings, Settings
from gridbot.nlp.classifier import Classifier, load_classifier

T0 = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # Tuesday 09:00 in Shanghai, a working day
ROOM = "demo-room@chatroom"
# who speaks in the tests: name → (platform id, role); anyone else is a resident
STAFF = {
    "小王": ("wx-wang", "gridworker"),
    "李四": ("wx-li", "gridworker"),
    "陈网格长": ("wx-chen", "grid_leader"),
    "孙主任": ("demo-community-admin", "community_admin"),
}
RESIDENTS = {"张阿姨": "wx-zhang", "刘师傅": "wx-liu", "赵大爷": "wx-zhao-dy"}
ADMIN = "demo-community-admin"  # setup_world gives this id the community admin role over WTS


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (pytest-asyncio is not used)."""
    return "asyncio"


@pytest.fixture(scope="session")
def shared_classifier() -> Classifier:
    """The default fast classifier, loaded once per run (it is read-only)."""
    return load_classifier()


@pytest.fixture
def clock() -> SimClock:
    """The simulated clock, starting on a Tuesday morning."""
    return SimClock(T0)


@pytest.fixture
def runtime(any_engine: Engine, clock: SimClock, shared_classifier: Classifier) -> Iterator[Runtime]:
    """A runtime on `any_engine` (SQLite and PostgreSQL) with an in-process coordinator on `clock`."""
    settings = Settings(_env_file=None, db=DBSettings(url=any_engine.url.render_as_string(False)))
    rt = build_runtime(settings, any_engine, coordinator=LocalCoordinator(clock=clock.seconds))
    rt.classifier = lambda: shared_classifier
    yield rt


def staff_lines() -> list[Line]:
    """One line per staff member, for `setup_world` (it reads the room and the roles from them)."""
    return [Line(f"setup-{pid}", T0, ROOM, pid, name, role, "") for name, (pid, role) in STAFF.items()]


@dataclass(frozen=True)
class DemoWorld:
    """Ids of the demo grid (bound to ROOM) and of a second grid of the same community."""

    grid: int
    room: str
    other_grid_code: str


@pytest.fixture
def demo_world(runtime: Runtime) -> DemoWorld:
    """`bot.demo.setup_world` committed: four grids, ROOM bound to WTS-01, the staff with their roles."""
    with runtime.sessions.begin() as session:
        grid = setup_world(session, staff_lines())
        return DemoWorld(grid=grid.id, room=ROOM, other_grid_code="WTS-02")


def to_line(row: dict[str, Any], n: int, previous: datetime) -> Line:
    """A test's dict as a transcript Line: sender, role, room and time filled in from the names."""
    name = row["name"]
    pid, role = STAFF.get(name, (RESIDENTS.get(name, f"wx-{name}"), "resident"))
    at = row.get("t", previous + timedelta(minutes=1))
    if isinstance(at, timedelta):
        at = T0 + at
    return Line(
        id=row.get("id", f"m{n}"),
        at=at,
        room=row.get("room", ROOM),
        sender=row.get("sender", pid),
        name=name,
        role=row.get("role", role),
        text=row.get("text", ""),
        mentions=tuple(row.get("mentions", ())),
        quote=row.get("quote"),
        mentions_bot=bool(row.get("mentions_bot", False)),
        attachment=row.get("attachment"),
    )


class Group:
    """One replayed group chat for a test; see the module docstring."""

    def __init__(self, runtime: Runtime, clock: SimClock) -> None:
        self.runtime = runtime
        self.clock = clock
        self.replay = Replay(runtime, clock, ReplayTransport(clock))
        self.fed = 0

    async def play(self, rows: Sequence[dict[str, Any]]) -> tuple[list[OutgoingMessage], Replay]:
        """Feed the rows in order; returns the messages the bot sent meanwhile, and the Replay."""
        start = len(self.replay.transport.sent)
        for row in rows:
            line = to_line(row, self.fed, self.clock.now)
            await self.replay.feed(line, self.fed)
            self.fed += 1
        return [m for _, m in self.replay.transport.sent[start:]], self.replay

    async def say(self, name: str, text: str, **extra: Any) -> str:
        """One line from `name`; returns all the bot sent meanwhile, texts joined by newlines."""
        sent, _ = await self.play([{"name": name, "text": text, **extra}])
        return "\n".join(m.text for m in sent)

    async def report(self, text: str, name: str = "张阿姨") -> int:
        """A resident's report; returns the number of the ticket it filed (or joined)."""
        line_id = f"report{self.fed}"
        _, replay = await self.play([{"id": line_id, "name": name, "text": text}])
        assert line_id in replay.tickets, f"{text!r} filed no ticket"
        return replay.tickets[line_id]

    def render(self, message: OutgoingMessage) -> str:
        """A sent message as the group sees it: `@张阿姨 已收到…`."""
        with self.runtime.sessions() as session:
            names = names_of(session)
        mentions = " ".join(f"@{names.get(m, m)}" for m in message.mention_ids)
        return f"{mentions} {message.text}" if mentions else message.text


Play = Callable[[Sequence[dict[str, Any]]], Awaitable[tuple[list[OutgoingMessage], Replay]]]


@pytest.fixture
def group(runtime: Runtime, clock: SimClock, demo_world: DemoWorld) -> Group:
    """The demo group, ready to replay lines."""
    return Group(runtime, clock)


@pytest.fixture
def play(group: Group) -> Play:
    """`await play([{"name": "张阿姨", "text": "…"}, …])` → (messages the bot sent, the Replay)."""
    return group.play


def ticket(session: Session, number: int) -> Ticket:
    """A ticket by number (fails the test when absent)."""
    found = session.get(Ticket, number)
    assert found is not None, f"ticket #{number} is not in the database"
    return found


def name_of(session: Session, person_id: int | None) -> str | None:
    """A person's display name (None for nobody)."""
    person = session.get(Person, person_id) if person_id is not None else None
    return person.name if person else None


def inbound(session: Session, text: str) -> Message:
    """The stored inbound message with this exact text."""
    found = session.scalars(select(Message).where(Message.text == text)).one()
    return found
