"""A replay that survives being killed (`gridbot replay TRANSCRIPT --journal-dir DIR`).

The bot's messages go to a JournalSink (`DIR/sent.jsonl`). After each line is fully handled —
routed, and the outbox drained — `DIR/replay-cursor.json` is replaced atomically with the index of
the next line, the simulated clock, the next sweep time and the `#{m012}` ticket map. A restarted
run takes back its predecessor's outbox claims, restores the clock and the map, lets the sweeps due
before the interrupted line run again (they are idempotent), routes a message the kill left
PENDING, and delivers the interrupted line again: the persist-first de-dup makes that a no-op or
finishes it. With the cursor saved after every line, a fresh run and a killed-and-resumed one see
the same simulated times, so they file the same tickets.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.bot.app import Runtime
from gridbot.bot.journal import JournalSink, write_atomic
from gridbot.bot.replay import Line, Replay, SimClock
from gridbot.handlers.types import Outcome
from gridbot.models.entities import Message

CURSOR = "replay-cursor.json"


@dataclass
class Checkpoint:
    """Where a resumable replay stands: everything before `next_line` is handled and delivered."""

    next_line: int = 0
    clock: datetime | None = None
    next_sweep: datetime | None = None
    tickets: dict[str, int] = field(default_factory=dict)
    done: bool = False

    def dumps(self) -> str:
        """The checkpoint as JSON."""
        return json.dumps(
            {
                "next_line": self.next_line,
                "clock": self.clock.isoformat() if self.clock else None,
                "next_sweep": self.next_sweep.isoformat() if self.next_sweep else None,
                "tickets": self.tickets,
                "done": self.done,
            },
            ensure_ascii=False,
        )

    @classmethod
    def loads(cls, text: str) -> Checkpoint:
        """A checkpoint from its JSON."""
        row: dict[str, Any] = json.loads(text)

        def at(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        return cls(
            next_line=int(row["next_line"]),
            clock=at(row.get("clock")),
            next_sweep=at(row.get("next_sweep")),
            tickets={str(k): int(v) for k, v in row.get("tickets", {}).items()},
            done=bool(row.get("done", False)),
        )


def load_checkpoint(directory: Path) -> Checkpoint:
    """The saved checkpoint, or a fresh one."""
    path = directory / CURSOR
    return Checkpoint.loads(path.read_text(encoding="utf-8")) if path.exists() else Checkpoint()


@dataclass
class ResumeResult:
    """What one (possibly resumed) run did."""

    started_at: int  # index of the first line this run delivered
    lines: int  # lines this run handled
    reclaimed: int  # outbox rows a killed predecessor had claimed, taken back
    recovered: int  # messages a killed predecessor left PENDING, routed at start
    checkpoint: Checkpoint


def filed_ticket(sessions: sessionmaker[Session], platform_id: str) -> int | None:
    """The ticket a stored resident report filed or joined (None for chatter, commands, ratings)."""
    with sessions() as session:
        row = session.execute(
            select(Message.ticket_id, Message.classification).where(Message.platform_id == platform_id)
        ).first()
    if row is None or row[0] is None or row[1] is None:  # only a classified report carries both
        return None
    return int(row[0])


class ResumableReplay:
    """Drives a Replay from its checkpoint, saving a new one after every line and sweep of the tail."""

    def __init__(self, runtime: Runtime, clock: SimClock, directory: Path) -> None:
        self.runtime = runtime
        self.clock = clock
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.checkpoint = load_checkpoint(directory)
        if self.checkpoint.clock is not None:
            clock.now = self.checkpoint.clock
        self.replay = Replay(runtime, clock, JournalSink(directory, clock))
        self.replay.tickets = dict(self.checkpoint.tickets)
        self.replay.next_sweep = self.checkpoint.next_sweep

    def _save(self, next_line: int, done: bool = False) -> None:
        r = self.replay
        self.checkpoint = Checkpoint(next_line, self.clock.now, r.next_sweep, dict(r.tickets), done)
        write_atomic(self.dir / CURSOR, self.checkpoint.dumps())

    async def run(
        self,
        lines: Sequence[Line],
        tail: timedelta,
        on_line: Callable[[int, Line, Outcome], None] = lambda n, line, outcome: None,
        on_resume: Callable[[int, int, int], None] = lambda start, reclaimed, recovered: None,
    ) -> ResumeResult:
        """Replay from the checkpoint to the end, then `tail` more simulated time; drains everything.

        `on_resume(first line, claims taken back, pending messages routed)` is called once at start.
        """
        replay, start = self.replay, self.checkpoint.next_line
        reclaimed = await replay.sender.recover_claims()
        recovered = 0
        if start < len(lines):
            # as the first time: the sweeps due before the interrupted line, then the line
            await replay.advance(lines[start].at)
            recovered = await replay.conversation.recover_pending()
        on_resume(start, reclaimed, recovered)
        for n in range(start, len(lines)):
            line = lines[n]
            outcome = await replay.feed(line, n)
            if outcome.status in ("duplicate", "ignored") and line.id not in replay.tickets:
                # handled before the kill, but its ticket number never reached the checkpoint
                number = await anyio.to_thread.run_sync(
                    filed_ticket, self.runtime.sessions, Replay.platform_id(line, n)
                )
                if number is not None:
                    replay.tickets[line.id] = number
            self._save(n + 1)
            on_line(n, line, outcome)
        if lines and not self.checkpoint.done:
            end = lines[-1].at + tail
            while True:  # one sweep at a time, so a kill in the tail resumes where it stood
                target = end if replay.next_sweep is None else min(end, replay.next_sweep)
                await replay.advance(target)
                self._save(len(lines))
                if target >= end:
                    break
        await replay.drain()
        self._save(len(lines), done=True)
        return ResumeResult(start, len(lines) - start, reclaimed, recovered, self.checkpoint)
