"""The benchmark's set-based rollup seeding writes exactly what the rollup backfill writes, on PostgreSQL.

benchmarks/bench_api.py measures the dashboard on rollups written by `seed_rollups` (the backfill
takes 16 minutes at city scale); its figures mean something only if the rows are the same.
"""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from gridbot.models.metrics.rollups import local_today, refresh_rollups
from gridbot.seed import SeedShape, seed_demo

pytestmark = pytest.mark.integration
BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_api.py"


def bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_api", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rows(engine: Engine, table: str) -> set[tuple[object, ...]]:
    with engine.connect() as conn:
        return {tuple(r) for r in conn.execute(text(f"SELECT * FROM {table}"))}  # noqa: S608 - fixed names


def test_seed_rollups_equal_the_backfill(
    pg_engine: Engine, pg_session_factory: sessionmaker[Session]
) -> None:
    days = 12
    last = local_today()
    first = last - timedelta(days=days - 1)
    with pg_session_factory.begin() as s:
        seed_demo(s, SeedShape.scaled(60, days))
    with pg_session_factory.begin() as s:
        refresh_rollups(s, first, last)
    backfilled = rows(pg_engine, "rollup_days"), rows(pg_engine, "rollup_cohorts")
    bench_module().seed_rollups(pg_engine, first, last)
    seeded = rows(pg_engine, "rollup_days"), rows(pg_engine, "rollup_cohorts")
    assert len(backfilled[0]) > 60 * days and len(backfilled[1]) > 100
    assert seeded[0] == backfilled[0]
    assert seeded[1] == backfilled[1]
