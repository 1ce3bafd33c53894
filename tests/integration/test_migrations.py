"""Migrations build exactly the schema the entities describe, on SQLite and PostgreSQL, and go down again."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, select, text
from sqlalchemy.exc import IntegrityError

from gridbot.models.db import make_session_factory
from gridbot.models.entities import Base, Ticket
from gridbot.models.enums import TicketStatus
from gridbot.models.migrate import current_revision, downgrade, head_revision, upgrade
from gridbot.models.tickets import deadlines
from tests.conftest import World


def test_migrated_schema_matches_entities(any_engine: Engine) -> None:
    assert current_revision(any_engine) == head_revision(any_engine)
    with any_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_tickets_keep_half_of_each_page_free_for_updates(pg_engine: Engine) -> None:
    """After an outage the sweep escalates every ticket at once: each new version fits on its page (HOT)."""
    with pg_engine.connect() as conn:
        options = conn.scalar(text("SELECT reloptions FROM pg_class WHERE oid = 'tickets'::regclass"))
    assert "fillfactor=50" in (options or [])


def test_downgrade_and_upgrade_again(sqlite_engine: Engine) -> None:
    downgrade(sqlite_engine, "base")
    assert "tickets" not in inspect(sqlite_engine).get_table_names()
    upgrade(sqlite_engine)
    assert {"tickets", "outbox", "reminder_log"} <= set(inspect(sqlite_engine).get_table_names())


def _alembic_current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_the_quick_revision_check_agrees_with_alembic(sqlite_engine: Engine) -> None:
    """The start-up check reads the revisions without alembic; it must say what alembic says."""
    from alembic.script import ScriptDirectory

    from gridbot.models.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(sqlite_engine)).get_current_head()
    assert head_revision(sqlite_engine) == head
    assert current_revision(sqlite_engine) == _alembic_current(sqlite_engine) == head
    downgrade(sqlite_engine, "0019")
    assert current_revision(sqlite_engine) == _alembic_current(sqlite_engine) == "0019"
    downgrade(sqlite_engine, "base")  # the version table stays, empty
    assert current_revision(sqlite_engine) is None and _alembic_current(sqlite_engine) is None
    upgrade(sqlite_engine)
    assert current_revision(sqlite_engine) == head


def test_a_database_never_migrated_has_no_revision(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert current_revision(engine) is None
    engine.dispose()


def test_the_sweep_watermark_migration_keeps_what_was_told(any_engine: Engine, world: World) -> None:
    """0024 on a database with data: stopped clocks stay stopped, told levels are not told again."""
    from tests.integration.test_sweeper import T0, M, open_tickets, run

    sf = make_session_factory(any_engine)
    told, stopped = open_tickets(sf, world.grid, 2, assignee=world.worker)
    downgrade(any_engine, "0023")
    with any_engine.begin() as conn:  # as the old sweeper left them: one warned, one ticket closed
        conn.execute(
            text("UPDATE ticket_deadlines SET fired_level = 1, next_fire_at = due_at WHERE ticket_id = :t"),
            {"t": told},
        )
        conn.execute(
            text(
                "INSERT INTO reminder_log (ticket_id, deadline_kind, cycle, level, skipped, fired_at) "
                "SELECT ticket_id, kind, cycle, 1, 0, warn_at FROM ticket_deadlines WHERE ticket_id = :t"
            ),
            {"t": told},
        )
        conn.execute(
            text("UPDATE ticket_deadlines SET next_fire_at = NULL WHERE ticket_id = :t"), {"t": stopped}
        )
    upgrade(any_engine)
    with any_engine.connect() as conn:
        rows = dict(
            conn.execute(
                text("SELECT ticket_id, count(stopped_at) FROM ticket_deadlines GROUP BY ticket_id")
            ).all()
        )
        assert rows == {told: 0, stopped: 2}
        assert conn.execute(text("SELECT swept_to, version FROM sweep_watermark")).one() == (None, 0)
    res = run(sf, T0 + 9 * 60 * M)  # every level of both: the first pass after the migration is full
    assert (res.fired, res.passed_over) == (2, 4)  # the told clocks at level 4, skipping 2 and 3 only
    with any_engine.connect() as conn:
        logged = conn.execute(text("SELECT ticket_id, level FROM reminder_log ORDER BY level")).all()
    assert sorted(logged) == sorted([(told, 1), (told, 1), (told, 4), (told, 4)])


def test_the_reminder_log_key_migration_keeps_what_was_told(any_engine: Engine, world: World) -> None:
    """0025 both ways on a database with told levels: rows kept, each level still logged once."""
    from tests.integration.test_sweeper import T0, M, count_logs, open_tickets, run

    sf = make_session_factory(any_engine)
    open_tickets(sf, world.grid, 2, assignee=world.worker)
    assert run(sf, T0 + 8 * M).fired == 2
    downgrade(any_engine, "0024")
    with any_engine.connect() as conn:  # numbered again, the key UNIQUE
        ids = conn.execute(text("SELECT id FROM reminder_log ORDER BY id")).scalars().all()
        assert len(set(ids)) == len(ids) == 2
    upgrade(any_engine)
    assert count_logs(sf) == 2 and run(sf, T0 + 9 * M).fired == 0  # not told again
    with any_engine.begin() as conn, pytest.raises(IntegrityError):  # the primary key is the key
        conn.execute(
            text(
                "INSERT INTO reminder_log (ticket_id, deadline_kind, cycle, level, skipped, fired_at) "
                "SELECT ticket_id, deadline_kind, cycle, level, 0, fired_at FROM reminder_log"
            )
        )


def test_the_escalation_level_migration_keeps_each_tickets_level(any_engine: Engine, world: World) -> None:
    """0026 both ways: the level a ticket shows is the highest told, as a column and from the log."""
    from tests.integration.test_sweeper import T0, M, open_tickets, run

    sf = make_session_factory(any_engine)
    warned, escalated = open_tickets(sf, world.grid, 2, assignee=world.worker)
    assert run(sf, T0 + 8 * M).fired == 2  # both first responses warned (level 1)
    with sf.begin() as s:  # one is closed after its warning
        s.get_one(Ticket, warned).status = TicketStatus.CLOSED
        deadlines.stop_all(s, s.get_one(Ticket, warned), T0 + 9 * M)
    (quiet,) = open_tickets(sf, world.grid, assignee=world.worker, at=T0 + 10 * M)  # warns at +18
    assert run(sf, T0 + 16 * M).fired == 1  # the open one at level 3, level 2 passed over
    levels = {warned: 1, escalated: 3, quiet: 0}
    downgrade(any_engine, "0025")
    with any_engine.connect() as conn:
        assert dict(conn.execute(text("SELECT id, escalation_level FROM tickets")).all()) == levels
    upgrade(any_engine)
    assert "escalation_level" not in {c["name"] for c in inspect(any_engine).get_columns("tickets")}
    with sf() as s:
        assert dict(s.execute(select(Ticket.id, Ticket.escalation_level)).all()) == levels
