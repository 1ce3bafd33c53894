"""The replay transport: a JSONL transcript through the whole pipeline on a simulated clock.

Each line is {"id", "t" (ISO time), "room", "sender", "name", "role", "text"} with optional
"mentions" (platform ids), "quote" (quoted text) and "attachment" (a file the message carries, with
text "[图片]", "[文件]" or "[语音]": copied into the attachments directory's incoming/ folder as a
transport's download would be). `#{m012}` in a text stands for the ticket that
message m012 filed. Between lines the clock jumps ahead; deadline sweeps run at their simulated
times and the outbox is paced on simulated time, so hours pass in seconds and reminders fire.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

from gridbot.bot.app import Runtime
from gridbot.handlers.types import IncomingMessage, Outcome, OutgoingMessage, Sender
from gridbot.models.attachments.store import FileStore
from gridbot.models.enums import MessageType

MEDIA_PLACEHOLDERS = {"[图片]": MessageType.IMAGE, "[文件]": MessageType.FILE, "[语音]": MessageType.VOICE}
TICKET_PLACEHOLDER = re.compile(r"[#＃]\{(\w+)\}")
T = TypeVar("T", bound=Sender)


class TranscriptError(ValueError):
    """A transcript line is malformed; the message names the file and line."""


@dataclass(frozen=True)
class Line:
    """One transcript line."""

    id: str
    at: datetime
    room: str
    sender: str
    name: str
    role: str
    text: str
    mentions: tuple[str, ...] = ()
    quote: str | None = None
    mentions_bot: bool = False  # the line @-mentions the bot ("room": "" is a private message)
    attachment: str | None = None  # a file the message carries (a photo, a document, a voice clip)


def read_transcript(path: Path) -> list[Line]:
    """Parse a JSONL transcript, with a clear error naming the bad line."""
    lines: list[Line] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                row: dict[str, Any] = json.loads(raw)
                at = datetime.fromisoformat(row["t"])
                if at.tzinfo is None:
                    raise ValueError("time without a UTC offset")
                lines.append(
                    Line(
                        id=str(row.get("id", f"line{lineno}")),
                        at=at,
                        room=row["room"],
                        sender=row["sender"],
                        name=row.get("name", row["sender"]),
                        role=row.get("role", "resident"),
                        text=row.get("text", ""),
                        mentions=tuple(row.get("mentions", ())),
                        quote=row.get("quote"),
                        mentions_bot=bool(row.get("mentions_bot", False)),
                        attachment=row.get("attachment"),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise TranscriptError(f"{path}:{lineno}: {type(exc).__name__}: {exc}") from None
    return lines


class SimClock:
    """A settable clock; `sleep` advances it instead of waiting."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def seconds(self) -> float:
        """Monotonic-style seconds, for the coordinator's send pacing."""
        return self.now.timestamp()

    async def sleep(self, seconds: float) -> None:
        """Advance simulated time."""
        self.now += timedelta(seconds=seconds)


@dataclass
class ReplayTransport:
    """Collects what the bot sends, stamped with simulated time."""

    clock: SimClock
    on_send: Callable[[datetime, OutgoingMessage], None] = lambda at, m: None
    sent: list[tuple[datetime, OutgoingMessage]] = field(default_factory=list)

    async def send(self, message: OutgoingMessage) -> str | None:
        """Record one outgoing message."""
        self.sent.append((self.clock.now, message))
        self.on_send(self.clock.now, message)
        return f"replay-out-{len(self.sent)}"


@dataclass
class Replay(Generic[T]):
    """Drives a runtime through a transcript, delivering through `transport` (a ReplayTransport, a JournalSink)."""

    runtime: Runtime
    clock: SimClock
    transport: T
    sweep_every: timedelta = timedelta(minutes=5)
    on_line: Callable[[Line, str, Outcome], None] = lambda line, text, outcome: None
    tickets: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.conversation = self.runtime.conversation(self.clock)
        self.sender = self.runtime.sender(self.transport, self.clock, sleep=self.clock.sleep)
        self.next_sweep: datetime | None = None  # simulated time of the next deadline sweep

    def _download(self, source: str | None) -> str | None:
        """Copy a line's file into incoming/ under a random name, as a transport downloads it."""
        if not source:
            return None
        incoming = FileStore(self.runtime.settings.attachments).incoming
        incoming.mkdir(parents=True, exist_ok=True)
        target = incoming / secrets.token_hex(8)
        shutil.copyfile(source, target)
        return str(target)

    def _text(self, line: Line) -> str:
        return TICKET_PLACEHOLDER.sub(lambda m: f"#{self.tickets.get(m.group(1), m.group(1))}", line.text)

    async def advance(self, until: datetime) -> None:
        """Let simulated time pass to `until`, sweeping and delivering on the way."""
        if self.next_sweep is None:
            self.next_sweep = until
        while self.next_sweep <= until:
            self.clock.now = max(self.clock.now, self.next_sweep)
            self.runtime.sweep(self.clock.now)
            await self.drain()
            self.next_sweep += self.sweep_every
        self.clock.now = max(self.clock.now, until)

    async def drain(self) -> None:
        """Wait out the replies' merge window, then deliver everything due (pacing advances the clock)."""
        await self.clock.sleep(self.runtime.settings.outbox.merge_window_s)
        while await self.sender.drain_once():
            pass

    @staticmethod
    def platform_id(line: Line, n: int) -> str:
        """The platform message id line `n` is delivered under (the same on every delivery)."""
        return f"replay-{line.room}-{line.id}-{n}"

    async def feed(self, line: Line, n: int) -> Outcome:
        """Deliver one transcript line as an inbound message and route it."""
        await self.advance(line.at)
        msg = self.incoming(line, n)
        outcome = await self.conversation.handle(msg)
        self.record(line, outcome)
        self.on_line(line, msg.text, outcome)
        await self.drain()
        return outcome

    def record(self, line: Line, outcome: Outcome) -> None:
        """Remember the ticket a line filed, for the `#{id}` placeholders of later lines."""
        if outcome.ticket is not None and outcome.status == "ticket":
            self.tickets[line.id] = outcome.ticket

    def incoming(self, line: Line, n: int) -> IncomingMessage:
        """The inbound message line `n` is delivered as, at the clock's time."""
        text = self._text(line)
        quote = (
            TICKET_PLACEHOLDER.sub(lambda m: f"#{self.tickets.get(m.group(1), '?')}", line.quote or "")
            or None
        )
        return IncomingMessage(
            platform_id=self.platform_id(line, n),
            room_id=line.room,
            sender_id=line.sender,
            sender_name=line.name,
            text=text,
            sent_at=self.clock.now,
            msg_type=MEDIA_PLACEHOLDERS.get(text.strip(), MessageType.TEXT),
            mentions=line.mentions,
            mentions_bot=line.mentions_bot,
            quoted_text=quote,
            attachment_path=self._download(line.attachment),
        )

    async def run(self, lines: Iterable[Line], tail: timedelta = timedelta()) -> None:
        """Replay every line, then let `tail` more simulated time pass (reminders keep firing)."""
        last: datetime | None = None
        for n, line in enumerate(lines):
            await self.feed(line, n)
            last = line.at
        if last is not None and tail:
            await self.advance(last + tail)


def iter_roles(lines: Iterable[Line]) -> Iterator[tuple[str, str, str, str]]:
    """(room, sender id, name, role) of each distinct non-resident speaker, for setting up the grid."""
    seen: set[str] = set()
    for line in lines:
        if line.role != "resident" and line.sender not in seen:
            seen.add(line.sender)
            yield line.room, line.sender, line.name, line.role
