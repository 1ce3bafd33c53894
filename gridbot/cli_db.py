"""Database commands: `gridbot db upgrade|current|revision|purge-text|purge-attachments|remask`."""

from __future__ import annotations

from typing import Annotated

import typer

from gridbot.runtime import fail, open_engine

db_app = typer.Typer(help="Database schema management (Alembic migrations).", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations (SQLite file by default; GRIDBOT_DB__URL selects PostgreSQL)."""
    from gridbot.models.migrate import current_revision
    from gridbot.models.migrate import upgrade as do_upgrade

    engine = open_engine(migrated=False)
    try:
        do_upgrade(engine, revision)
    except Exception as exc:  # a failed migration is reported, not dumped
        fail(f"migration failed: {type(exc).__name__}: {exc}")
    typer.echo(
        f"database at revision {current_revision(engine)} ({engine.url.render_as_string(hide_password=True)})"
    )


@db_app.command("revision")
def revision(message: str = typer.Option(..., "-m", "--message", help="What the migration does.")) -> None:
    """Autogenerate a migration from the entities (developers; run it against PostgreSQL at head)."""
    from gridbot.models.migrate import autogenerate, current_revision, head_revision

    engine = open_engine()
    try:
        if current_revision(engine) != head_revision(engine):
            fail("the database is not at the newest revision: run `gridbot db upgrade` on it first", code=2)
        typer.echo(f"wrote {autogenerate(engine, message)}; read it before committing")
    finally:
        engine.dispose()


@db_app.command("current")
def current() -> None:
    """Show the database's revision and the newest one shipped."""
    from gridbot.models.migrate import current_revision, head_revision

    engine = open_engine(migrated=False)
    typer.echo(f"current: {current_revision(engine) or '(none)'}  head: {head_revision(engine)}")


@db_app.command("purge-text")
def purge_text(
    days: Annotated[
        int | None,
        typer.Option(
            min=1, help="Purge text older than N days (default GRIDBOT_RETENTION__MESSAGE_TEXT_DAYS)."
        ),
    ] = None,
) -> None:
    """Blank message text older than the retention period; rows and metrics stay."""
    from gridbot.models import jobs
    from gridbot.models.db import make_session_factory
    from gridbot.models.entities import utcnow
    from gridbot.models.messaging.coordination import make_coordinator
    from gridbot.models.settings import get_settings

    settings = get_settings()
    days = days if days is not None else settings.retention.message_text_days
    if days is None:
        fail("no retention period: pass --days N or set GRIDBOT_RETENTION__MESSAGE_TEXT_DAYS", code=2)
    if days < 1:
        fail(
            f"the retention period must be at least 1 day (GRIDBOT_RETENTION__MESSAGE_TEXT_DAYS={days})",
            code=2,
        )
    engine = open_engine(settings)
    try:
        purged = jobs.purge_text(make_session_factory(engine), make_coordinator(settings), utcnow(), days)
    finally:
        engine.dispose()
    if purged is None:
        fail("another instance (a running bot or another cron job) is purging now; try again later", code=3)
    typer.echo(f"purged the text of {purged} rows older than {days} days")


@db_app.command("purge-attachments")
def purge_attachments(
    days: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Delete attachments older than N days (default GRIDBOT_RETENTION__ATTACHMENT_DAYS, "
            "else GRIDBOT_RETENTION__MESSAGE_TEXT_DAYS).",
        ),
    ] = None,
) -> None:
    """Delete photos, files and voice (files and rows) older than the retention period."""
    from gridbot.models import jobs
    from gridbot.models.attachments.store import FileStore
    from gridbot.models.db import make_session_factory
    from gridbot.models.entities import utcnow
    from gridbot.models.messaging.coordination import make_coordinator
    from gridbot.models.settings import get_settings

    settings = get_settings()
    days = days if days is not None else settings.retention.attachment_days_effective
    if days is None:
        fail("no retention period: pass --days N or set GRIDBOT_RETENTION__ATTACHMENT_DAYS", code=2)
    engine = open_engine(settings)
    try:
        store = FileStore(settings.attachments)
        done = jobs.purge_attachments(
            make_session_factory(engine), make_coordinator(settings), store, utcnow(), days
        )
    finally:
        engine.dispose()
    if done is None:
        fail("another instance (a running bot or another cron job) is purging now; try again later", code=3)
    typer.echo(f"deleted {done[0]} attachments ({done[1]} files) older than {days} days")


@db_app.command("remask")
def remask() -> None:
    """Mask stored texts and display names again with the current masker (after an upgrade)."""
    from gridbot.models.db import make_session_factory, transaction
    from gridbot.remask import remask as run

    engine = open_engine()
    try:
        with transaction(make_session_factory(engine)) as session:
            changed = run(session)
    finally:
        engine.dispose()
    typer.echo("re-masked: " + ", ".join(f"{table} {n}" for table, n in changed.items()))


def register(app: typer.Typer) -> None:
    """Attach the `db` command group to the main app."""
    app.add_typer(db_app, name="db")
