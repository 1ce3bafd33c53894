"""sweep watermark: the sweep finds due levels by their instants and writes no deadline row

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 03:00:00.000000

The sweep told a deadline by updating its row (fired_level, next_fire_at): a new row version and
three index entries a told deadline, the largest cost left after an outage. Now the reminder log is
the only record of what was told; the sweep finds the levels that fell due since its last pass by
range scans of one partial index a level (running clocks only) from the committed `swept_to` of
`sweep_watermark`, and the lifecycle lowers that watermark when it sets an instant before it.
- sweep_watermark: one row; `swept_to` NULL, so the first sweep after this migration is a full pass.
- ticket_deadlines.stopped_at replaces "next_fire_at IS NULL" for clocks that will never fire again
  (closed tickets, superseded cycles, all four levels fired); backfilled from next_fire_at.
- fired_level and next_fire_at are dropped with their index; what was fired is in reminder_log.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LEVELS = ("warn_at", "due_at", "escalate1_at", "escalate2_at")
_RUNNING = sa.text("met_at IS NULL AND paused_at IS NULL AND stopped_at IS NULL")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "sweep_watermark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("swept_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sweeping_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("full_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("holder", sa.String(length=32), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sweep_watermark")),
    )
    op.execute("INSERT INTO sweep_watermark (id, version) VALUES (1, 0)")
    with op.batch_alter_table("ticket_deadlines") as batch:
        batch.add_column(sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE ticket_deadlines SET stopped_at = CURRENT_TIMESTAMP "
        "WHERE next_fire_at IS NULL AND met_at IS NULL AND paused_at IS NULL"
    )
    with op.batch_alter_table("ticket_deadlines") as batch:
        batch.drop_index("ix_ticket_deadlines_next_fire")
        batch.drop_column("next_fire_at")
        batch.drop_column("fired_level")
        for col in _LEVELS:
            batch.create_index(
                f"ix_ticket_deadlines_run_{col}", [col], postgresql_where=_RUNNING, sqlite_where=_RUNNING
            )


def downgrade() -> None:
    """Downgrade schema: fired_level from the reminder log, next_fire_at from it and the instants."""
    with op.batch_alter_table("ticket_deadlines") as batch:
        for col in _LEVELS:
            batch.drop_index(f"ix_ticket_deadlines_run_{col}")
        batch.add_column(sa.Column("fired_level", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_fire_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE ticket_deadlines SET fired_level = COALESCE((SELECT max(l.level) FROM reminder_log l "
        "WHERE l.ticket_id = ticket_deadlines.ticket_id AND l.deadline_kind = ticket_deadlines.kind "
        "AND l.cycle = ticket_deadlines.cycle), 0)"
    )
    op.execute(
        "UPDATE ticket_deadlines SET next_fire_at = CASE fired_level WHEN 0 THEN warn_at "
        "WHEN 1 THEN due_at WHEN 2 THEN escalate1_at WHEN 3 THEN escalate2_at END "
        "WHERE met_at IS NULL AND paused_at IS NULL AND stopped_at IS NULL"
    )
    with op.batch_alter_table("ticket_deadlines") as batch:
        batch.drop_column("stopped_at")
        batch.create_index(
            "ix_ticket_deadlines_next_fire",
            ["next_fire_at", "id"],
            postgresql_where=sa.text("next_fire_at IS NOT NULL"),
            sqlite_where=sa.text("next_fire_at IS NOT NULL"),
        )
    op.drop_table("sweep_watermark")
