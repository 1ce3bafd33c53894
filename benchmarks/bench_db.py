"""The databases a benchmark runs on: a temporary SQLite file, and a private PostgreSQL schema."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from gridbot.models.db import make_engine
from gridbot.models.settings import DBSettings


@contextmanager
def sqlite_engine() -> Iterator[Engine]:
    """A fresh SQLite file in a temporary directory (the embedded default's settings)."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(DBSettings(url=f"sqlite:///{Path(tmp) / 'bench.db'}"))
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def pg_schema_engine(url: str) -> Iterator[Engine]:
    """An engine bound to a PostgreSQL schema private to this process, dropped afterwards."""
    schema = f"gridbot_bench_{os.getpid()}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
