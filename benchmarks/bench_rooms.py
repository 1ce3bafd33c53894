"""Reply latency per room while another room bursts: one queue for all rooms vs rooms in parallel.

    python benchmarks/bench_rooms.py [--burst 600] [--pg-url postgresql+psycopg://…]

Room A receives a burst of resident messages (held-out corpus texts, chatter and reports) all at
once; right after, five residents of room B (another grid) report problems. The latency of a
message is the wall time from its arrival at the dispatcher until the conversation has stored it,
routed it and queued its reply in the outbox (sending is paced per room separately). "one queue"
is how the Wechaty transport delivered before (every room's messages one at a time, in arrival
order); "per room" is bot.dispatch.RoomDispatcher (rooms concurrently, at most 8 at once, each in
order). PostgreSQL runs when --pg-url or GRIDBOT_TEST_DATABASE_URL is given (a private schema).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bench_db import pg_schema_engine, sqlite_engine  # a sibling module: run as python benchmarks/bench_*.py
from bench_pipeline import corpus_texts
from sqlalchemy import Engine

from gridbot.bot.app import build_runtime
from gridbot.bot.demo import setup_world
from gridbot.bot.dispatch import RoomDispatcher, room_key
from gridbot.bot.replay import Line
from gridbot.handlers.types import IncomingMessage
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.models.migrate import upgrade
from gridbot.models.org import directory
from gridbot.models.settings import DBSettings, Settings
from gridbot.nlp.classifier import load_classifier

ROOM_A, ROOM_B = "burst-room@chatroom", "quiet-room@chatroom"
PROBES = [
    "3栋2单元楼道灯坏了，晚上黑灯瞎火的",
    "小区东门的垃圾桶满了好几天没人清理",
    "5栋电梯又停了，老人下不了楼",
    "楼上半夜装修，吵得睡不着",
    "请问社保断缴了怎么补",
]


def messages(burst: int, run: str) -> tuple[list[IncomingMessage], list[IncomingMessage]]:
    """The burst of room A and the probes of room B (fresh platform ids per run)."""
    chatter, reports = corpus_texts()
    texts = [(chatter + reports)[i * 7 % (len(chatter) + len(reports))] for i in range(burst)]
    now = datetime.now(UTC)
    a = [
        IncomingMessage(f"{run}-a{i}", ROOM_A, f"wx-a{i % 50}", f"居民A{i % 50}", t, now)
        for i, t in enumerate(texts)
    ]
    b = [
        IncomingMessage(f"{run}-b{i}", ROOM_B, f"wx-b{i}", f"居民B{i}", t, now) for i, t in enumerate(PROBES)
    ]
    return a, b


async def one_queue(
    handle: Callable[[IncomingMessage], Awaitable[object]], msgs: list[IncomingMessage]
) -> None:
    """The old delivery: every room's messages one at a time, in arrival order."""
    for msg in msgs:
        await handle(msg)


async def per_room(
    handle: Callable[[IncomingMessage], Awaitable[object]], msgs: list[IncomingMessage]
) -> None:
    """The new delivery: bot.dispatch.RoomDispatcher."""
    dispatcher: RoomDispatcher[IncomingMessage] = RoomDispatcher(handle, max_rooms=8)
    for msg in msgs:
        dispatcher.submit(room_key(msg), msg)
    await dispatcher.join()


def run(engine: Engine, burst: int) -> None:
    """Both modes on one database; prints per-room latency figures."""
    upgrade(engine)
    settings = Settings(_env_file=None, db=DBSettings(url=engine.url.render_as_string(False)))
    runtime = build_runtime(settings, engine, coordinator=LocalCoordinator())
    classifier = load_classifier()
    runtime.classifier = lambda: classifier
    with runtime.sessions.begin() as session:
        staff = [Line("s1", datetime.now(UTC), ROOM_A, "wx-wang", "小王", "gridworker", "")]
        setup_world(session, staff)
        other = directory.grid_by_code(session, "WTS-02")
        assert other is not None
        directory.bind_group(session, ROOM_B, other, topic="第二网格群")
    conversation = runtime.conversation()
    for mode, deliver in (("one queue", one_queue), ("per room", per_room)):
        a, b = messages(burst, mode.replace(" ", "-"))
        lat_a, lat_b = asyncio.run(measure(conversation.handle, deliver, a, b))
        print(
            f"{mode:9}: room B (5 reports after a {burst}-message burst in room A): "
            f"median {statistics.median(lat_b):.2f} s, max {max(lat_b):.2f} s; "
            f"room A: median {statistics.median(lat_a):.2f} s, last {max(lat_a):.2f} s"
        )


Deliver = Callable[[Callable[[IncomingMessage], Awaitable[object]], list[IncomingMessage]], Awaitable[None]]


async def measure(
    handle: Callable[[IncomingMessage], Awaitable[object]],
    deliver: Deliver,
    a: list[IncomingMessage],
    b: list[IncomingMessage],
) -> tuple[list[float], list[float]]:
    """Deliver the burst then the probes, all arriving now; each message's latency, per room."""
    done: dict[str, float] = {}

    async def timed(msg: IncomingMessage) -> object:
        outcome = await handle(msg)
        done[msg.platform_id] = time.perf_counter()
        return outcome

    start = time.perf_counter()
    await deliver(timed, a + b)
    return [done[m.platform_id] - start for m in a], [done[m.platform_id] - start for m in b]


def main() -> None:
    """Parse arguments and run on SQLite or PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=600)
    parser.add_argument("--pg-url", default=os.environ.get("GRIDBOT_TEST_DATABASE_URL"))
    args = parser.parse_args()
    if args.pg_url:
        print(f"PostgreSQL ({args.pg_url.split('@')[-1]})")
        with pg_schema_engine(args.pg_url) as engine:
            run(engine, args.burst)
    else:
        print("SQLite (a temporary file)")
        with sqlite_engine() as engine:
            run(engine, args.burst)


if __name__ == "__main__":
    main()
