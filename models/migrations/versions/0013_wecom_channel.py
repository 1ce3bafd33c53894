"""WeCom channel: rooms the bot may not post in, handoffs, intake cursors

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 06:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("chat_groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("can_post", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("staff_room", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(length=128), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("assignee_platform_id", sa.String(length=128), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_message_id", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], name=op.f("fk_handoffs_outbox_id_outbox")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_handoffs_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoffs")),
        sa.UniqueConstraint("outbox_id", name=op.f("uq_handoffs_outbox_id")),
    )
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.create_index("ix_handoffs_room_open", ["room_id", "done_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_handoffs_ticket_id"), ["ticket_id"], unique=False)
    op.create_table(
        "intake_cursors",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("skipped_no_consent", sa.Integer(), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lag_s", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_intake_cursors")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("intake_cursors")
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoffs_ticket_id"))
        batch_op.drop_index("ix_handoffs_room_open")
    op.drop_table("handoffs")
    with op.batch_alter_table("chat_groups", schema=None) as batch_op:
        batch_op.drop_column("staff_room")
        batch_op.drop_column("can_post")
