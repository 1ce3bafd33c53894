"""The databases a benchmark runs on (a temporary SQLite file, a private PostgreSQL schema), and its statements."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text

from gridbot.models.db import make_engine, tune
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
    engine = tune(create_engine(url, connect_args={"options": f"-csearch_path={schema}"}))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def targets(
    pg_url: str | None, skip_sqlite: bool
) -> list[tuple[str, Callable[[], AbstractContextManager[Engine]]]]:
    """The databases to run on, labelled: SQLite unless skipped, then PostgreSQL when a URL is given."""
    out: list[tuple[str, Callable[[], AbstractContextManager[Engine]]]] = []
    if not skip_sqlite:
        out.append(("SQLite", sqlite_engine))
    if pg_url:
        out.append(("PostgreSQL", lambda: pg_schema_engine(pg_url)))
    return out


class StatementCounter:
    """Statements and commits on the engines it is attached to since `take`, with their text when tracing."""

    def __init__(self, trace: bool = False) -> None:
        self.sql = self.commits = 0
        self.trace = trace
        self.lines: list[str] = []

    def attach(self, engine: Engine) -> None:
        """Count this engine's statements and commits too (once, however often it is attached)."""
        if not event.contains(engine, "before_cursor_execute", self._statement):
            event.listen(engine, "before_cursor_execute", self._statement)
            event.listen(engine, "commit", self._commit)

    def _statement(self, _conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        self.sql += 1
        if self.trace:
            self.lines.append(" ".join(statement.split())[:150])

    def _commit(self, *_args: object) -> None:
        self.commits += 1

    def take(self) -> tuple[int, int, list[str]]:
        """Statements, commits and traced lines since the last call; starts counting afresh."""
        out = (self.sql, self.commits, self.lines)
        self.sql = self.commits = 0
        self.lines = []
        return out
