"""Process wiring shared by the entry points: settings, logging, the database."""

from __future__ import annotations

import logging
from typing import NoReturn

import typer
from sqlalchemy import Engine

from gridbot.models.db import DatabaseUnavailable, check_connection, make_engine
from gridbot.models.settings import Settings, get_settings


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a one-line error for the user and exit (no traceback wall)."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def configure_logging(settings: Settings) -> None:
    """Configure the root logger once, in entry points only."""
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def open_engine(settings: Settings | None = None) -> Engine:
    """An engine for the configured database, verified reachable (or a clear error and exit)."""
    settings = settings or get_settings()
    engine = make_engine(settings.db)
    try:
        check_connection(engine)
    except DatabaseUnavailable as exc:
        fail(f"{exc}. Is the database running, and is GRIDBOT_DB__URL right?")
    return engine
