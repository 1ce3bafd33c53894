"""reminder_log.skipped: levels a told level stands for after an outage (the set-based sweep)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 09:50:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("reminder_log") as batch:
        batch.add_column(sa.Column("skipped", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("reminder_log") as batch:
        batch.drop_column("skipped")
