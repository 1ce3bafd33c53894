"""dashboard at city scale: the rollup generation counter (cache key) and its triggers

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 10:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("rollup_days", "rollup_cohorts")
# an upsert (the row may have been emptied) to at least the current time in microseconds, so the
# number never repeats one an API process has already cached under, even after the table is emptied
PG_BUMP = (
    "INSERT INTO rollup_generation (name, value) VALUES ('rollups', "
    "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint) ON CONFLICT (name) DO UPDATE SET "
    "value = GREATEST(rollup_generation.value + 1, EXCLUDED.value)"
)
SQLITE_BUMP = (
    "INSERT OR REPLACE INTO rollup_generation (name, value) VALUES ('rollups', max("
    "COALESCE((SELECT value FROM rollup_generation WHERE name = 'rollups'), 0) + 1, "
    "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)))"
)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "rollup_generation",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rollup_generation")),
    )
    op.execute("INSERT INTO rollup_generation (name, value) VALUES ('rollups', 0)")
    if op.get_bind().dialect.name == "postgresql":
        # one bump per statement (a bulk load of a million rows bumps once); TRUNCATE included
        op.execute(
            "CREATE FUNCTION bump_rollup_generation() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {PG_BUMP}; RETURN NULL; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_rollup_generation()"
            )
    else:
        # SQLite has row triggers only: a small deployment's rollups are small
        for table in TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_generation_{event.lower()} AFTER {event} ON {table} "
                    f"BEGIN {SQLITE_BUMP}; END"
                )


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_generation ON {table}")
        op.execute("DROP FUNCTION bump_rollup_generation()")
    else:
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_generation_{event}")
    op.drop_table("rollup_generation")
