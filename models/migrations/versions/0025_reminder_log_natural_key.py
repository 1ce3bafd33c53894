"""reminder_log keyed by what it records: (ticket, deadline kind, cycle, level) is its primary key

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 07:00:00.000000

The reminder log is the sweep's only record of what was told, and after an outage the sweep inserts
one row a due deadline. Each row paid for two indexes and a sequence value: the surrogate `id` (its
primary key, read by nothing) and the UNIQUE key that makes a level fire once. Now the UNIQUE key
is the primary key and `id` is gone: one index entry a logged level (300,000 rows: 600,000 WAL
records instead of 910,000). Downgrade numbers the rows again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = ["ticket_id", "deadline_kind", "cycle", "level"]
_UNIQUE = "uq_reminder_log_ticket_id_deadline_kind_cycle_level"


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        # one ALTER: the table is scanned once to build the new key (its sequence goes with `id`)
        op.execute(
            f"ALTER TABLE reminder_log DROP CONSTRAINT {_UNIQUE}, DROP CONSTRAINT pk_reminder_log, "
            f"DROP COLUMN id, ADD CONSTRAINT pk_reminder_log PRIMARY KEY ({', '.join(_KEY)})"
        )
        return
    with op.batch_alter_table("reminder_log", recreate="always") as batch:
        batch.drop_constraint(_UNIQUE, type_="unique")
        batch.drop_column("id")
        batch.create_primary_key("pk_reminder_log", _KEY)


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"ALTER TABLE reminder_log DROP CONSTRAINT pk_reminder_log, ADD COLUMN id SERIAL, "
            f"ADD CONSTRAINT pk_reminder_log PRIMARY KEY (id), ADD CONSTRAINT {_UNIQUE} UNIQUE ({', '.join(_KEY)})"
        )
        return
    with op.batch_alter_table("reminder_log", recreate="always") as batch:
        batch.drop_constraint("pk_reminder_log", type_="primary")
        # INTEGER PRIMARY KEY: SQLite numbers the copied rows itself (the rowid)
        batch.add_column(sa.Column("id", sa.Integer(), nullable=False))
        batch.create_primary_key("pk_reminder_log", ["id"])
        batch.create_unique_constraint(_UNIQUE, _KEY)
