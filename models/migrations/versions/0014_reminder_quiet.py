"""reminder_quiet: when each person last got a reminder digest (the sweeper's quiet period)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 06:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "reminder_quiet",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("person_id"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("reminder_quiet")
