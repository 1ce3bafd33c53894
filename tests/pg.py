"""PostgreSQL helpers for tests that hand the database to another process or a CLI: schemas and URLs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from gridbot.models.migrate import upgrade


@dataclass
class Schema:
    """A migrated PostgreSQL schema; `url` carries `options=-csearch_path=<name>` for subprocesses."""

    name: str
    url: str
    engine: Engine


@contextmanager
def pg_schema(base_url: str, name: str) -> Iterator[Schema]:
    """Create and migrate a schema, yield it, drop it (the shared server's other schemas untouched)."""
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    # psycopg hands the URL's `options` to libpq (rendered as options=-csearch_path%3D<name>), so every
    # connection of every process given this URL works in the schema
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={name}"})
    rendered = url.render_as_string(hide_password=False)
    engine = create_engine(rendered, pool_size=5)
    try:
        upgrade(engine)
        yield Schema(name, rendered, engine)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


def url_of(engine: Engine) -> str:
    """The engine's URL for another process or a CLI, with a PostgreSQL engine's schema as search path."""
    url = make_url(engine.url.render_as_string(hide_password=False))
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            schema = conn.execute(text("SHOW search_path")).scalar_one()
        url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)
