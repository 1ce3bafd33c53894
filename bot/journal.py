"""The journal transport: a chat platform made of files, for crash and load tests.

`DIR/inbound.jsonl` is the group: one JSON line per message, in the replay transcript's format
(`id`, `room`, `sender`, `name`, `text`, optional `t`, `mentions`, `quote`; the platform message id
is the line's `id`). `JournalTransport` follows it as it grows and keeps a durable cursor
(`DIR/inbound.cursor`, a byte offset replaced atomically as the messages before it are handled), so
a restarted bot resumes after the last messages it finished. Up to `AHEAD` lines are handed over at
once, in file order (the dispatcher batches them, each room in order), so up to that many may be
delivered again after a kill: the persist-first de-dup makes them no-ops. It appends `{"id", "outcome", "handled_at"}` to
`DIR/handled.jsonl` for latency measurements.

`DIR/sent.jsonl` is what the platform accepted: `JournalSink.send` appends one line per message and
fsyncs it before returning. Unlike WeChat, this platform can be asked afterwards what it received
(`confirm_delivered`), so a sender that died between the send and the record of it can tell which
claimed outbox rows went out. The Wechaty transport cannot answer that question: a row claimed by
a process killed in that window is sent again, so WeChat delivery stays at-least-once there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio

from gridbot.bot.transport import OnMemberChange, OnMessage, TransportStatus
from gridbot.handlers.types import IncomingMessage, OutgoingMessage
from gridbot.models.entities import utcnow
from gridbot.models.enums import MessageType

logger = logging.getLogger(__name__)

SENT = "sent.jsonl"
INBOUND = "inbound.jsonl"
HANDLED = "handled.jsonl"
CURSOR = "inbound.cursor"
AHEAD = 64  # lines handed over before the oldest is finished (the dispatcher batches them)


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step: a kill leaves the old or the new content, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def read_records(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of a journal file; a line torn by a kill (unparseable, unterminated) is skipped."""
    if not path.exists():
        return []
    records: list[dict[str, Any]] = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for raw in fh:
            try:
                row = json.loads(raw)
            except json.JSONDecodeError:
                logger.warning("%s: skipped a torn line (%d bytes)", path.name, len(raw))
                continue
            if isinstance(row, dict):
                records.append(row)
    return records


class JournalSink:
    """A platform that records every message it accepts in `DIR/sent.jsonl` (a ConfirmingSender)."""

    def __init__(self, directory: Path, clock: Callable[[], datetime] = utcnow) -> None:
        self.path = Path(directory) / SENT
        self.clock = clock
        self._terminated = False

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as fh:
            if not self._terminated:
                # a predecessor killed mid-write may have left an unterminated line: close it off so
                # our first record does not glue onto it
                self._terminated = True
                if fh.tell() > 0:
                    with self.path.open("rb") as rd:
                        rd.seek(-1, os.SEEK_END)
                        if rd.read(1) != b"\n":
                            fh.write(b"\n")
            fh.write(line.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())

    def record(self, message: OutgoingMessage) -> str:
        """Append and fsync one message (synchronous); returns its platform id."""
        row = {
            "outbox_ids": list(message.outbox_ids),
            "room": message.room_id,
            "to_contact": message.to_contact_id,
            "mentions": list(message.mention_ids),
            "text": message.text,
            "at": self.clock().isoformat(),
            "pid": os.getpid(),
        }
        self._append(json.dumps(row, ensure_ascii=False) + "\n")
        # one outbox row is delivered in one message only, so its id names the message
        return f"journal-{message.outbox_ids[0]}" if message.outbox_ids else f"journal-{uuid.uuid4().hex}"

    async def send(self, message: OutgoingMessage) -> str | None:
        """Deliver: once this returns, the line is on disk (the platform accepted the message)."""
        return await anyio.to_thread.run_sync(self.record, message)

    async def confirm_delivered(self, outbox_ids: Sequence[int]) -> set[int] | None:
        """The subset of `outbox_ids` found in the journal."""
        wanted = set(outbox_ids)
        records = await anyio.to_thread.run_sync(read_records, self.path)
        return {i for r in records for i in r.get("outbox_ids", ()) if i in wanted}


def parse_inbound(raw: str, now: datetime) -> IncomingMessage:
    """One inbound journal line as an IncomingMessage (ValueError/KeyError/TypeError when malformed)."""
    row: dict[str, Any] = json.loads(raw)
    at = datetime.fromisoformat(row["t"]) if row.get("t") else now
    if at.tzinfo is None:
        raise ValueError("time without a UTC offset")
    text = str(row.get("text", ""))
    return IncomingMessage(
        platform_id=str(row["id"]),
        room_id=str(row["room"]),
        sender_id=str(row["sender"]),
        sender_name=str(row.get("name", row["sender"])),
        text=text,
        sent_at=at,
        msg_type=MessageType.IMAGE if text.strip() == "[图片]" else MessageType.TEXT,
        mentions=tuple(row.get("mentions", ())),
        quoted_text=row.get("quote"),
    )


class JournalTransport:
    """A live transport over a journal directory: follows `inbound.jsonl`, sends into `sent.jsonl`."""

    def __init__(self, directory: Path, clock: Callable[[], datetime] = utcnow, poll_s: float = 0.05) -> None:
        self.dir = Path(directory)
        self.clock = clock
        self.poll_s = poll_s
        self.sink = JournalSink(self.dir, clock)
        self.status = TransportStatus(name="journal")
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        # handled.jsonl in the order messages finish: lines handed over together append one at a time
        self._handled_lock = asyncio.Lock()

    @property
    def cursor_path(self) -> Path:
        """Where the byte offset of the next unhandled inbound line is kept."""
        return self.dir / CURSOR

    def offset(self) -> int:
        """The durable cursor: bytes of `inbound.jsonl` already handled."""
        try:
            return int(json.loads(self.cursor_path.read_text(encoding="utf-8"))["offset"])
        except FileNotFoundError:
            return 0

    async def start(self, on_message: OnMessage, on_member_change: OnMemberChange) -> None:
        """Start following the inbound journal in a background task."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.status.connected = self.status.logged_in = True
        self.status.bot_id = self.status.bot_name = "journal"
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._follow(on_message))

    async def send(self, message: OutgoingMessage) -> str | None:
        """Append the message to `sent.jsonl` (fsynced)."""
        return await self.sink.send(message)

    async def confirm_delivered(self, outbox_ids: Sequence[int]) -> set[int] | None:
        """Which of these outbox rows `sent.jsonl` holds."""
        return await self.sink.confirm_delivered(outbox_ids)

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop following after the message being handled (cancelled past `grace_s`: it is redelivered)."""
        if self._task is not None:
            self._stopping.set()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, grace_s)
            self._task = None
        self.status.connected = self.status.logged_in = False

    async def _follow(self, on_message: OnMessage) -> None:
        """Hand lines over as they come, up to `AHEAD` at once (the dispatcher batches them); the cursor
        moves past a line once it and every line before it are handled."""
        offset = await anyio.to_thread.run_sync(self.offset)
        inbound = self.dir / INBOUND
        window: deque[tuple[int, asyncio.Future[None]]] = deque()  # (end offset, its handling), in order
        read_at = offset
        while not (self._stopping.is_set() and not window):
            if not self._stopping.is_set() and len(window) < AHEAD:
                lines = await anyio.to_thread.run_sync(_read_lines, inbound, read_at, AHEAD - len(window))
                for raw in lines:  # each handed over at once, in file order (the room order)
                    read_at += len(raw)
                    window.append((read_at, asyncio.ensure_future(self._handle(raw, on_message))))
            if not window:  # nothing new, or a line still being written
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.poll_s)
                continue
            end, handling = window.popleft()
            try:
                await handling
                while window and window[0][1].done():  # a batch finishes together: one cursor write
                    end, handling = window.popleft()
                    handling.result()
            except Exception:  # the database is down, say: keep the cursor and try the line again
                logger.exception("inbound journal: handling a line after byte %d failed; retrying", offset)
                for _, later in window:  # handled again after it (a no-op for those that were)
                    with contextlib.suppress(Exception):
                        await later
                window.clear()
                read_at = offset
                await asyncio.sleep(max(self.poll_s, 1.0))
                continue
            offset = end
            await anyio.to_thread.run_sync(write_atomic, self.cursor_path, json.dumps({"offset": offset}))

    async def _handle(self, raw: bytes, on_message: OnMessage) -> None:
        await self._handle_line(raw.decode("utf-8", errors="replace"), on_message)

    async def _handle_line(self, line: str, on_message: OnMessage) -> None:
        if not line.strip():
            return
        try:
            msg = parse_inbound(line, self.clock())
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("inbound journal: skipped a malformed line (%s)", type(exc).__name__)
            return
        self.status.last_message_at = self.clock()
        result = await on_message(msg)
        outcome = getattr(result, "status", None)
        row = {"id": msg.platform_id, "outcome": outcome, "handled_at": self.clock().isoformat()}
        async with self._handled_lock:  # FIFO: the first to finish writes first
            await anyio.to_thread.run_sync(
                _append_line, self.dir / HANDLED, json.dumps(row, ensure_ascii=False)
            )


def _read_lines(path: Path, offset: int, most: int) -> list[bytes]:
    """Up to `most` complete lines from `offset` (a last line whose newline is not written yet waits)."""
    lines: list[bytes] = []
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            while len(lines) < most and (raw := fh.readline()).endswith(b"\n"):
                lines.append(raw)
    except FileNotFoundError:
        pass
    return lines


def _append_line(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
