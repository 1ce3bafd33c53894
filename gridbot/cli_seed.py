"""`gridbot seed-demo` (a synthetic Nanjing-scale city) and `gridbot rollup` (metric rollups)."""

from __future__ import annotations

import time
from datetime import date, timedelta

import typer

from gridbot.runtime import fail, open_engine

BUSY = "another instance (a running bot or another cron job) is refreshing the rollups now; try again later"
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

    from gridbot.models.db import make_session_factory
    from gridbot.models.metrics.rollups import local_today, refresh_rollups
    from gridbot.seed import SeedError, SeedShape
    from gridbot.seed import seed_demo as do_seed

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
    from gridbot.models import jobs
    from gridbot.models.db import make_session_factory
    from gridbot.models.messaging.coordination import make_coordinator
    from gridbot.models.metrics.rollups import local_today
    from gridbot.models.settings import get_settings

    try:
        a, b = date.fromisoformat(first), date.fromisoformat(last) if last else local_today()
    except ValueError as exc:
        fail(f"bad date: {exc}")
    settings = get_settings()
    t0 = time.perf_counter()
    stats = jobs.backfill_rollups(
        make_session_factory(open_engine(settings)), make_coordinator(settings), a, b
    )
    if stats is None:
        fail(BUSY, code=3)
    typer.echo(
        f"{stats.days} days × {stats.grids} grids: {stats.day_rows} day rows, {stats.cohort_rows} cohort rows in {time.perf_counter() - t0:.1f} s"
    )


@rollup_app.command("changed")
def changed(
    minutes: int = typer.Option(10, help="Catch up on changes recorded in the last N minutes."),
) -> None:
    """Refresh today and whatever changed recently (run every few minutes from cron or the bot)."""
    from gridbot.models import jobs
    from gridbot.models.db import make_session_factory
    from gridbot.models.entities import utcnow
    from gridbot.models.messaging.coordination import make_coordinator
    from gridbot.models.settings import get_settings

    settings = get_settings()
    now = utcnow()
    engine = open_engine(settings)
    try:
        stats = jobs.refresh_changed_rollups(
            make_session_factory(engine),
            make_coordinator(settings),
            since=now - timedelta(minutes=minutes),
            now=now,
        )
    finally:
        engine.dispose()
    if stats is None:
        fail(BUSY, code=3)
    typer.echo(f"{len(stats)} refreshes, {sum(s.day_rows for s in stats)} day rows")


def register(app: typer.Typer) -> None:
    """Attach `seed-demo` and the `rollup` group to the main app."""
    app.command("seed-demo")(seed_demo)
    app.add_typer(rollup_app, name="rollup")
