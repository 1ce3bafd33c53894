"""Process wiring shared by the entry points: settings, logging, the database.

Every command module imports this one, so it imports SQLAlchemy and pydantic-settings only inside
the functions that need them: `gridbot classify` and `gridbot --help` never load them.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from gridbot.models.settings import Settings


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a one-line error for the user and exit (no traceback wall)."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while start-up builds what the process keeps, then freeze it.

    Importing SQLAlchemy, numpy, pydantic and the mapped entities allocates hundreds of thousands
    of objects that live as long as the process; the collector walked them some 300 times before
    the bot's first message (0.15 s of CPU). Frozen, later collections skip them. Frozen garbage is
    never freed: keep work that makes much of it (training a model) outside a long-lived process's
    pause.
    """
    if not gc.isenabled():  # nested, or paused by the caller: theirs to resume
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def configure_logging(settings: Settings) -> None:
    """Configure the root logger once, in entry points only."""
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from gridbot.logsafety import protect_handlers

    protect_handlers(settings)


def open_engine(settings: Settings | None = None, *, migrated: bool = True) -> Engine:
    """An engine for the configured database, verified reachable and (unless `migrated=False`)
    migrated to this version's head, or a clear error and exit."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from gridbot.models.db import DatabaseUnavailable, check_connection, make_engine
    from gridbot.models.migrate import current_revision, head_revision
    from gridbot.models.settings import get_settings
    from gridbot.setup_errors import DB_URL_HELP

    settings = settings or get_settings()
    try:
        engine = make_engine(settings.db)
    except (ArgumentError, NoSuchModuleError, ValueError):
        fail(f"GRIDBOT_DB__URL is not a usable database URL: {DB_URL_HELP}.", code=2)
    try:
        check_connection(engine)
    except DatabaseUnavailable as exc:
        fail(f"{exc}. Is the database running, and is GRIDBOT_DB__URL right?")
    if migrated:
        current, head = current_revision(engine), head_revision(engine)  # one query, no alembic
        if current is None:
            fail("the database has no gridbot tables yet: run `gridbot db upgrade` first.")
        if current != head:
            fail(
                f"the database is at revision {current}, this gridbot needs {head}: run `gridbot db upgrade`."
            )
    return engine


def check_redis(settings: Settings) -> None:
    """When Redis is configured, verify the URL and that it answers (or a clear error and exit)."""
    if not settings.redis.url:
        return
    import redis

    try:
        client = redis.Redis.from_url(settings.redis.url, socket_connect_timeout=3, socket_timeout=3)
    except ValueError:
        fail(
            "GRIDBOT_REDIS__URL is not a Redis URL: use redis://HOST:6379/0 (or unset it to run without Redis).",
            2,
        )
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        fail(
            f"Redis is unreachable at GRIDBOT_REDIS__URL ({type(exc).__name__}): start Redis or fix/unset the URL."
        )
    finally:
        client.close()
