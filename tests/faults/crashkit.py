"""Crash-test kit: a ~1,100-line transcript, its world, a private PostgreSQL schema, and `gridbot replay`
run as a subprocess that the test kills.

The transcript is the shipped demo day six times over, each copy in its own room bound to its own
grid (its own staff and residents, line ids and `#{m012}` placeholders prefixed with the copy),
shifted by a few minutes so the copies interleave. A seeded plan of kills mixes failpoints
(`GRIDBOT_FAILPOINTS`, see models/failpoints.py) and SIGKILLs sent after the process reported k
handled lines plus a random delay.
"""

from __future__ import annotations

import json
import os
import queue
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gridbot.bot.demo import DEMO_TRANSCRIPT
from gridbot.models.enums import Role
from gridbot.models.failpoints import POINTS
from gridbot.models.org import directory

GRIDBOT = Path(sys.executable).with_name("gridbot")
PLACEHOLDER = re.compile(r"([#＃])\{(\w+)\}")
STREET_ADMIN = ("crash-street-admin", "街道赵科长")
RESUMED = re.compile(r"resumed at line (\d+): (\d+) claims taken back")


# ---- the transcript and its world ---------------------------------------------------------------


def build_transcript(copies: int = 6, shift: timedelta = timedelta(minutes=7)) -> list[dict[str, Any]]:
    """The demo day `copies` times, each in its own room with its own people, interleaved in time."""
    day = [json.loads(raw) for raw in DEMO_TRANSCRIPT.read_text(encoding="utf-8").splitlines() if raw.strip()]
    rows: list[tuple[datetime, int, int, dict[str, Any]]] = []
    for k in range(copies):
        prefix = f"c{k}_"  # placeholders name word characters only (\\w)

        def tag(value: str, prefix: str = prefix) -> str:
            return PLACEHOLDER.sub(rf"\1{{{prefix}\2}}", value)

        for i, row in enumerate(day):
            at = datetime.fromisoformat(row["t"]) + k * shift
            copy = {
                **row,
                "id": prefix + row["id"],
                "t": at.isoformat(),
                "room": f"crash-{k}@chatroom",
                "sender": prefix + row["sender"],
                "text": tag(row.get("text", "")),
            }
            if "mentions" in row:
                copy["mentions"] = [prefix + m for m in row["mentions"]]
            if row.get("quote"):
                copy["quote"] = tag(row["quote"])
            rows.append((at, k, i, copy))
    rows.sort(key=lambda r: r[:3])
    return [r[3] for r in rows]


def write_transcript(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """Write rows as JSONL."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def setup_world(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """One street; per room a community and a grid, the room bound to it, its staff with their roles."""
    city = directory.create_region(session, "CR", "示范市")
    district = directory.create_region(session, "CR-GL", "示范区", city)
    street = directory.create_region(session, "CR-GL-HQ", "华侨路街道", district)
    admin = directory.ensure_person(session, *STREET_ADMIN)
    directory.assign_role(session, admin, Role.STREET_ADMIN, region=street)
    rooms = sorted({r["room"] for r in rows})
    for k, room in enumerate(rooms):
        community = directory.create_region(session, f"CR-GL-HQ-{k:02d}", f"第{k + 1}社区", street)
        grid = directory.create_grid(session, f"CR-{k:02d}", f"第{k + 1}网格", community, households=300)
        directory.bind_group(session, room, grid, topic=f"第{k + 1}网格居民群")
        staff = {r["sender"]: (r["name"], r["role"]) for r in rows if r["room"] == room}
        for pid, (name, role_name) in staff.items():
            role = Role(role_name)
            if role is Role.RESIDENT:
                continue
            person = directory.ensure_person(session, pid, name)
            if role is Role.COMMUNITY_ADMIN:
                directory.assign_role(session, person, role, region=community)
            else:
                directory.assign_role(session, person, role, grid=grid)


# ---- a private schema ---------------------------------------------------------------------------


# ---- the kill plan ------------------------------------------------------------------------------

# nth is drawn so a failpoint kill lands within a few dozen lines of the restart (how often each
# point is passed: about once a line for the first two, once or twice a line for outbox.claimed,
# every other line for outbox.sent, rarely for sweep.enqueued)
NTH_RANGE = {
    "inbound.persisted": (1, 20),
    "route.dispatched": (1, 20),
    "outbox.claimed": (1, 30),
    "outbox.sent": (1, 6),
    "sweep.enqueued": (1, 3),
}
FALLBACK_LINES = 40  # a failpoint not reached after this many lines: the test kills instead


@dataclass(frozen=True)
class Kill:
    """One planned kill: a failpoint (`point`, `nth`), or a SIGKILL once transcript line `line` is
    handled (at least one line after the restart) and `delay_ms` more have passed."""

    point: str | None = None
    nth: int = 0
    line: int = 0
    delay_ms: int = 0

    def __str__(self) -> str:
        if self.point:
            return f"{self.point}={self.nth}"
        return f"SIGKILL {self.delay_ms} ms after line {self.line}"


# where the transcript's reminders and escalations are queued (lines ~336-482): a sweep.enqueued
# kill follows a SIGKILL placed here, or it would never be reached
SWEEP_LINES = (330, 470)


def plan_kills(seed: int, count: int, total_lines: int) -> list[Kill]:
    """A reproducible mix: SIGKILLs at lines spread over the whole transcript, each followed by a
    failpoint (nth at random; sweep.enqueued after the SIGKILLs placed where reminders fire)."""
    rng = random.Random(seed)
    signals, sweeps = count - count // 2, count // 10
    window = range(*SWEEP_LINES)
    elsewhere = [n for n in range(1, total_lines - FALLBACK_LINES) if n not in window]
    lines = sorted(rng.sample(window, sweeps) + rng.sample(elsewhere, signals - sweeps))
    others = [p for p in POINTS if p != "sweep.enqueued"]
    plan: list[Kill] = []
    previous = 0
    for i in range(count):
        if i % 2 == 0:
            point = "sweep.enqueued" if previous in window else others[len(plan) // 2 % len(others)]
            low, high = NTH_RANGE.get(point, (1, 10))
            plan.append(Kill(point=point, nth=rng.randint(low, high)))
        else:
            previous = lines[i // 2]
            plan.append(Kill(line=previous, delay_ms=rng.randint(0, 300)))
    return plan


# ---- the subprocess -----------------------------------------------------------------------------


@dataclass
class Attempt:
    """One run of `gridbot replay`: how it ended and what it printed."""

    kill: Kill | None
    returncode: int
    resumed_at: int = 0  # index of the first line this run delivered
    handled: list[str] = field(default_factory=list)  # transcript line ids it reported
    reclaimed: int = 0  # outbox claims of the killed predecessor it took back
    fallback: bool = False  # the failpoint was not reached; the test sent SIGKILL instead
    stdout: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Replayer:
    """Runs `gridbot replay TRANSCRIPT --journal-dir DIR --progress` against one schema."""

    def __init__(
        self, transcript: Path, journal: Path, db_url: str, model_dir: Path, tail_hours: float
    ) -> None:
        self.transcript = transcript
        self.journal = journal
        self.logs = journal.parent / f"{journal.name}-logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.tail_hours = tail_hours
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDBOT_")}
        env.update(
            GRIDBOT_DB__URL=db_url,
            GRIDBOT_NLP__MODEL_DIR=str(model_dir),
            GRIDBOT_INSTANCE_ID="crash-test",
            GRIDBOT_LOG_LEVEL="WARNING",
            GRIDBOT_SPOOL_DIR=str(journal.parent / "spool"),
            PYTHONUNBUFFERED="1",
        )
        self.env = env
        self.attempts: list[Attempt] = []

    def start(self, kill: Kill | None) -> subprocess.Popen[str]:
        """Start one run (with the failpoint of `kill`, if any)."""
        env = dict(self.env)
        if kill is not None and kill.point:
            env["GRIDBOT_FAILPOINTS"] = f"{kill.point}={kill.nth}"
        cmd = [str(GRIDBOT), "replay", str(self.transcript), "--journal-dir", str(self.journal)]
        cmd += ["--tail-hours", str(self.tail_hours), "--progress"]
        with (self.logs / f"attempt-{len(self.attempts):02d}.stderr").open("w") as err:
            return subprocess.Popen(
                cmd, env=env, cwd=self.journal.parent, stdout=subprocess.PIPE, stderr=err, text=True
            )

    def run(self, kill: Kill | None) -> Attempt:
        """One run: killed as `kill` says (None: to completion); returns how it ended."""
        began = time.monotonic()
        proc = self.start(kill)
        attempt = Attempt(kill, returncode=0)
        lines: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            assert proc.stdout is not None
            with proc.stdout:
                for raw in proc.stdout:
                    lines.put(raw.rstrip("\n"))
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        target: int | None = None
        while True:
            raw = lines.get(timeout=300)
            if raw is None:
                break
            attempt.stdout.append(raw)
            if found := RESUMED.match(raw):
                attempt.resumed_at, attempt.reclaimed = int(found[1]) - 1, int(found[2])
                if kill is not None:
                    target = FALLBACK_LINES if kill.point else max(1, kill.line - attempt.resumed_at)
            elif raw.startswith("handled "):
                attempt.handled.append(raw.split()[2])
                if target is not None and len(attempt.handled) == target:
                    assert kill is not None
                    attempt.fallback = bool(kill.point)
                    time.sleep(kill.delay_ms / 1000)  # lands the kill somewhere inside a later line
                    proc.send_signal(signal.SIGKILL)
                    break
        attempt.returncode = proc.wait(timeout=300)
        while True:  # what it printed before dying
            try:
                raw = lines.get(timeout=5)
            except queue.Empty:
                break
            if raw is None:
                break
            attempt.stdout.append(raw)
            if raw.startswith("handled "):
                attempt.handled.append(raw.split()[2])
        attempt.seconds = time.monotonic() - began
        self.attempts.append(attempt)
        return attempt

    def stderr(self, n: int) -> str:
        """The stderr of attempt n (for failure messages)."""
        return (self.logs / f"attempt-{n:02d}.stderr").read_text(encoding="utf-8", errors="replace")
