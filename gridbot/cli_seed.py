"""`gridbot seed-demo` (a synthetic Nanjing-scale city) and `gridbot rollup` (metric rollups)."""

from __future__ import annotations

import time
from datetime import date, timedelta

import typer

from gridbot.runtime import fail, open_engine

rollup_app = typer.Typer(
    help="Metric rollups: backfill a range, or catch up on recent changes.", no_args_is_help=True
)


def seed_demo(
    grids: int = typer.Option(
        60,
        help="How many grids (a small city; 12990 for Nanjing's scale). Workers and residents scale with it.",
    ),
    days: int = typer.Option(90, help="Days of messages and tickets, ending yesterday."),
    seed: int = typer.Option(1, help="Random seed."),
) -> None:
    """Seed an empty database with a synthetic city, then build its rollups."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from models.db import make_session_factory
    from models.rollups import local_today, refresh_rollups
    from models.seed import SeedError, SeedShape
    from models.seed import seed_demo as do_seed

    engine = open_engine()
    sessions = make_session_factory(engine)
    shape = SeedShape.scaled(grids, days)
    t0 = time.perf_counter()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns) as bar:
        task = bar.add_task("seeding", total=6)

        def step(name: str, done: float, _total: int) -> None:
            bar.update(task, completed=done, description=f"seeding: {name}")

        try:
            with sessions.begin() as session:
                stats = do_seed(session, shape, seed=seed, progress=step)
        except SeedError as exc:
            fail(str(exc))
        seeded = time.perf_counter() - t0
        bar.update(task, completed=5, description="rollups")
        today = local_today()
        with sessions.begin() as session:  # the seeded days end yesterday
            refresh_rollups(session, today - timedelta(days=days), today)
        bar.update(task, completed=6, description="done")
    for table, n in stats.rows.items():
        typer.echo(f"{table:>18}: {n:,}")
    typer.echo(f"seeded in {seeded:.1f} s, rollups in {time.perf_counter() - t0 - seeded:.1f} s")


@rollup_app.command("refresh")
def refresh(
    first: str = typer.Option(..., "--from", help="First local day (YYYY-MM-DD)."),
    last: str = typer.Option(None, "--to", help="Last local day (default: today)."),
) -> None:
    """Recompute the rollups of a range of local days (backfill, or after a bulk import)."""
    from models.db import make_session_factory
    from models.rollups import local_today, refresh_rollups

    try:
        a, b = date.fromisoformat(first), date.fromisoformat(last) if last else local_today()
    except ValueError as exc:
        fail(f"bad date: {exc}")
    t0 = time.perf_counter()
    with make_session_factory(open_engine()).begin() as session:
        stats = refresh_rollups(session, a, b)
    typer.echo(
        f"{stats.days} days × {stats.grids} grids: {stats.day_rows} day rows, {stats.cohort_rows} cohort rows in {time.perf_counter() - t0:.1f} s"
    )


@rollup_app.command("changed")
def changed(
    minutes: int = typer.Option(10, help="Catch up on changes recorded in the last N minutes."),
) -> None:
    """Refresh today and whatever changed recently (run every few minutes from cron or the bot)."""
    from models.db import make_session_factory
    from models.entities import utcnow
    from models.rollups import refresh_changed

    now = utcnow()
    with make_session_factory(open_engine()).begin() as session:
        stats = refresh_changed(session, since=now - timedelta(minutes=minutes), now=now)
    typer.echo(f"{len(stats)} refreshes, {sum(s.day_rows for s in stats)} day rows")


def register(app: typer.Typer) -> None:
    """Attach `seed-demo` and the `rollup` group to the main app."""
    app.command("seed-demo")(seed_demo)
    app.add_typer(rollup_app, name="rollup")
