"""outbox: indexes for the per-account and per-room daily send budgets

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 07:20:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index("ix_outbox_sent_account", "outbox", ["status", "bot_account", "sent_at"])
    op.create_index("ix_outbox_sent_room", "outbox", ["status", "room_id", "sent_at"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_outbox_sent_room", table_name="outbox")
    op.drop_index("ix_outbox_sent_account", table_name="outbox")
