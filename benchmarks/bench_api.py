"""API benchmark on the city-scale synthetic data set: p50/p95 of the metric endpoints and the seeding time.

    python benchmarks/bench_api.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    python benchmarks/bench_api.py --schema gridbot_bench --reuse     # keep and reuse the seeded schema

Seeds `gridbot seed-demo`'s data (default 12,990 grids × 90 days) into a private schema (created
if absent; with --reuse an already seeded schema is used as is), then calls the endpoints through
httpx.ASGITransport (no network in the way) with a city admin's token: /metrics/report, /series and
/ranking at city, street and grid level over the last 30 days.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import timedelta

import httpx
from sqlalchemy import create_engine, func, select, text

from gridbot.api.app import create_app
from gridbot.api.ratelimit import LocalRateLimiter
from gridbot.models.db import make_session_factory
from gridbot.models.entities import Grid, Region
from gridbot.models.enums import RegionLevel, Role
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.models.metrics.rollups import local_today, refresh_rollups
from gridbot.models.migrate import upgrade
from gridbot.models.org.tokens import create_token
from gridbot.models.settings import APISettings, DBSettings, Settings
from gridbot.seed import SeedShape, seed_demo


def pct(values: list[float], q: float) -> float:
    """The q-quantile in milliseconds."""
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1] * 1000


async def measure(
    app: object, token: str, calls: dict[str, list[tuple[str, dict[str, object]]]], n: int
) -> None:
    """Print p50/p95 per level and endpoint."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        print(f"{'level':<8} {'endpoint':<18} {'p50 ms':>8} {'p95 ms':>8}")
        for level, endpoints in calls.items():
            for path, params in endpoints:
                await client.get(path, params=params)  # warm-up
                times = []
                for _ in range(n):
                    t0 = time.perf_counter()
                    r = await client.get(path, params=params)
                    times.append(time.perf_counter() - t0)
                    assert r.status_code == 200, r.text[:200]
                print(f"{level:<8} {path:<18} {pct(times, 0.5):8.1f} {pct(times, 0.95):8.1f}")


def main() -> None:
    """Seed (or reuse) and measure."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg-url", default=os.environ.get("GRIDBOT_TEST_DATABASE_URL"))
    ap.add_argument("--schema", default="gridbot_bench")
    ap.add_argument("--grids", type=int, default=12_990)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--reuse", action="store_true", help="use an already seeded schema")
    args = ap.parse_args()
    if not args.pg_url:
        raise SystemExit("give --pg-url or set GRIDBOT_TEST_DATABASE_URL")
    admin = create_engine(args.pg_url)
    with admin.begin() as conn:
        if not args.reuse:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{args.schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{args.schema}"'))
    engine = create_engine(args.pg_url, connect_args={"options": f"-csearch_path={args.schema}"}, pool_size=5)
    upgrade(engine)
    sf = make_session_factory(engine)
    today = local_today()
    with sf() as s:
        seeded = bool(s.scalar(select(func.count(Grid.id))))
    if not seeded:
        t0 = time.perf_counter()
        with sf.begin() as s:
            seed_demo(s, SeedShape.scaled(args.grids, args.days))
        t1 = time.perf_counter()
        with sf.begin() as s:
            refresh_rollups(s, today - timedelta(days=args.days - 1), today)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        t2 = time.perf_counter()
        print(f"seeded {args.grids} grids × {args.days} days in {t1 - t0:.1f} s; rollups in {t2 - t1:.1f} s")
    with sf.begin() as s:
        city = s.scalars(select(Region).where(Region.level == RegionLevel.CITY)).first()
        street = s.scalars(
            select(Region).where(Region.level == RegionLevel.STREET).order_by(Region.id)
        ).first()
        grid = s.scalars(select(Grid).order_by(Grid.id)).first()
        assert city and street and grid
        _, token = create_token(s, role=Role.CITY_ADMIN, region=city, name="bench")
        ids = (city.id, street.id, grid.id)
    settings = Settings(
        _env_file=None, db=DBSettings(url=args.pg_url), api=APISettings(rate_limit_per_minute=10**9)
    )  # type: ignore[call-arg]
    app = create_app(settings, engine=engine, coordinator=LocalCoordinator(), limiter=LocalRateLimiter())
    period = {"from": str(today - timedelta(days=29)), "to": str(today)}
    calls: dict[str, list[tuple[str, dict[str, object]]]] = {}
    for level, key, node in (
        ("city", "region", ids[0]),
        ("street", "region", ids[1]),
        ("grid", "grid", ids[2]),
    ):
        calls[level] = [
            ("/metrics/report", {key: node, **period}),
            ("/metrics/series", {key: node, **period}),
        ]
        if level != "grid":
            of = "children" if level == "city" else "grids"
            calls[level].append(
                ("/metrics/ranking", {"region": node, "key": "resolution_rate", "of": of, **period})
            )

    async def run() -> None:
        async with app.router.lifespan_context(app):
            await measure(app, token, calls, args.requests)

    asyncio.run(run())


if __name__ == "__main__":
    main()
