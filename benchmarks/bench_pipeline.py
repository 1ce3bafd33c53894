"""Pipeline benchmark: messages/s and per-message latency through replay → persisted → classified →
ticket → reply in the outbox (and delivered through the paced sender), on SQLite and PostgreSQL.

    python benchmarks/bench_pipeline.py                    # SQLite (a temporary file)
    python benchmarks/bench_pipeline.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test

PostgreSQL runs when --pg-url or GRIDBOT_TEST_DATABASE_URL is given, in a private schema dropped
afterwards. The generated day mixes chatter and reports from the corpus's held-out test split with
gridworker commands (工单, 查, 接单, 回复, 办结) on the tickets filed so far, one line every 20
simulated seconds, so deadline sweeps run on the way as they would in a real group. The latency of a
line is the wall time of Replay.feed: persist, route (classify, ticket, reply queued) and drain the
outbox. The classifier is loaded before timing starts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

import anyio
from bench_db import pg_schema_engine, sqlite_engine  # a sibling module: run as python benchmarks/bench_*.py
from sqlalchemy import Engine, func, select

from gridbot.bot.app import build_runtime
from gridbot.bot.demo import setup_world
from gridbot.bot.replay import Line, Replay, ReplayTransport, SimClock
from gridbot.models.entities import Message, Outbox, Ticket
from gridbot.models.enums import MessageDirection, MessageStatus, OutboxStatus
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.models.migrate import upgrade
from gridbot.models.settings import Settings
from gridbot.nlp.classifier import load_classifier
from gridbot.nlp.corpus import CORPUS_DIR, is_test

START = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # Tuesday 09:00 in Shanghai
ROOM = "bench-room@chatroom"
WORKER = ("wx-wang", "小王", "gridworker")
STAFF = [WORKER, ("wx-chen", "陈网格长", "grid_leader")]


def corpus_texts() -> tuple[list[str], list[str]]:
    """Held-out chatter and report texts (the classifier never trained on them)."""
    chatter: list[str] = []
    reports: list[str] = []
    for path in sorted(CORPUS_DIR.glob("*.jsonl")):
        for raw in path.read_text(encoding="utf-8").splitlines():
            if not raw.strip():
                continue
            row = json.loads(raw)
            if not is_test(row["text"]):
                continue
            (chatter if row["kind"] == "chatter" else reports).append(row["text"])
    return chatter, reports


def generate(n: int, seed: int = 7) -> list[Line]:
    """n lines: about 70 % chatter, 20 % reports, 10 % gridworker commands on filed tickets."""
    rng = random.Random(seed)
    chatter, reports = corpus_texts()
    lines: list[Line] = []
    filed: list[str] = []  # ids of report lines, for #{id} placeholders
    for i in range(n):
        at = START + timedelta(seconds=20 * i)
        line_id = f"b{i}"
        roll = rng.random()
        if roll < 0.1 and filed:
            ref = "#{" + rng.choice(filed[-30:]) + "}"
            verb = rng.choice(
                ["工单", f"查 {ref}", f"接单 {ref}", f"回复 {ref} 已联系物业，今天处理", f"办结 {ref} 已处理"]
            )
            pid, name, role = WORKER
            lines.append(Line(line_id, at, ROOM, pid, name, role, verb))
            continue
        resident = rng.randrange(200)
        if roll < 0.3:
            body = rng.choice(reports)
            filed.append(line_id)
        else:
            body = rng.choice(chatter)
        lines.append(Line(line_id, at, ROOM, f"wx-r{resident}", f"居民{resident}", "resident", body))
    return lines


async def drive(replay: Replay, lines: list[Line]) -> list[float]:
    """Feed every line; returns the wall time of each, in seconds."""
    latencies = []
    for n, line in enumerate(lines):
        t = time.perf_counter()
        await replay.feed(line, n)
        latencies.append(time.perf_counter() - t)
    return latencies


def run(label: str, engine: Engine, n: int) -> None:
    """Replay n generated lines on this engine and print the figures."""
    upgrade(engine)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    clock = SimClock(START)
    runtime = build_runtime(settings, engine, coordinator=LocalCoordinator(clock=clock.seconds))
    classifier = load_classifier()
    runtime.classifier = lambda: classifier
    staff = [Line(f"s{i}", START, ROOM, pid, name, role, "") for i, (pid, name, role) in enumerate(STAFF)]
    with runtime.sessions.begin() as session:
        setup_world(session, staff)
    lines = generate(n)
    replay = Replay(runtime, clock, ReplayTransport(clock))
    began = time.perf_counter()
    latencies = anyio.run(drive, replay, lines)
    wall = time.perf_counter() - began
    with runtime.sessions() as s:
        processed = s.scalar(
            select(func.count()).where(
                Message.direction == MessageDirection.INBOUND, Message.status == MessageStatus.PROCESSED
            )
        )
        tickets = s.scalar(select(func.count()).select_from(Ticket))
        sent = s.scalar(select(func.count()).where(Outbox.status == OutboxStatus.SENT))
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, round(0.99 * len(ms)) - 1)]
    print(
        f"{label}: {n} messages in {wall:.1f} s = {n / wall:.0f} messages/s; "
        f"latency p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms "
        f"({processed} processed, {tickets} tickets, {sent} outbox rows sent, "
        f"{len(replay.transport.sent)} messages delivered)"
    )


def main() -> None:
    """Run on SQLite, then on PostgreSQL when a URL is given."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--pg-url", default=os.environ.get("GRIDBOT_TEST_DATABASE_URL"))
    ap.add_argument("--skip-sqlite", action="store_true")
    args = ap.parse_args()
    if not args.skip_sqlite:
        with sqlite_engine() as engine:
            run("SQLite", engine, args.messages)
    if args.pg_url:
        with pg_schema_engine(args.pg_url) as engine:
            run("PostgreSQL", engine, args.messages)


if __name__ == "__main__":
    main()
