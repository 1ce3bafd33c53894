"""Database commands: `gridbot db upgrade`, `gridbot db current`."""

from __future__ import annotations

import typer

from gridbot.runtime import fail, open_engine

db_app = typer.Typer(help="Database schema management (Alembic migrations).", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations (SQLite file by default; GRIDBOT_DB__URL selects PostgreSQL)."""
    from models.migrate import current_revision
    from models.migrate import upgrade as do_upgrade

    engine = open_engine()
    try:
        do_upgrade(engine, revision)
    except Exception as exc:  # a failed migration is reported, not dumped
        fail(f"migration failed: {type(exc).__name__}: {exc}")
    typer.echo(
        f"database at revision {current_revision(engine)} ({engine.url.render_as_string(hide_password=True)})"
    )


@db_app.command("current")
def current() -> None:
    """Show the database's revision and the newest one shipped."""
    from models.migrate import current_revision, head_revision

    engine = open_engine()
    typer.echo(f"current: {current_revision(engine) or '(none)'}  head: {head_revision(engine)}")


def register(app: typer.Typer) -> None:
    """Attach the `db` command group to the main app."""
    app.add_typer(db_app, name="db")
