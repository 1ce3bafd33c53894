"""outbox: ix_outbox_sent_day (status, sent_at, room_id, bot_account) for the daily send budgets

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 10:00:00.000000

The budgets count today's SENT rows per account and per room; with sent_at second in the index
those counts read today's entries only (index-only on PostgreSQL), not every row ever sent.
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index("ix_outbox_sent_day", "outbox", ["status", "sent_at", "room_id", "bot_account"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_outbox_sent_day", table_name="outbox")
