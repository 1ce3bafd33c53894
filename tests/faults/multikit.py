"""Several-instance kit: a private PostgreSQL schema and Redis key space, a world of rooms bound to
grids, and `gridbot run --transport journal` / `gridbot api` started as subprocesses on them.

Used by tests/faults/test_multi_instance.py and benchmarks/bench_load.py (plain functions, no pytest).
Redis isolation: every process gets `GRIDBOT_REDIS__KEY_PREFIX=<our prefix>`, and cleaning up deletes
the keys under that prefix only (SCAN + DEL) — a FLUSHDB would reach whatever else shares the db.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gridbot.bot.journal import HANDLED, INBOUND, SENT, read_records
from gridbot.models.enums import Role
from gridbot.models.org import directory

GRIDBOT = Path(sys.executable).with_name("gridbot")
READY_TIMEOUT_S = 60.0


def wait_until(ready: Callable[[], bool], what: str, timeout_s: float, poll_s: float = 0.1) -> None:
    """Poll another process's files or rows until `ready()`: there is nothing in-process to await."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(poll_s)


# ---- private PostgreSQL schema and Redis key space ---------------------------------------------


@contextmanager
def redis_namespace(url: str, prefix: str) -> Iterator[str]:
    """Yield `prefix` after deleting its keys; delete them again at the end (never FLUSHALL/FLUSHDB)."""
    import redis

    client = redis.Redis.from_url(url)

    def clear() -> None:
        keys = list(client.scan_iter(f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)

    clear()
    try:
        yield prefix
    finally:
        clear()
        client.close()


# ---- the world ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Staff:
    """A person as the journal names them: platform id and display name."""

    pid: str
    name: str


@dataclass
class Room:
    """A group bound to its own grid, with a gridworker, a grid leader and residents."""

    room: str
    grid_id: int
    community_id: int
    worker: Staff
    leader: Staff
    residents: list[Staff] = field(default_factory=list)


@dataclass
class World:
    """Rooms under one street: two communities, one community and one street admin each."""

    street_id: int
    community_ids: list[int]
    rooms: list[Room]


def build_world(session: Session, n_rooms: int, residents: int = 6, tag: str = "MI") -> World:
    """Create the tree and people (the caller commits); room k is `<tag>-room-<k>@chatroom`."""
    city = directory.create_region(session, tag, "示范市")
    district = directory.create_region(session, f"{tag}-D", "示范区", city)
    street = directory.create_region(session, f"{tag}-D-S", "示范街道", district)
    communities = [
        directory.create_region(session, f"{tag}-D-S-{c}", f"第{c + 1}社区", street) for c in range(2)
    ]

    def person(pid: str, name: str, role: Role, **where: Any) -> Staff:
        p = directory.ensure_person(session, pid, name)
        directory.assign_role(session, p, role, **where)
        return Staff(pid, name)

    person(f"{tag}-street-admin", "街道赵科长", Role.STREET_ADMIN, region=street)
    for c, community in enumerate(communities):
        person(f"{tag}-community-admin-{c}", f"社区孙主任{c}", Role.COMMUNITY_ADMIN, region=community)
    rooms: list[Room] = []
    for k in range(n_rooms):
        community = communities[k % 2]
        grid = directory.create_grid(session, f"{tag}-G{k:03d}", f"第{k + 1}网格", community, households=300)
        room_id = f"{tag}-room-{k}@chatroom"
        directory.bind_group(session, room_id, grid, topic=f"第{k + 1}网格居民群")
        room = Room(
            room=room_id,
            grid_id=grid.id,
            community_id=community.id,
            worker=person(f"{tag}-w{k}", f"网格员{k}号", Role.GRIDWORKER, grid=grid),
            leader=person(f"{tag}-l{k}", f"网格长{k}号", Role.GRID_LEADER, grid=grid),
        )
        room.residents = [
            person(f"{tag}-r{k}-{i}", f"居民{k}-{i}", Role.RESIDENT, grid=grid) for i in range(residents)
        ]
        rooms.append(room)
    session.flush()
    return World(street.id, [c.id for c in communities], rooms)


# ---- journals -----------------------------------------------------------------------------------


def inbound_line(line_id: str, room: str, who: Staff, text_: str) -> dict[str, str]:
    """One inbound journal row (no `t`: the bot stamps it with its clock)."""
    return {"id": line_id, "room": room, "sender": who.pid, "name": who.name, "text": text_}


def append_inbound(journal: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append whole lines to DIR/inbound.jsonl in one write (a reader never sees half a line)."""
    journal.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    with (journal / INBOUND).open("a", encoding="utf-8") as fh:
        fh.write(data)
        fh.flush()


def handled(journal: Path) -> list[dict[str, Any]]:
    """DIR/handled.jsonl: `{id, outcome, handled_at}` per handled inbound line."""
    return read_records(journal / HANDLED)


def sent(journal: Path) -> list[dict[str, Any]]:
    """DIR/sent.jsonl: what the platform accepted (`outbox_ids`, `room`, `to_contact`, `at`…)."""
    return read_records(journal / SENT)


def sent_at(record: Mapping[str, Any]) -> datetime:
    """The time the platform accepted a sent record."""
    return datetime.fromisoformat(str(record["at"]))


# ---- processes ----------------------------------------------------------------------------------


def base_env(
    db_url: str, redis_url: str, prefix: str, model_dir: Path, workdir: Path, **extra: str
) -> dict[str, str]:
    """The environment of every process: this schema and key space, no GRIDBOT_* of the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDBOT_")}
    env.update(
        GRIDBOT_DB__URL=db_url,
        GRIDBOT_REDIS__URL=redis_url,
        GRIDBOT_REDIS__KEY_PREFIX=prefix,
        GRIDBOT_NLP__MODEL_DIR=str(model_dir),
        GRIDBOT_SPOOL_DIR=str(workdir / "spool"),
        GRIDBOT_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class Proc:
    """A started gridbot subprocess and where its output goes."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        """The process id."""
        return self.popen.pid

    def alive(self) -> bool:
        """Whether it still runs."""
        return self.popen.poll() is None

    def tail(self, chars: int = 3000) -> str:
        """The end of its log (for failure messages)."""
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:] if self.log.exists() else ""

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def start(name: str, args: Sequence[str], env: Mapping[str, str], workdir: Path) -> Proc:
    """Start `gridbot <args>` in `workdir` (so no .env of the repository is read)."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [str(GRIDBOT), *args], env=dict(env), cwd=workdir, stdout=out, stderr=subprocess.STDOUT
        )
    return Proc(name, popen, log)


def start_bot(name: str, journal: Path, env: Mapping[str, str], workdir: Path, instance: str) -> Proc:
    """`gridbot run --transport journal --journal-dir <journal>` as instance `instance`."""
    journal.mkdir(parents=True, exist_ok=True)
    args = ["run", "--transport", "journal", "--journal-dir", str(journal)]
    return start(name, args, {**env, "GRIDBOT_INSTANCE_ID": instance}, workdir)


def start_api(name: str, port: int, env: Mapping[str, str], workdir: Path) -> Proc:
    """`gridbot api --port <port>`; returns once /healthz answers."""
    proc = start(name, ["api", "--port", str(port)], env, workdir)

    def up() -> bool:
        if not proc.alive():
            raise RuntimeError(f"{name} exited:\n{proc.tail()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    wait_until(up, f"{name} on port {port}", READY_TIMEOUT_S)
    return proc


def rss_mb(pid: int) -> float | None:
    """VmRSS of a process in MB (None once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
