"""API benchmark on the city-scale synthetic data set: p50/p95 of the metric endpoints and the seeding time.

    python benchmarks/bench_api.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    python benchmarks/bench_api.py --schema gridbot_bench --reuse     # keep and reuse the seeded schema

Seeds `gridbot seed-demo`'s data (default 12,990 grids × 90 days) into a private schema (created
if absent; with --reuse an already seeded schema is used as is). The rollups the dashboard reads are
written by a few set-based INSERT … SELECT statements over the seeded facts (`seed_rollups`, the
same per-grid-day counts as models.metrics.rollups for this data set's shapes: no reopens, urges or
patrols) instead of the backfill (`--backfill` uses `refresh_rollups`, 16 min at city scale).
Then it calls the endpoints through
httpx.ASGITransport (no network in the way) with a city admin's token: /metrics/report, /series and
/ranking at city, street and grid level over the last 30 days, and every call the dashboard page makes
(/metrics/ranking by score with its parts, /metrics/quality, /dashboard/api/overview, tickets, overdue,
workers, map, path); `--only-dashboard` measures those alone. Grids get centre points and 800 m
square outlines so the map ships what a real import gives. Per endpoint: the first call (an empty
result cache: what the first official after a rollup refresh waits), then p50/p95 of the next
--requests calls; the last line is the p50/p95 over all of those. `--no-cache` keeps nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import date, timedelta

import httpx
from sqlalchemy import Engine, create_engine, func, select, text

from gridbot.api.app import create_app
from gridbot.api.ratelimit import LocalRateLimiter
from gridbot.api.result_cache import ResultCache
from gridbot.models.db import make_session_factory
from gridbot.models.entities import Grid, Region
from gridbot.models.entities.rollup import COHORT_COUNTS, DAY_FLOWS, DAY_STOCKS
from gridbot.models.enums import RegionLevel, Role
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.models.metrics.rollups import day_start, local_today, refresh_rollups
from gridbot.models.migrate import upgrade
from gridbot.models.org.tokens import create_token
from gridbot.models.settings import APISettings, DBSettings, Settings
from gridbot.seed import SeedShape, seed_demo

LOCAL = "(({col}) AT TIME ZONE 'Asia/Shanghai')::date"
GRID_DAYS = """
WITH days AS (SELECT d::date AS day FROM generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 day') d),
msg AS (
  SELECT grid_id, {sent} AS day,
    count(*) FILTER (WHERE sender_role = 'resident') AS resident_messages,
    count(*) FILTER (WHERE sender_role IN ('gridworker', 'parttime_gridworker', 'grid_leader')) AS worker_messages,
    count(DISTINCT sender_id) FILTER (WHERE sender_role = 'resident') AS active_residents
  FROM messages WHERE direction = 'in' AND grid_id IS NOT NULL GROUP BY 1, 2),
rat AS (
  SELECT t.grid_id, {rated} AS day, count(*) AS rated,
    count(*) FILTER (WHERE r.score IN ('satisfied', 'basically_satisfied')) AS satisfied,
    count(r.solved) AS solved_answered, count(*) FILTER (WHERE r.solved) AS solved
  FROM ratings r JOIN tickets t ON t.id = r.ticket_id GROUP BY 1, 2),
late AS (
  SELECT t.grid_id, d.ticket_id, {due} AS first_day,
    LEAST(
      CASE WHEN d.met_at IS NOT NULL THEN {met} - 1 END,
      CASE WHEN t.status IN ('resolved', 'closed') THEN {done} - 1 END,
      CASE WHEN t.status = 'rejected' THEN {rejected} - 1 END,
      CAST(:last AS date)) AS last_day
  FROM ticket_deadlines d JOIN tickets t ON t.id = d.ticket_id
  WHERE d.kind = 'resolution' AND t.status <> 'merged'),
od AS (
  SELECT grid_id, g::date AS day, count(DISTINCT ticket_id) AS overdue
  FROM late, generate_series(first_day, last_day, interval '1 day') g
  WHERE first_day <= last_day GROUP BY 1, 2),
snap AS (
  SELECT DISTINCT ON (group_id, {taken}) group_id, {taken} AS day, member_count
  FROM member_snapshots ORDER BY group_id, {taken}, taken_at DESC, id DESC),
span AS (
  SELECT c.grid_id, s.member_count, s.day AS first_day,
    COALESCE(lead(s.day) OVER (PARTITION BY s.group_id ORDER BY s.day) - 1, CAST(:last AS date)) AS last_day
  FROM snap s JOIN chat_groups c ON c.id = s.group_id WHERE c.grid_id IS NOT NULL),
mem AS (
  SELECT grid_id, g::date AS day, sum(member_count) AS members
  FROM span, generate_series(first_day, last_day, interval '1 day') g GROUP BY 1, 2)
INSERT INTO rollup_days (level, node_id, day, resident_messages, worker_messages, active_residents,
  rated, satisfied, solved_answered, solved, overdue, members, households)
SELECT 'grid', id, day, rm, wm, ar, rt, sa, sva, sv, od, mb, hh FROM (
  SELECT g.id, days.day,
    COALESCE(msg.resident_messages, 0) AS rm, COALESCE(msg.worker_messages, 0) AS wm,
    COALESCE(msg.active_residents, 0) AS ar, COALESCE(rat.rated, 0) AS rt, COALESCE(rat.satisfied, 0) AS sa,
    COALESCE(rat.solved_answered, 0) AS sva, COALESCE(rat.solved, 0) AS sv, COALESCE(od.overdue, 0) AS od,
    COALESCE(mem.members, 0) AS mb, GREATEST(g.households, 0) AS hh
  FROM grids g CROSS JOIN days
  LEFT JOIN msg ON msg.grid_id = g.id AND msg.day = days.day
  LEFT JOIN rat ON rat.grid_id = g.id AND rat.day = days.day
  LEFT JOIN od ON od.grid_id = g.id AND od.day = days.day
  LEFT JOIN mem ON mem.grid_id = g.id AND mem.day = days.day) x
WHERE rm + wm + ar + rt + sa + sva + sv + od + mb + hh > 0
""".format(
    sent=LOCAL.format(col="sent_at"),
    rated=LOCAL.format(col="r.created_at"),
    due=LOCAL.format(col="d.due_at"),
    met=LOCAL.format(col="d.met_at"),
    done=LOCAL.format(col="COALESCE(t.resolved_at, t.closed_at)"),
    rejected=LOCAL.format(col="t.rejected_at"),
    taken=LOCAL.format(col="taken_at"),
)
# each ticket's milestones as (done day, counter): the day it became countable by each rule
COHORTS = """
WITH t AS (
  SELECT t.id, t.grid_id, t.status, t.source, {created} AS cday,
    EXISTS (SELECT 1 FROM reminder_log l WHERE l.ticket_id = t.id) AS escalated,
    t.status NOT IN ('merged', 'rejected') AS got,
    {responded} AS rday, {done} AS vday, {accepted} AS aday,
    (SELECT min(d.due_at) FROM ticket_deadlines d
      WHERE d.ticket_id = t.id AND d.kind = 'first_response' AND d.cycle = 0) AS fr_due,
    (SELECT min({met}) FROM ticket_deadlines d WHERE d.ticket_id = t.id AND d.kind = 'first_response'
      AND d.cycle = 0 AND d.met_at <= d.due_at) AS fr_met_day,
    (SELECT min({met}) FROM ticket_deadlines d WHERE d.ticket_id = t.id AND d.kind = 'resolution'
      AND d.cycle = t.cycle AND d.met_at <= d.due_at) AS res_met_day,
    t.accepted_at
  FROM tickets t WHERE t.created_at >= :start AND t.created_at < :stop),
e AS (
  SELECT t.grid_id, t.cday, x.k, x.dday FROM t CROSS JOIN LATERAL (VALUES
    ('received', CASE WHEN got THEN cday END),
    ('responded', CASE WHEN got THEN rday END),
    ('responded_on_time', CASE WHEN got THEN fr_met_day END),
    ('resolved', CASE WHEN got AND status IN ('resolved', 'closed') THEN vday END),
    ('resolved_on_time', CASE WHEN got AND status IN ('resolved', 'closed') AND res_met_day IS NOT NULL
      THEN GREATEST(vday, res_met_day) END),
    ('resolved_once', CASE WHEN got AND status IN ('resolved', 'closed') THEN vday END),
    ('escalated', CASE WHEN got AND escalated THEN cday END),
    ('rejected', CASE WHEN status = 'rejected' THEN cday END),
    ('merged', CASE WHEN status = 'merged' THEN cday END),
    ('response_due', CASE WHEN got THEN CASE WHEN fr_due IS NULL THEN cday
      ELSE LEAST(rday, {fr_due}) END END),
    ('accepted_on_time', CASE WHEN got AND accepted_at <= fr_due THEN aday END),
    ('patrol', CASE WHEN got AND source = 'patrol' THEN cday END)
  ) AS x(k, dday) WHERE x.dday IS NOT NULL AND x.dday <= CAST(:through AS date))
INSERT INTO rollup_cohorts (level, node_id, created_day, done_day, reopened, urged, {cols})
SELECT 'grid', grid_id, cday, dday, 0, 0, {sums} FROM e GROUP BY grid_id, cday, dday
"""
COHORT_KEYS = (
    "received", "responded", "responded_on_time", "resolved", "resolved_on_time", "resolved_once",
    "escalated", "rejected", "merged", "response_due", "accepted_on_time", "patrol",
)  # fmt: skip
COHORTS = COHORTS.format(
    created=LOCAL.format(col="t.created_at"),
    responded=LOCAL.format(col="t.first_response_at"),
    done=LOCAL.format(col="COALESCE(t.resolved_at, t.closed_at)"),
    accepted=LOCAL.format(col="t.accepted_at"),
    met=LOCAL.format(col="d.met_at"),
    fr_due=LOCAL.format(col="fr_due"),
    cols=", ".join(COHORT_KEYS),
    sums=", ".join(f"count(*) FILTER (WHERE k = '{k}')" for k in COHORT_KEYS),
)


def seed_rollups(engine: Engine, first: date, last: date) -> None:
    """The grid rollups of [first, last] from the seeded facts in set-based SQL, then the region sums.

    Matches models.metrics.rollups for data without reopens, urges or paused clocks (the seed has
    none): `tests/integration/test_bench_rollups.py` compares the two on a small seed.
    """
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM rollup_days WHERE day BETWEEN :a AND :b"), {"a": first, "b": last})
        conn.execute(
            text("DELETE FROM rollup_cohorts WHERE created_day BETWEEN :a AND :b"), {"a": first, "b": last}
        )
        conn.execute(text(GRID_DAYS), {"first": first, "last": last})
        conn.execute(
            text(COHORTS),
            {
                "start": day_start(first),
                "stop": day_start(last + timedelta(days=1)),
                "through": local_today(),
            },
        )
        for table, keys, counts in (
            ("rollup_days", ("day",), DAY_FLOWS + DAY_STOCKS),
            ("rollup_cohorts", ("created_day", "done_day"), COHORT_COUNTS),
        ):
            below = "grid"
            for level in ("community", "street", "district", "city"):
                parent = "g.community_id" if below == "grid" else "g.parent_id"
                source = "grids" if below == "grid" else "regions"
                key = ", ".join(f"r.{k}" for k in keys)
                conn.execute(
                    text(
                        f"INSERT INTO {table} (level, node_id, {', '.join(keys)}, {', '.join(counts)}) "  # noqa: S608 - fixed names
                        f"SELECT '{level}', {parent}, {key}, {', '.join(f'sum(r.{c})' for c in counts)} "
                        f"FROM {table} r JOIN {source} g ON g.id = r.node_id "
                        f"WHERE r.level = '{below}' AND r.{keys[0]} BETWEEN :a AND :b GROUP BY {parent}, {key}"
                    ),
                    {"a": first, "b": last},
                )
                below = level


def pct(values: list[float], q: float) -> float:
    """The q-quantile in milliseconds."""
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1] * 1000


# the grids as a lattice of 800 m squares around Nanjing, so that /dashboard/api/map ships real outlines
GEOMETRY = """
UPDATE grids SET center_lng = 118.3 + (id % 120) * 0.01, center_lat = 31.4 + (id / 120) * 0.01,
  geometry = json_build_object('type', 'Polygon', 'coordinates', json_build_array(json_build_array(
    json_build_array(118.296 + (id % 120) * 0.01, 31.396 + (id / 120) * 0.01),
    json_build_array(118.304 + (id % 120) * 0.01, 31.396 + (id / 120) * 0.01),
    json_build_array(118.304 + (id % 120) * 0.01, 31.404 + (id / 120) * 0.01),
    json_build_array(118.296 + (id % 120) * 0.01, 31.404 + (id / 120) * 0.01),
    json_build_array(118.296 + (id % 120) * 0.01, 31.396 + (id / 120) * 0.01))))
WHERE center_lng IS NULL
"""


async def measure(
    app: object, token: str, calls: dict[str, list[tuple[str, dict[str, object]]]], n: int
) -> None:
    """Print the first call and p50/p95 of the next n per level and endpoint."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        print(f"{'level':<8} {'endpoint':<26} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8}")
        everything: list[float] = []
        for level, endpoints in calls.items():
            for path, params in endpoints:
                t0 = time.perf_counter()
                await client.get(path, params=params)  # the first call: a cold cache
                first = (time.perf_counter() - t0) * 1000
                times = []
                for _ in range(n):
                    t0 = time.perf_counter()
                    r = await client.get(path, params=params)
                    times.append(time.perf_counter() - t0)
                    assert r.status_code == 200, r.text[:200]
                everything.extend(times)
                print(f"{level:<8} {path:<26} {first:9.1f} {pct(times, 0.5):8.1f} {pct(times, 0.95):8.1f}")
        print(
            f"{'all':<8} {'(every call but the first)':<26} {'':>9} "
            f"{pct(everything, 0.5):8.1f} {pct(everything, 0.95):8.1f}"
        )


def main() -> None:
    """Seed (or reuse) and measure."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg-url", default=os.environ.get("GRIDBOT_TEST_DATABASE_URL"))
    ap.add_argument("--schema", default="gridbot_bench")
    ap.add_argument("--grids", type=int, default=12_990)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--reuse", action="store_true", help="use an already seeded schema")
    ap.add_argument(
        "--backfill", action="store_true", help="rollups by refresh_rollups (slow), not seed_rollups"
    )
    ap.add_argument("--only-dashboard", action="store_true", help="only the calls the dashboard page makes")
    ap.add_argument("--no-cache", action="store_true", help="keep no results between calls (every call cold)")
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
        if args.backfill:
            with sf.begin() as s:
                refresh_rollups(s, today - timedelta(days=args.days - 1), today)
        else:
            seed_rollups(engine, today - timedelta(days=args.days - 1), today)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        t2 = time.perf_counter()
        print(f"seeded {args.grids} grids × {args.days} days in {t1 - t0:.1f} s; rollups in {t2 - t1:.1f} s")
    with engine.begin() as conn:
        conn.execute(text(GEOMETRY))
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
        calls[level] = []
        if not args.only_dashboard:
            calls[level] += [
                ("/metrics/report", {key: node, **period}),
                ("/metrics/series", {key: node, **period}),
            ]
            if level != "grid":
                of = "children" if level == "city" else "grids"
                calls[level].append(
                    ("/metrics/ranking", {"region": node, "key": "resolution_rate", "of": of, **period})
                )
        # what the dashboard's overview, ticket, worker and map views request
        calls[level] += [
            ("/metrics/report", {key: node, **period, "limit": 0}),
            ("/metrics/series", {key: node, **period}),
            ("/dashboard/api/path", {key: node}),
            ("/dashboard/api/overview", {key: node, **period}),
            ("/dashboard/api/overdue", {key: node}),
            ("/metrics/quality", {key: node}),
            ("/dashboard/api/tickets", {key: node, "limit": 50}),
            ("/dashboard/api/tickets", {key: node, "limit": 50, "overdue": "true"}),
            ("/dashboard/api/workers", {key: node, **period}),
        ]
        if level != "grid":
            calls[level] += [
                ("/metrics/ranking", {"region": node, "key": "score", "limit": 20, **period}),
                ("/dashboard/api/map", {"region": node, "key": "received", **period}),
            ]

    async def run() -> None:
        async with app.router.lifespan_context(app):
            if args.no_cache:
                app.state.services.results = ResultCache(size=0)
            await measure(app, token, calls, args.requests)

    asyncio.run(run())


if __name__ == "__main__":
    main()
