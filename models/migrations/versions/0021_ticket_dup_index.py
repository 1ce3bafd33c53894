"""ticket_dup_features, ticket_dup_keys: duplicate features stored once per ticket, keys to prune by

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 13:00:00.000000

Open tickets get a pending features row: the next duplicate check of their grid that reads them
computes and stores their features (the migration cannot run the NLP code: the models layer
never reaches the nlp layer).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "ticket_dup_features",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_dup_features_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_dup_features")),
    )
    op.create_index(
        "ix_ticket_dup_features_pending",
        "ticket_dup_features",
        ["grid_id", "created_at"],
        unique=False,
        sqlite_where=sa.text("data IS NULL"),
        postgresql_where=sa.text("data IS NULL"),
    )
    op.create_table(
        "ticket_dup_keys",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_dup_keys_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", "key", name=op.f("pk_ticket_dup_keys")),
    )
    op.create_index(
        "ix_ticket_dup_keys_lookup", "ticket_dup_keys", ["grid_id", "key", "created_at"], unique=False
    )
    op.execute(  # the open tickets (models.enums.OPEN_STATUSES), pending
        "INSERT INTO ticket_dup_features (ticket_id, grid_id, created_at, data) "
        "SELECT id, grid_id, created_at, NULL FROM tickets "
        "WHERE status IN ('new', 'accepted', 'in_progress', 'suspended')"
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_ticket_dup_keys_lookup", table_name="ticket_dup_keys")
    op.drop_table("ticket_dup_keys")
    op.drop_index("ix_ticket_dup_features_pending", table_name="ticket_dup_features")
    op.drop_table("ticket_dup_features")
