"""SQL statements per message kind on the message path, on SQLite and PostgreSQL.

    python benchmarks/bench_statements.py [--pg-url URL] [--skip-sqlite] [--trace]

Counts every statement the engine sends (`before_cursor_execute`) and every commit while the
conversation handles one message of each kind, alone (`Conversation.handle`) and in a micro-batch
(`Conversation.handle_batch`, each kind's message in a batch with chatter of other rooms, the
batch's count divided by its size): chatter from a known resident, chatter from a first-sight
resident, a new report, a duplicate merged into it; and a batch of first-sight residents only (the
cold start). `--trace` prints each counted statement's first line.
"""

from __future__ import annotations

import argparse
import os
from datetime import timedelta
from itertools import count

import anyio
from bench_db import targets  # a sibling module: run as python benchmarks/bench_*.py
from bench_pipeline import START, STATEMENTS, prepare, room_name
from sqlalchemy import Engine

from gridbot.bot.replay import Line
from gridbot.handlers.types import Outcome

ROOMS = 6
REPORTS = [  # confident reports of distinct places, so each files its own ticket
    "{n}栋2单元楼道的灯坏了好几天了，晚上一片漆黑，麻烦派人来修一下",
    "{n}号楼门口的下水道堵了，污水冒出来流了一地，麻烦尽快处理",
]
CHATTER = "今天天气真不错，大家晚上一起去广场跳舞吧"


def run(label: str, engine: Engine, trace: bool) -> None:
    """One message of each kind, alone then in a batch; prints statements and commits per message."""
    replay, clock = prepare(engine, ROOMS)  # the statements of this engine are counted from here
    STATEMENTS.trace = trace
    ids = count()
    people = count()

    def line(r: int, sender: str, text: str) -> Line:
        clock.now += timedelta(seconds=30)
        return Line(f"q{next(ids)}", clock.now, room_name(r, ROOMS), sender, sender, "resident", text)

    def handle(lines: list[Line]) -> list[Outcome]:
        msgs = [replay.incoming(x, i) for i, x in enumerate(lines)]
        if len(msgs) == 1:
            return [anyio.run(replay.conversation.handle, msgs[0])]
        return anyio.run(replay.conversation.handle_batch, msgs)

    def measure(kind: str, lines: list[Line], per: int) -> None:
        STATEMENTS.take()
        outcomes = handle(lines)
        sql, commits, text = STATEMENTS.take()
        statuses = ",".join(sorted({o.status for o in outcomes}))
        print(f"  {kind:<34} {sql / per:5.1f} statements {commits / per:4.1f} commits ({statuses})")
        for t in text:
            print(f"      {t}")

    def fresh() -> str:
        return f"wx-q{next(people)}"

    known = [fresh() for _ in range(4 * ROOMS)]
    clock.now = START
    for r in range(ROOMS):  # the residents speak once, so the directory copies hold them
        handle([line(r, known[4 * r + k], CHATTER) for k in range(4)])
    handle([line(0, known[0], CHATTER)])
    places = count(3)

    for mode in ("alone", "batch"):
        print(f"{label}, {mode}:")

        def together(main: Line, mode: str = mode) -> list[Line]:
            if mode == "alone":
                return [main]
            return [main, *(line(r, known[4 * r], CHATTER) for r in range(1, ROOMS))]

        per = 1 if mode == "alone" else ROOMS
        measure("chatter, known resident", together(line(0, known[1], CHATTER)), per)
        measure("chatter, first-sight resident", together(line(0, fresh(), CHATTER)), per)
        report = REPORTS[0].format(n=next(places))
        measure("new report", together(line(0, known[2], report)), per)
        measure("merged duplicate", together(line(0, known[3], report)), per)
    print(f"{label}, cold start:")
    measure(
        f"first-sight residents, batch of {4 * ROOMS}",
        [line(r, fresh(), CHATTER) for r in range(ROOMS) for _ in range(4)],
        4 * ROOMS,
    )
    nums = [next(places) for _ in range(ROOMS)]
    measure(
        f"first-sight reports, batch of {ROOMS}",
        [line(r, fresh(), REPORTS[1].format(n=nums[r])) for r in range(ROOMS)],
        ROOMS,
    )


def main() -> None:
    """Run on SQLite, then on PostgreSQL when a URL is given."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--pg-url", default=os.environ.get("GRIDBOT_TEST_DATABASE_URL"))
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--trace", action="store_true", help="print each statement's first 150 characters")
    args = ap.parse_args()
    for label, engine_of in targets(args.pg_url, args.skip_sqlite):
        with engine_of() as engine:
            run(label, engine, args.trace)


if __name__ == "__main__":
    main()
