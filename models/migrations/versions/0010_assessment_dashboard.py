"""assessment as published, grid geometry, browser sessions

tickets.source (主动发现: "patrol" for staff patrol reports), ratings.solved (the 回访 question
「问题解决了吗」), grids.center_lng/center_lat/geometry (the dashboard's map), rollup counts for the
new indicators, and web_sessions (dashboard cookie sessions, gridworkers' one-time links).

After upgrading, rebuild the rollups once (`gridbot rollup refresh --from <first day>`): the new
rollup columns start at 0, which the dashboard's data-quality check reports as out of date.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 06:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COHORT = ("response_due", "accepted_on_time", "patrol", "urged")
DAY = ("solved_answered", "solved")


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="resident")
        )
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("solved", sa.Boolean(), nullable=True))
    with op.batch_alter_table("grids", schema=None) as batch_op:
        batch_op.add_column(sa.Column("center_lng", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("center_lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("geometry", sa.JSON(), nullable=True))
    with op.batch_alter_table("rollup_cohorts", schema=None) as batch_op:
        for name in COHORT:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("rollup_days", schema=None) as batch_op:
        for name in DAY:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_web_sessions_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"], name=op.f("fk_web_sessions_token_id_api_tokens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_web_sessions_secret_hash")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_web_sessions_token_id"), ["token_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("web_sessions")
    with op.batch_alter_table("rollup_days", schema=None) as batch_op:
        for name in DAY:
            batch_op.drop_column(name)
    with op.batch_alter_table("rollup_cohorts", schema=None) as batch_op:
        for name in COHORT:
            batch_op.drop_column(name)
    with op.batch_alter_table("grids", schema=None) as batch_op:
        batch_op.drop_column("geometry")
        batch_op.drop_column("center_lat")
        batch_op.drop_column("center_lng")
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_column("solved")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("source")
