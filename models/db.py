"""Engine and session factories; built by entry points, never at import time."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.util import identity_key

from gridbot.models.settings import DBSettings

T = TypeVar("T")


class DatabaseUnavailable(RuntimeError):
    """The configured database cannot be reached; the message says which one and why."""


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(settings: DBSettings) -> Engine:
    """An engine for the configured URL (SQLite gets WAL and foreign keys)."""
    url = make_url(settings.url)
    if settings.password is not None:
        url = url.set(password=settings.password.get_secret_value())
    # hide_parameters: a failed statement's traceback must not carry residents' texts into the log
    kwargs: dict[str, Any] = {"echo": settings.echo, "hide_parameters": True}
    if url.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
    else:
        kwargs.update(pool_size=settings.pool_size, pool_pre_ping=True)
        kwargs["connect_args"] = {"connect_timeout": 5}
    engine = create_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return tune(engine)


def tune(engine: Engine) -> Engine:
    """What every PostgreSQL engine of the bot runs with (`make_engine`'s, the tests' and benchmarks')."""
    if engine.dialect.name == "postgresql" and not event.contains(engine, "do_executemany", _one_row):
        event.listen(engine, "do_executemany", _one_row)
    return engine


def _one_row(cursor: Any, statement: str, parameters: Any, _context: Any) -> bool:
    """An "executemany" of one row runs as one execute.

    The ORM's flush sends each UPDATE of one object this way; psycopg runs every executemany in
    pipeline mode, which costs about half as much again as a plain execute, in both CPU and wall
    time (benchmarks/bench_pipeline.py --path). Several rows still go as executemany.
    """
    if len(parameters) != 1:
        return False
    cursor.execute(statement, parameters[0])
    return True


def check_connection(engine: Engine) -> None:
    """Raise DatabaseUnavailable with a readable reason if the database cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnavailable(f"cannot reach the database {where}: {reason}") from None


def database_down(exc: BaseException) -> bool:
    """Whether an error means the database is unreachable (wait and retry) rather than a bug."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (services never commit; callers do)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


def try_xact_lock(session: Session, name: str) -> bool:
    """A PostgreSQL advisory lock held until the transaction ends; False if another holds it.

    The database-side guard behind a coordinator lock, for work that must not run twice at once
    even when Redis is down or flushed. SQLite has one writer at a time anyway: always True.
    """
    if not is_postgres(session):
        return True
    key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}))


def is_postgres(session_or_engine: Session | Engine) -> bool:
    """Whether the bound database is PostgreSQL (for SKIP LOCKED and friends)."""
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


def insert_ignore(session: Session, entity: Any, values: dict[str, Any], key: str) -> int | None:
    """INSERT … ON CONFLICT (key) DO NOTHING RETURNING id, as one Core statement; None on a conflict.

    One round trip where select-then-insert takes two and still races another instance.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    table = entity.__table__
    insert = postgresql.insert if is_postgres(session) else sqlite.insert
    stmt = insert(table).values(**values).on_conflict_do_nothing(index_elements=[key])
    result: int | None = session.connection().execute(stmt.returning(table.c.id)).scalar_one_or_none()
    return result


def attach(session: Session, cls: type[T], values: dict[str, Any]) -> T:
    """A persistent `cls` object in `session` holding these column values (its row as the caller
    knows it), without a query; the object already in the session under that id if there is one.

    The values become the loaded state, as loading sets it (the constructor's per-attribute events
    cost more), so a change made to the object afterwards is flushed as an UPDATE as usual.
    """
    existing = session.identity_map.get(identity_key(cls, values["id"]))
    if existing is not None:
        return existing
    obj: T = inspect(cls).class_manager.new_instance()
    obj.__dict__.update({k: (v.copy() if isinstance(v, (list, dict)) else v) for k, v in values.items()})
    make_transient_to_detached(obj)
    session.add(obj)
    return obj
