"""Start-up benchmark: how long from `gridbot run` being started to its first handled message, and
how long `gridbot classify` takes, as subprocesses (what an operator's restart costs).

    python benchmarks/bench_startup.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    python benchmarks/bench_startup.py            # SQLite (a temporary file)

A migrated database with the demo world is prepared first (not timed). Each round appends one
resident report to a journal directory's inbound.jsonl, starts `python -m gridbot run --transport
journal`, and stops the clock when the bot appends that message to handled.jsonl (stored,
classified, ticket filed, reply queued); the bot is then stopped with SIGTERM. The first round also
builds whatever a first start builds (the jieba dictionary cache) and is reported apart. CPU is the
child's user + system time until it exited, so it includes its shutdown.

gridbot's modules are byte-compiled first, as `pip install` does for an installed wheel (the Docker
image): from a source tree under PYTHONDONTWRITEBYTECODE=1 every start would compile some 120 of
them again (0.15-0.2 s). --no-compile skips that step, to measure a tree as it is.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench_db import pg_schema_engine, sqlite_engine  # a sibling module: run as python benchmarks/bench_*.py
from sqlalchemy import Engine

import gridbot
from gridbot.bot.demo import setup_world
from gridbot.bot.replay import Line
from gridbot.models.db import make_session_factory
from gridbot.models.migrate import upgrade

ROOM = "startup-room@chatroom"
REPORT = "3栋2单元门口的路灯坏了好几天了，晚上很黑"


def compile_package() -> None:
    """Byte-compile gridbot as an installed wheel is (its layer folders are symlinks, which
    compileall does not follow: each is compiled where it lives)."""
    root = Path(gridbot.__file__).parent
    folders = [root, *(p.resolve() for p in root.iterdir() if p.is_dir() and p.is_symlink())]
    for folder in folders:
        if not compileall.compile_dir(folder, quiet=1, workers=0):
            raise RuntimeError(f"byte-compiling {folder} failed")


def prepare(engine: Engine) -> None:
    """Migrate and set up the demo world with the room bound."""
    upgrade(engine)
    staff = [Line("s0", datetime.now(UTC), ROOM, "wx-wang", "小王", "gridworker", "")]
    with make_session_factory(engine).begin() as session:
        setup_world(session, staff)


def queue_report(journal: Path, message_id: str) -> tuple[Path, int]:
    """Append one resident report to the journal's inbound.jsonl; (handled.jsonl, its lines before)."""
    handled = journal / "handled.jsonl"
    before = handled.read_text(encoding="utf-8").count("\n") if handled.exists() else 0
    line = {"id": message_id, "room": ROOM, "sender": "wx-r1", "name": "居民", "text": REPORT}
    with (journal / "inbound.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    return handled, before


def one_start(env: dict[str, str], journal: Path, n: int) -> tuple[float, float]:
    """Start the bot with one new message waiting; (seconds to handled, CPU seconds of the child)."""
    handled, before = queue_report(journal, f"startup-{os.getpid()}-{n}")
    began = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "gridbot", "run", "--transport", "journal", "--journal-dir", str(journal)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            if handled.exists() and handled.read_text(encoding="utf-8").count("\n") > before:
                elapsed = time.perf_counter() - began
                break
            if child.poll() is not None:
                raise RuntimeError(f"the bot exited with {child.returncode} before handling the message")
            time.sleep(0.005)
    finally:
        child.send_signal(signal.SIGTERM)
    _pid, _status, usage = os.wait4(child.pid, 0)
    return elapsed, usage.ru_utime + usage.ru_stime


def classify_once(env: dict[str, str]) -> tuple[float, float]:
    """`gridbot classify TEXT`: wall and CPU seconds."""
    began = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "gridbot", "classify", REPORT], env=env, stdout=subprocess.DEVNULL
    )
    _pid, _status, usage = os.wait4(child.pid, 0)
    return time.perf_counter() - began, usage.ru_utime + usage.ru_stime


def run(label: str, engine: Engine, url: str, rounds: int) -> None:
    """Print the start-up figures on this database."""
    prepare(engine)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, GRIDBOT_DB__URL=url, GRIDBOT_SPOOL_DIR=str(Path(tmp) / "spool"))
        env.pop("GRIDBOT_REDIS__URL", None)
        journal = Path(tmp) / "journal"
        journal.mkdir()
        first = one_start(env, journal, 0)
        starts = [one_start(env, journal, n) for n in range(1, rounds + 1)]
        classify = [classify_once(env) for _ in range(rounds)]
    wall = statistics.median(s[0] for s in starts)
    cpu = statistics.median(s[1] for s in starts)
    print(
        f"{label}: start to first handled message {wall:.2f} s median of {rounds} "
        f"(min {min(s[0] for s in starts):.2f}, CPU {cpu:.2f} s; the first start {first[0]:.2f} s); "
        f"gridbot classify {statistics.median(c[0] for c in classify):.2f} s "
        f"(CPU {statistics.median(c[1] for c in classify):.2f} s)"
    )


def main() -> None:
    """SQLite, then PostgreSQL when a URL is given."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--pg-url", default=os.environ.get("GRIDBOT_TEST_DATABASE_URL"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--no-compile", action="store_true", help="Do not byte-compile gridbot first.")
    args = ap.parse_args()
    if not args.no_compile:
        compile_package()
    if not args.skip_sqlite:
        with sqlite_engine() as engine:
            run("SQLite", engine, engine.url.render_as_string(hide_password=False), args.rounds)
    if args.pg_url:
        with pg_schema_engine(args.pg_url) as engine:
            # the bot connects to the same private schema (pg_schema_engine's name for it)
            url = f"{args.pg_url}?options=-csearch_path%3Dgridbot_bench_{os.getpid()}"
            run("PostgreSQL", engine, url, args.rounds)


if __name__ == "__main__":
    main()
