"""Rollup backfill benchmark: the per-day implementation before issue 19 beside the one-pass SQL.

    PYTHONPATH=. python benchmarks/bench_rollups.py --grids 1000 --days 90 --pg-url postgresql+psycopg://…
    PYTHONPATH=. python benchmarks/bench_rollups.py --grids 12990 --days 90 --skip-old --pg-url …  # a city

Seeds `gridbot seed-demo`'s synthetic city (--grids × --days) into a private schema (SQLite without
--pg-url), then times a full backfill of the rollups twice on the same data: the old code (kept in
tests/rollups_reference.py: one query per day, rows through Python, then bulk COPY) and today's
`refresh_rollups`, and checks that both wrote the same grid rows. With --schema and --reuse a seeded
schema is kept and reused.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from bench_db import sqlite_engine  # a sibling module: run as python benchmarks/bench_*.py
from sqlalchemy import Engine, Table, create_engine, delete, func, select, text
from sqlalchemy.orm import Session

from gridbot.models.bulk import bulk_insert
from gridbot.models.db import make_session_factory
from gridbot.models.entities import Grid, RollupCohort, RollupDay
from gridbot.models.entities.rollup import COHORT_COUNTS
from gridbot.models.metrics import Scope
from gridbot.models.metrics.rollups import DAY_COLUMNS, _aggregate_up, local_today, refresh_rollups
from gridbot.models.migrate import upgrade
from gridbot.seed import SeedShape, seed_demo
from tests import rollups_reference as old  # run from the repository root (PYTHONPATH=.)


@contextmanager
def pg_engine(url: str, schema: str, reuse: bool) -> Iterator[Engine]:
    """An engine on a private schema (kept when --reuse, else dropped afterwards)."""
    admin = create_engine(url)
    with admin.begin() as conn:
        if not reuse:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        if not reuse:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def old_refresh(s: Session, first: Any, last: Any) -> tuple[int, int]:
    """refresh_rollups as it was: delete, compute day by day in Python, COPY, sum up the regions."""
    for table, col in ((RollupDay, RollupDay.day), (RollupCohort, RollupCohort.created_day)):
        s.execute(delete(table).where(table.level == "grid", col.between(first, last)))
    scope = Scope.region("/")
    days = old.grid_days(s, scope, first, last)
    bulk_insert(s, RollupDay.__table__, ["level", "node_id", "day", *DAY_COLUMNS], days)  # type: ignore[arg-type]
    cohorts = old.cohorts(s, scope, first, last, last)
    cols = ["level", "node_id", "created_day", "done_day", *COHORT_COUNTS]
    bulk_insert(s, RollupCohort.__table__, cols, cohorts)  # type: ignore[arg-type]
    _aggregate_up(s, first, last, None)
    return len(days), len(cohorts)


def snapshot(s: Session) -> set[tuple[Any, ...]]:
    """Every rollup row, all levels, as comparable tuples."""
    out: set[tuple[Any, ...]] = set()
    for table in (RollupDay, RollupCohort):
        t = table.__table__
        assert isinstance(t, Table)
        out |= {(t.name, *map(str, r)) for r in s.execute(select(t))}
    return out


def vacuum_rollups(engine: Engine) -> None:
    """On PostgreSQL, VACUUM the rollup tables so that every --reuse run starts from the same state.

    A previous run's deleted rows stay until autovacuum comes; each INSERT's unique check then visits
    them all (on a city, the grid-day INSERT took 53 s instead of 10 s after three runs).
    """
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM rollup_days, rollup_cohorts"))


def backend_cpu(s: Session) -> float:
    """CPU seconds the session's PostgreSQL backend has used (a figure that load disturbs less than
    wall time); -1 where it cannot be read (SQLite, or a server on another machine)."""
    if s.get_bind().dialect.name != "postgresql":
        return -1.0
    pid = s.connection().scalar(text("SELECT pg_backend_pid()"))
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return -1.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(label: str, engine: Engine, grids: int, days: int, skip_old: bool) -> None:
    """Seed if empty, then time the old and the new backfill."""
    upgrade(engine)
    sf = make_session_factory(engine)
    with sf() as s:
        seeded = bool(s.scalar(select(func.count(Grid.id))))
    if not seeded:
        t0 = time.perf_counter()
        with sf.begin() as s:
            seed_demo(s, SeedShape.scaled(grids, days))
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        print(f"[{label}] seeded {grids:,} grids × {days} days in {time.perf_counter() - t0:.1f} s")
    last = local_today()
    first = last - timedelta(days=days - 1)
    before = None
    if not skip_old:
        vacuum_rollups(engine)
        t0 = time.perf_counter()
        with sf.begin() as s:
            n_days, n_cohorts = old_refresh(s, first, last)
        dt = time.perf_counter() - t0
        print(
            f"[{label}] before (per day):  {dt:7.1f} s — {n_days:,} grid-day rows, {n_cohorts:,} cohort rows"
        )
        with sf() as s:
            before = snapshot(s)
    vacuum_rollups(engine)
    t0 = time.perf_counter()
    with sf.begin() as s:
        cpu = backend_cpu(s)
        st = refresh_rollups(s, first, last, through=last)
        used = backend_cpu(s) - cpu if cpu >= 0 else -1.0
    dt = time.perf_counter() - t0
    print(
        f"[{label}] one-pass SQL:      {dt:7.1f} s — {st.day_rows:,} grid-day rows, {st.cohort_rows:,} cohort rows"
        + (f"; database backend CPU {used:.1f} s" if used >= 0 else "")
        + f"; load average {os.getloadavg()[0]:.1f}"
    )
    if before is not None:
        with sf() as s:
            after = snapshot(s)
        print(f"[{label}] rows differing between the two: {len(before ^ after)} of {len(after):,}")


def main() -> None:
    """Run on SQLite, or on PostgreSQL when a URL is given."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grids", type=int, default=1000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--pg-url", default=os.environ.get("GRIDBOT_TEST_DATABASE_URL"))
    ap.add_argument("--schema", default=f"gridbot_bench_rollups_{os.getpid()}")
    ap.add_argument("--reuse", action="store_true", help="keep the schema, and reuse it if seeded")
    ap.add_argument(
        "--skip-old", action="store_true", help="only the one-pass SQL (a city takes 16 min before)"
    )
    args = ap.parse_args()
    if args.pg_url:
        with pg_engine(args.pg_url, args.schema, args.reuse) as engine:
            run("postgresql", engine, args.grids, args.days, args.skip_old)
    else:
        with sqlite_engine() as engine:
            run("sqlite", engine, args.grids, args.days, args.skip_old)


if __name__ == "__main__":
    main()
