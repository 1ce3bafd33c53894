"""sweep write path: partial next-fire index, reminder_log without per-row key checks, tickets fillfactor

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 13:00:00.000000

The deadline sweep writes one reminder_log row and one deadline row a due deadline, and raises the
ticket's escalation level. Each index and key check on those rows is paid per deadline:
- ix_ticket_deadlines_next_fire keeps only running clocks (next_fire_at IS NOT NULL);
- ix_reminder_log_ticket_id duplicated the UNIQUE key's leading column;
- reminder_log's foreign keys ran a key-check query per inserted row; its only writer, the sweeper,
  copies both ids from rows that are keyed themselves;
- tickets get fillfactor 90 (PostgreSQL), so updates of unindexed columns stay on their page (HOT).
  It applies to pages written from now on.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RUNNING = sa.text("next_fire_at IS NOT NULL")


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("ticket_deadlines") as batch:
        batch.drop_index("ix_ticket_deadlines_next_fire")
        batch.create_index(
            "ix_ticket_deadlines_next_fire",
            ["next_fire_at", "id"],
            unique=False,
            postgresql_where=_RUNNING,
            sqlite_where=_RUNNING,
        )
    with op.batch_alter_table("reminder_log") as batch:
        batch.drop_index("ix_reminder_log_ticket_id")
        batch.drop_constraint("fk_reminder_log_ticket_id_tickets", type_="foreignkey")
        batch.drop_constraint("fk_reminder_log_recipient_id_persons", type_="foreignkey")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE tickets SET (fillfactor = 90)")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE tickets RESET (fillfactor)")
    with op.batch_alter_table("reminder_log") as batch:
        batch.create_foreign_key("fk_reminder_log_recipient_id_persons", "persons", ["recipient_id"], ["id"])
        batch.create_foreign_key("fk_reminder_log_ticket_id_tickets", "tickets", ["ticket_id"], ["id"])
        batch.create_index("ix_reminder_log_ticket_id", ["ticket_id"], unique=False)
    with op.batch_alter_table("ticket_deadlines") as batch:
        batch.drop_index("ix_ticket_deadlines_next_fire")
        batch.create_index("ix_ticket_deadlines_next_fire", ["next_fire_at", "id"], unique=False)
