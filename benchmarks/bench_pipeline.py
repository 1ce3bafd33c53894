"""Pipeline benchmark: messages/s and per-message latency through replay → persisted → classified →
ticket → reply in the outbox (and delivered through the paced sender), on SQLite and PostgreSQL.

    python benchmarks/bench_pipeline.py                    # SQLite (a temporary file)
    python benchmarks/bench_pipeline.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    python benchmarks/bench_pipeline.py --skip-sqlite --path --offered 100 --seconds 60   # + the message path

PostgreSQL runs when --pg-url or GRIDBOT_TEST_DATABASE_URL is given, in a private schema dropped
afterwards. The generated day mixes chatter and reports from the corpus's held-out test split with
gridworker commands (工单, 查, 接单, 回复, 办结) on the tickets filed so far, one line every 20
simulated seconds, so deadline sweeps run on the way as they would in a real group. The latency of a
line is the wall time of Replay.feed: persist, route (classify, ticket, reply queued) and drain the
outbox. The classifier is loaded before timing starts.

`--path` measures the message path alone (what `Conversation.handle` costs: persist, route, reply
queued; no outbox delivery, no sweeps), one message after another. `--offered RATE` offers RATE
messages/s for `--seconds` into `--rooms` rooms through the bot's dispatcher (micro-batches of at
most `--batch-max`, as `gridbot run` hands messages over; `--batch-max 1`: one at a time) on the wall clock, and reports the latency from arrival to handled and the process RSS once a
minute (with the dispatcher's backlog: memory held by queued messages is not a leak). Its texts are
made distinct (a number appended to each), as a real group's are: with the corpus's few thousand
texts repeated, caches keyed by text or by a ticket's stored features stop growing early and hide
what a long run holds. The benchmark itself keeps nothing per message (latencies in a preallocated
array, the line → ticket map bounded), so the growth shown is the bot's. For where memory goes, run
it under benchmarks/memtrace (PYTHONPATH=benchmarks/memtrace GRIDBOT_MEMTRACE_DIR=…) and compare two
dumps with benchmarks/memtrace_report.py.
`--batch N` measures the micro-batch path (`Conversation.handle_batch`): N consecutive messages of
`--rooms` rooms stored, classified and routed together, closed loop; a message's latency is its
batch's.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import functools
import json
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

import anyio
from bench_db import StatementCounter, targets  # a sibling module: run as python benchmarks/bench_*.py
from sqlalchemy import Engine, func, select

from gridbot.bot.app import build_runtime, freeze_heap
from gridbot.bot.demo import setup_world
from gridbot.bot.dispatch import MessageDispatcher
from gridbot.bot.replay import Line, Replay, ReplayTransport, SimClock
from gridbot.handlers.types import Outcome
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


def room_name(r: int, rooms: int) -> str:
    """The id of room r of a run over `rooms` rooms (ROOM when there is one)."""
    return ROOM if rooms == 1 else f"bench-room-{r}@chatroom"


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


def generate(n: int, seed: int = 7, rooms: int = 1, distinct: bool = False) -> list[Line]:
    """n lines: about 70 % chatter, 20 % reports, 10 % gridworker commands on filed tickets.

    `distinct`: each resident text ends in its line number, so no two texts (nor their duplicate
    features) are equal, as in a real group.
    """
    rng = random.Random(seed)
    chatter, reports = corpus_texts()
    lines: list[Line] = []
    filed: list[str] = []  # ids of report lines, for #{id} placeholders
    for i in range(n):
        at = START + timedelta(seconds=20 * i)
        line_id = f"b{i}"
        room = room_name(i % rooms, rooms)
        roll = rng.random()
        if roll < 0.1 and filed:
            ref = "#{" + rng.choice(filed[-30:]) + "}"
            verb = rng.choice(
                ["工单", f"查 {ref}", f"接单 {ref}", f"回复 {ref} 已联系物业，今天处理", f"办结 {ref} 已处理"]
            )
            pid, name, role = WORKER
            lines.append(Line(line_id, at, room, pid, name, role, verb))
            continue
        resident = rng.randrange(200)
        if roll < 0.3:
            body = rng.choice(reports)
            filed.append(line_id)
        else:
            body = rng.choice(chatter)
        if distinct:
            body = f"{body} {i}"
        lines.append(Line(line_id, at, room, f"wx-r{resident}", f"居民{resident}", "resident", body))
    return lines


async def drive(replay: Replay, lines: list[Line]) -> list[float]:
    """Feed every line; returns the wall time of each, in seconds."""
    latencies = []
    for n, line in enumerate(lines):
        t = time.perf_counter()
        await replay.feed(line, n)
        latencies.append(time.perf_counter() - t)
    return latencies


STATEMENTS = StatementCounter()  # attached to every engine `prepare` sets up


def per_message(n: int) -> str:
    """SQL statements and commits per message since the last call (from engine events)."""
    sql, commits, _ = STATEMENTS.take()
    return f"{sql / n:.1f} SQL statements and {commits / n:.1f} commits per message"


def prepare(engine: Engine, rooms: int = 1) -> tuple[Replay[ReplayTransport], SimClock]:
    """A migrated database with the demo world, its rooms bound; the classifier loaded."""
    upgrade(engine)
    STATEMENTS.attach(engine)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    clock = SimClock(START)
    runtime = build_runtime(settings, engine, coordinator=LocalCoordinator(clock=clock.seconds))
    classifier = load_classifier()
    runtime.classifier = lambda: classifier
    classifier.classify("预热")  # as serve loads it before listening: the lazy parts (jieba) too
    freeze_heap()  # as serve does once the model is loaded
    names = [room_name(r, rooms) for r in range(rooms)]
    staff = [
        Line(f"s{i}", START, room, pid, name, role, "")
        for room in names
        for i, (pid, name, role) in enumerate(STAFF)
    ]
    with runtime.sessions.begin() as session:
        setup_world(session, staff)
    per_message(1)  # not the set-up's
    return Replay(runtime, clock, ReplayTransport(clock)), clock


def counts(replay: Replay[ReplayTransport]) -> str:
    """What the run left in the database."""
    with replay.runtime.sessions() as s:
        processed = s.scalar(
            select(func.count()).where(
                Message.direction == MessageDirection.INBOUND, Message.status == MessageStatus.PROCESSED
            )
        )
        tickets = s.scalar(select(func.count()).select_from(Ticket))
        queued = s.scalar(select(func.count()).select_from(Outbox))
        sent = s.scalar(select(func.count()).where(Outbox.status == OutboxStatus.SENT))
    return (
        f"{processed} processed, {tickets} tickets, {queued} outbox rows ({sent} sent), "
        f"{len(replay.transport.sent)} messages delivered"
    )


def figures(ms: list[float]) -> str:
    """p50, p99 and max of latencies in milliseconds."""
    ms = sorted(ms)
    p99 = ms[min(len(ms) - 1, round(0.99 * len(ms)) - 1)]
    return f"latency p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms"


def run(label: str, engine: Engine, n: int) -> None:
    """Replay n generated lines on this engine, delivering as it goes, and print the figures."""
    replay, _clock = prepare(engine)
    lines = generate(n)
    began = time.perf_counter()
    latencies = anyio.run(drive, replay, lines)
    wall = time.perf_counter() - began
    print(
        f"{label} pipeline: {n} messages in {wall:.1f} s = {n / wall:.0f} messages/s; "
        f"{figures([x * 1000 for x in latencies])} ({counts(replay)})"
    )


async def drive_path(replay: Replay[ReplayTransport], lines: list[Line]) -> list[float]:
    """Hand each line to the conversation, one after another; no delivery, no sweeps."""
    latencies = []
    for n, line in enumerate(lines):
        replay.clock.now = line.at
        t = time.perf_counter()
        replay.record(line, await replay.conversation.handle(replay.incoming(line, n)))
        latencies.append(time.perf_counter() - t)
    return latencies


def run_path(label: str, engine: Engine, n: int) -> None:
    """The message path alone, closed loop: messages/s and latency."""
    replay, _clock = prepare(engine)
    lines = generate(n)
    began, cpu = time.perf_counter(), time.process_time()
    latencies = anyio.run(drive_path, replay, lines)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    print(
        f"{label} message path: {n} messages in {wall:.1f} s = {n / wall:.0f} messages/s; "
        f"{figures([x * 1000 for x in latencies])}; bot CPU {1000 * cpu / n:.2f} ms per message; "
        f"{per_message(n)} ({counts(replay)})"
    )


async def drive_batches(replay: Replay[ReplayTransport], lines: list[Line], size: int) -> list[float]:
    """Hand the lines to the conversation `size` at a time; the latency of each message (its batch's)."""
    latencies: list[float] = []
    for start in range(0, len(lines), size):
        chunk = lines[start : start + size]
        replay.clock.now = chunk[-1].at
        t = time.perf_counter()
        outcomes = await replay.conversation.handle_batch(
            [replay.incoming(line, start + i) for i, line in enumerate(chunk)]
        )
        for line, outcome in zip(chunk, outcomes, strict=True):
            replay.record(line, outcome)
        latencies.extend([time.perf_counter() - t] * len(chunk))
    return latencies


def run_batches(label: str, engine: Engine, n: int, size: int, rooms: int) -> None:
    """The micro-batch path, closed loop: messages/s and latency."""
    replay, _clock = prepare(engine, rooms)
    lines = generate(n, rooms=rooms)
    began, cpu = time.perf_counter(), time.process_time()
    latencies = anyio.run(drive_batches, replay, lines, size)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    print(
        f"{label} batches of {size} over {rooms} rooms: {n} messages in {wall:.1f} s = {n / wall:.0f} "
        f"messages/s; {figures([x * 1000 for x in latencies])}; bot CPU {1000 * cpu / n:.2f} ms per "
        f"message; {per_message(n)} ({counts(replay)})"
    )


def rss_mb() -> float:
    """This process's resident set size in MB (Linux)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


TICKETS_KEPT = 200  # line → ticket entries the offered load keeps (its commands refer to the last 30 reports)


async def drive_offered(
    replay: Replay[ReplayTransport], lines: list[Line], rate: float, batch_max: int
) -> tuple[array.array[float], list[tuple[float, float]], float]:
    """Offer the lines at `rate` per second through the bot's dispatcher (`bot.dispatch.MessageDispatcher`,
    as `gridbot run` hands every transport's messages over); latencies, RSS samples, wall.

    Prints the RSS and the backlog once a minute. Nothing here grows per message: latencies go into
    a preallocated array, and only the newest TICKETS_KEPT line → ticket entries are kept.
    """
    latencies = array.array("d", bytes(8 * len(lines)))
    done = 0
    rss: list[tuple[float, float]] = []

    def handled(arrived: float, line: Line, future: asyncio.Future[Outcome]) -> None:
        nonlocal done
        if future.cancelled() or future.exception() is not None:
            return
        replay.record(line, future.result())
        while len(replay.tickets) > TICKETS_KEPT:
            del replay.tickets[next(iter(replay.tickets))]
        latencies[done] = time.perf_counter() - arrived
        done += 1

    async def sample() -> None:
        minute = 0
        while True:
            now, mb = time.perf_counter() - began, rss_mb()
            rss.append((now, mb))
            if now >= 60 * minute:
                print(
                    f"  minute {minute:3d}: RSS {mb:7.1f} MB, {done} handled, backlog {dispatcher.backlog}",
                    flush=True,
                )
                minute += 1
            await asyncio.sleep(1.0)

    replay.conversation.clock = lambda: datetime.now(UTC)
    bot = replay.runtime.settings.bot
    dispatcher = MessageDispatcher(
        replay.conversation.handle_batch, batch_max, bot.batches_at_once, bot.batch_budget_ms / 1000
    )
    began = time.perf_counter()
    sampler = asyncio.create_task(sample())
    for n, line in enumerate(lines):
        due = began + n / rate
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        replay.clock.now = datetime.now(UTC)
        future = dispatcher.handle(replay.incoming(line, n))
        future.add_done_callback(functools.partial(handled, due, line))
    await dispatcher.join()
    await asyncio.sleep(0)  # the last batch's done callbacks
    print(f"  {dispatcher.items} messages in {dispatcher.batches} batches (batch_max {batch_max})")
    wall = time.perf_counter() - began
    sampler.cancel()
    rss.append((wall, rss_mb()))
    return latencies[:done], rss, wall


def run_offered(label: str, engine: Engine, rate: float, seconds: float, rooms: int, batch_max: int) -> None:
    """An open-loop load on the wall clock: latency from arrival to handled, and RSS over the run."""
    replay, _clock = prepare(engine, rooms)
    lines = generate(int(rate * seconds), rooms=rooms, distinct=True)
    freeze_heap()  # the benchmark's own lines live as long as the run: no collection should walk them
    cpu = time.process_time()
    latencies, rss, wall = asyncio.run(drive_offered(replay, lines, rate, batch_max))
    cpu = time.process_time() - cpu
    tenth = [mb for t, mb in rss if t >= wall / 10]
    half = [(t, mb) for t, mb in rss if t >= wall / 2]
    slope = least_squares_slope(half) * 60
    print(
        f"{label} offered {rate:.0f} msg/s into {rooms} rooms for {seconds:.0f} s: "
        f"{len(latencies)} handled in {wall:.1f} s; {figures([x * 1000 for x in latencies])}; "
        f"bot CPU {1000 * cpu / max(len(latencies), 1):.2f} ms per message; {per_message(len(lines))}; "
        f"RSS {rss[0][1]:.1f} → {tenth[0]:.1f} (at 10 %) → {rss[-1][1]:.1f} MB, "
        f"second half {slope:+.2f} MB/min (least squares over its samples) ({counts(replay)})"
    )


def least_squares_slope(points: list[tuple[float, float]]) -> float:
    """The slope of the least-squares line through (x, y) points (0 with fewer than two)."""
    if len(points) < 2:
        return 0.0
    mx = statistics.fmean(x for x, _ in points)
    my = statistics.fmean(y for _, y in points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


def main() -> None:
    """Run on SQLite, then on PostgreSQL when a URL is given."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--pg-url", default=os.environ.get("GRIDBOT_TEST_DATABASE_URL"))
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--skip-pipeline", action="store_true", help="not the delivering replay")
    ap.add_argument("--path", action="store_true", help="also the message path alone, closed loop")
    ap.add_argument("--offered", type=float, default=0.0, help="also this load in messages/s (open loop)")
    ap.add_argument("--seconds", type=float, default=60.0, help="how long the offered load runs")
    ap.add_argument("--rooms", type=int, default=20, help="rooms the offered load is spread over")
    ap.add_argument("--batch", type=int, default=0, help="also the micro-batch path, this many at a time")
    ap.add_argument(
        "--batch-max",
        type=int,
        default=Settings(_env_file=None).bot.batch_max,
        help="the offered load's dispatcher: at most this many messages a batch (1: one at a time)",
    )
    args = ap.parse_args()
    for label, engine_of in targets(args.pg_url, args.skip_sqlite):
        if not args.skip_pipeline:
            with engine_of() as engine:
                run(label, engine, args.messages)
        if args.path:
            with engine_of() as engine:
                run_path(label, engine, args.messages)
        if args.batch:
            with engine_of() as engine:
                run_batches(label, engine, args.messages, args.batch, args.rooms)
        if args.offered:
            with engine_of() as engine:
                run_offered(label, engine, args.offered, args.seconds, args.rooms, args.batch_max)


if __name__ == "__main__":
    main()
