"""points: residents' choice of how the monthly thank-you list shows them

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 09:50:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "participation_choices",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("display", sa.String(length=8), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("person_id"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("participation_choices")
