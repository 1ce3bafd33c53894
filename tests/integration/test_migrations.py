"""Migrations build exactly the schema the entities describe, on SQLite and PostgreSQL, and go down again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from gridbot.models.entities import Base
from gridbot.models.migrate import current_revision, downgrade, head_revision, upgrade


def test_migrated_schema_matches_entities(any_engine: Engine) -> None:
    assert current_revision(any_engine) == head_revision(any_engine)
    with any_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_downgrade_and_upgrade_again(sqlite_engine: Engine) -> None:
    downgrade(sqlite_engine, "base")
    assert "tickets" not in inspect(sqlite_engine).get_table_names()
    upgrade(sqlite_engine)
    assert {"tickets", "outbox", "reminder_log"} <= set(inspect(sqlite_engine).get_table_names())
