"""Duplicate detection on labelled pairs: precision and recall of the automatic merge, per threshold.

Run: python benchmarks/bench_duplicates.py [--pairs benchmarks/data/duplicate_pairs.jsonl]
     python benchmarks/bench_duplicates.py --timing [--pg-url postgresql+psycopg://…] [--no-sqlite]

Each pair is two residents' reports of one grid, labelled `same` when they are one problem at one
place. Both are classified with the default model (as the bot does); the second is scored against
the first as an open ticket; a MERGE decision is a predicted duplicate. A pair whose first report
the second would not even read (no shared key, nlp/duplicate_index.py; the newest-of-the-category
floor left out, as if the grid held many newer tickets) counts as not merged. The labels were
written for this project: same problem/other words, same problem/next building, same
building/other problem, landmarks and roads, Chinese numerals.

--timing: one duplicate check of a report against a grid with 10 … 10,000 open tickets (the pairs'
texts over and over, the exact text of each report the oldest), in a real database: before (every
open ticket of the window read and scored, features cached per text for 2,048 texts) beside after
(the pruned read of handlers/duplicate_check.py on the features stored at filing), back to back.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_db import pg_schema_engine, sqlite_engine  # a sibling module: run as python benchmarks/bench_*.py
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from gridbot.handlers import duplicate_check
from gridbot.models.db import make_session_factory
from gridbot.models.entities import Ticket, TicketDupFeatures, TicketDupKey
from gridbot.models.enums import OPEN_STATUSES, Priority, TicketKind, TicketStatus
from gridbot.models.migrate import upgrade
from gridbot.models.org import directory as d
from gridbot.nlp.classifier import load_classifier
from gridbot.nlp.duplicate_index import index_keys, lookups
from gridbot.nlp.duplicates import MERGE, Match, OpenTicket, Thresholds, features, find_duplicate, score

PAIRS = Path(__file__).with_name("data") / "duplicate_pairs.jsonl"
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
SIZES = (10, 100, 2000, 10_000)


def fill(sf: sessionmaker[Session], texts: list[str]) -> dict[int, int]:
    """One grid per size with that many open tickets over the last 60 hours, features stored."""
    grids: dict[int, int] = {}
    with sf.begin() as s:
        street = d.create_region(s, "S", "街道", d.create_region(s, "D", "区", d.create_region(s, "C", "市")))
        community = d.create_region(s, "CM", "社区", street)
        for n in SIZES:
            grids[n] = d.create_grid(s, f"G{n}", f"网格{n}", community, households=300).id
    next_id = 1
    for n, grid_id in grids.items():
        tickets, rows, keys = [], [], []
        for i in range(n):
            text = f"{texts[i % len(texts)]}{i // len(texts) or ''}"
            at = (
                NOW - timedelta(hours=60) * (n - i) / n
            )  # ticket i < len(texts): the report's own text, oldest
            tickets.append(
                dict(
                    id=next_id,
                    kind=TicketKind.INCIDENT,
                    category="property",
                    priority=Priority.NORMAL,
                    status=TicketStatus.NEW,
                    grid_id=grid_id,
                    text=text,
                    text_masked=text,
                    created_at=at,
                    updated_at=at,
                )
            )
            entry = duplicate_check.entry(features(text))
            rows.append(dict(ticket_id=next_id, grid_id=grid_id, created_at=at, data=entry.data))
            keys += [dict(ticket_id=next_id, key=k, grid_id=grid_id, created_at=at) for k in entry.keys]
            next_id += 1
        with sf.begin() as s:
            s.execute(insert(Ticket), tickets)
            s.execute(insert(TicketDupFeatures), rows)
            s.execute(insert(TicketDupKey), keys)
    return grids


def before(s: Session, grid_id: int, text: str, t: Thresholds) -> Match:
    """The check before: every open ticket of the window read, each scored (features cached per text)."""
    rows = s.execute(
        select(Ticket.id, Ticket.text, Ticket.category, Ticket.created_at).where(
            Ticket.grid_id == grid_id, Ticket.status.in_(OPEN_STATUSES), Ticket.created_at >= NOW - t.window
        )
    ).all()
    return find_duplicate(text, "property", [OpenTicket(r[0], r[1], r[2], r[3]) for r in rows], NOW, t)


def after(s: Session, grid_id: int, text: str, t: Thresholds) -> Match:
    """The check now: the pruned read on stored features."""
    return duplicate_check.check(s, grid_id, text, "property", NOW, t).match


def per_check(
    sf: sessionmaker[Session],
    fn: Callable[[Session, int, str, Thresholds], Match],
    grid_id: int,
    reports: list[str],
    rounds: int,
) -> tuple[float, list[Match]]:
    """Median over rounds of the mean milliseconds of one check (each rolled back), and the matches."""
    with sf() as s:
        fn(s, grid_id, reports[0], Thresholds())  # the bot has seen these tickets before
        s.rollback()
    means, out = [], []
    for _ in range(rounds):
        out = []
        t0 = time.perf_counter()
        for r in reports:
            with sf() as s:
                out.append(fn(s, grid_id, r, Thresholds()))
                s.rollback()
        means.append((time.perf_counter() - t0) / len(reports) * 1000)
    return statistics.median(means), out


def timing(label: str, engine: Engine, rows: list[dict[str, object]], rounds: int) -> None:
    """Print milliseconds per check at each size, before and after, and whether the decisions agree."""
    texts = [str(r[k]) for r in rows for k in ("a", "b")]
    reports = texts[:20]
    upgrade(engine)
    sf = make_session_factory(engine)
    grids = fill(sf, texts)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    print(
        f"[{label}] {'open tickets':>12} {'before ms':>10} {'after ms':>9} {'same decision':>14} {'same score':>11}"
    )
    for n, grid_id in grids.items():
        before_ms, old = per_check(sf, before, grid_id, reports, 1 if n > 2000 else rounds)
        after_ms, new = per_check(sf, after, grid_id, reports, rounds)
        decisions = sum(a.decision == b.decision for a, b in zip(old, new, strict=True))
        scores = sum(abs(a.score - b.score) < 1e-9 for a, b in zip(old, new, strict=True))
        print(
            f"[{label}] {n:>12,} {before_ms:>10.2f} {after_ms:>9.2f} {decisions:>11}/{len(reports)} "
            f"{scores:>8}/{len(reports)}"
        )


def run_timing(args: argparse.Namespace, rows: list[dict[str, object]]) -> None:
    """On SQLite, then on PostgreSQL when a URL is given."""
    if not args.no_sqlite:
        with sqlite_engine() as engine:
            timing("sqlite", engine, rows, args.rounds)
    if args.pg_url:
        with pg_schema_engine(args.pg_url) as engine:
            timing("postgresql", engine, rows, args.rounds)


def read(first: str, second: str) -> bool:
    """Whether a report reads an open ticket by its keys (the newest-of-category floor left out)."""
    mine = {x.key for x in lookups(features(second))}
    return bool(mine & index_keys(features(first)))


def main() -> None:
    """Print precision/recall at the shipped threshold and across a sweep of thresholds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--timing", action="store_true", help="time checks against 10 … 10,000 open tickets")
    parser.add_argument("--pg-url", default=os.environ.get("GRIDBOT_TEST_DATABASE_URL"))
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--rounds", type=int, default=5, help="--timing: rounds of 20 checks, median shown")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.pairs.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.timing:
        run_timing(args, rows)
        return
    classifier = load_classifier()
    scored = []
    unread = lost = 0  # lost: merged without pruning, not read with it
    for row in rows:
        ca, cb = classifier.classify(row["a"]), classifier.classify(row["b"])
        ticket = OpenTicket(id=1, text=row["a"], category=ca.category, created_at=NOW)
        scored.append((row, ticket, cb.category, read(row["a"], row["b"])))
        if not scored[-1][3]:
            unread += 1
            lost += score(row["b"], cb.category, ticket).decision == MERGE
    print(
        f"{len(rows)} labelled pairs ({sum(r['same'] for r in rows)} duplicates); {unread} not read by key, {lost} of them merged unpruned"
    )
    shipped = Thresholds().merge
    for merge in (0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8):
        t = Thresholds(merge=merge, suggest=min(Thresholds().suggest, merge))
        tp = fp = fn = 0
        wrong: list[str] = []
        for row, ticket, category, by_key in scored:
            merged = by_key and score(row["b"], category, ticket, t).decision == MERGE
            tp += merged and row["same"]
            fp += merged and not row["same"]
            fn += (not merged) and row["same"]
            if merged != row["same"] and merge == shipped:
                wrong.append(f"  {'FP' if merged else 'FN'} {row['a']} | {row['b']}")
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        mark = "  <- shipped" if merge == shipped else ""
        print(
            f"merge >= {merge:.2f}: precision {precision:.2f} recall {recall:.2f} (tp {tp}, fp {fp}, fn {fn}){mark}"
        )
        for line in wrong:
            print(line)


if __name__ == "__main__":
    main()
