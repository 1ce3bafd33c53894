"""tickets.escalation_level derived from reminder_log: the sweep no longer updates tickets

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 13:30:00.000000

After an outage the deadline sweep updated every open ticket once to raise its escalation level:
100,000 row versions (a row lock and a heap update a ticket), about a third of the sweep's time.
The level is the highest one logged for any of the ticket's deadlines, and the log row is written
in the same transaction anyway, so the entity now reads it from there (`Ticket.escalation_level`,
a probe of the log's primary key) and the column goes. The log already held every level told
(migration 0024 derived the deadlines' fired levels from it); a ticket whose row the sweep found
locked by a user's transaction was left unraised before and now reads its level from the log too.
Downgrade fills the column from the log again.
"""

import sqlite3
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # a native ALTER on both (SQLite 3.35+): a batch copy of tickets fails its referrers' foreign keys
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 35):
        raise RuntimeError(
            f"database migration 0026 needs SQLite 3.35 or newer (this Python has {sqlite3.sqlite_version}): "
            "use a Python built with a newer SQLite (the Docker image has one) or set GRIDBOT_DB__URL to PostgreSQL"
        )
    op.execute("ALTER TABLE tickets DROP COLUMN escalation_level")


def downgrade() -> None:
    """Downgrade schema."""
    op.add_column("tickets", sa.Column("escalation_level", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE tickets SET escalation_level = COALESCE("
        "(SELECT max(l.level) FROM reminder_log l WHERE l.ticket_id = tickets.id), 0)"
    )
