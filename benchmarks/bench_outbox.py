"""Idle outbox round with a long history: the sender's round before issue 19 beside today's.

    python benchmarks/bench_outbox.py --rows 1000000 --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Fills the outbox with --rows SENT rows over 90 days (2,000 of them today, in 100 rooms) and nothing
pending, then times, averaged over --rounds:
  * before: the five statements every 0.5 s round ran (own claims, stale release, the account's and
    the rooms' daily budget counts, the claim), without and with the new ix_outbox_sent_day index;
  * today: the idle round (`outbox.backlog`, one query over the undelivered rows) and, when rows are
    due, the budget counts through ix_outbox_sent_day.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bench_db import pg_schema_engine, sqlite_engine  # a sibling module: run as python benchmarks/bench_*.py
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.bulk import bulk_insert
from gridbot.models.db import make_session_factory
from gridbot.models.entities import Outbox
from gridbot.models.messaging import outbox
from gridbot.models.migrate import upgrade

NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
MIDNIGHT = datetime(2026, 3, 9, 16, 0, tzinfo=UTC)


def fill(sf: sessionmaker[Session], n: int) -> None:
    """`n` SENT rows: 2,000 today, the rest over the 90 days before."""
    cols = ["dedupe_key", "kind", "bot_account", "room_id", "text", "mention_ids", "status"]
    cols += ["attempts", "next_attempt_at", "created_at", "sent_at"]

    def rows() -> object:
        for i in range(n):
            at = NOW - timedelta(seconds=i * 10) if i < 2000 else NOW - timedelta(days=1 + (i % 89))
            yield (f"k{i}", "reply", "wx-bot", f"room-{i % 100}", "好的", "[]", "sent", 1, at, at, at)

    with sf.begin() as s:
        bulk_insert(s, Outbox.__table__, cols, rows())  # type: ignore[arg-type]


def per_round(sf: sessionmaker[Session], fn: Callable[[Session], object], rounds: int) -> float:
    """Mean milliseconds of one round, each in its own transaction."""
    for _ in range(3):
        with sf.begin() as s:
            fn(s)
    t0 = time.perf_counter()
    for _ in range(rounds):
        with sf.begin() as s:
            fn(s)
    return (time.perf_counter() - t0) / rounds * 1000


def per_call(fn: Callable[[], object], rounds: int) -> float:
    """Mean milliseconds of one call that manages its own connection."""
    for _ in range(3):
        fn()
    t0 = time.perf_counter()
    for _ in range(rounds):
        fn()
    return (time.perf_counter() - t0) / rounds * 1000


def old_round(s: Session) -> None:
    """The idle round before issue 19: own claims, stale release, budgets, claim."""
    outbox.claims_of(s, "bench/1")
    outbox.release_stale(s, NOW, 300)
    outbox.sent_since(s, MIDNIGHT, None)
    outbox.claim_due(s, NOW, 50, "bench/1", None)


def run(label: str, engine: Engine, n: int, rounds: int) -> None:
    """Print the figures for one database."""
    upgrade(engine)
    sf = make_session_factory(engine)
    t0 = time.perf_counter()
    fill(sf, n)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    print(f"[{label}] {n:,} sent rows in {time.perf_counter() - t0:.0f} s")
    index = next(i for i in Outbox.__table__.indexes if i.name == "ix_outbox_sent_day")  # type: ignore[attr-defined]
    index.drop(engine)
    print(
        f"[{label}] before, idle round (5 statements), without ix_outbox_sent_day: {per_round(sf, old_round, rounds):8.2f} ms"
    )
    index.create(engine)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    print(
        f"[{label}] before, idle round (5 statements), with ix_outbox_sent_day:    {per_round(sf, old_round, rounds):8.2f} ms"
    )
    floor = per_round(sf, lambda s: s.execute(text("SELECT 1")), rounds)
    print(
        f"[{label}] floor: a transaction running SELECT 1 (the load's cost of a round trip):   {floor:8.2f} ms"
    )
    idle = per_round(sf, lambda s: outbox.backlog(s, NOW), rounds)
    print(f"[{label}] idle round in a transaction (outbox.backlog, 1 query):       {idle:8.2f} ms")
    idle = per_call(lambda: outbox.idle_backlog(sf, NOW), rounds)
    print(f"[{label}] today,  idle round (outbox.idle_backlog, 1 round trip):        {idle:8.2f} ms")
    budgets = per_round(sf, lambda s: outbox.sent_since(s, MIDNIGHT, "wx-bot"), rounds)
    print(f"[{label}] today,  budget counts when rows are due (account + rooms):      {budgets:8.2f} ms")


def main() -> None:
    """Run on SQLite, then on PostgreSQL when a URL is given."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--pg-url", default=os.environ.get("GRIDBOT_TEST_DATABASE_URL"))
    ap.add_argument("--no-sqlite", action="store_true")
    args = ap.parse_args()
    if not args.no_sqlite:
        with sqlite_engine() as engine:
            run("sqlite", engine, args.rows, args.rounds)
    if args.pg_url:
        with pg_schema_engine(args.pg_url) as engine:
            run("postgresql", engine, args.rows, args.rounds)


if __name__ == "__main__":
    main()
