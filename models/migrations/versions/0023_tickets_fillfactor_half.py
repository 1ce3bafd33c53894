"""tickets fillfactor 50: the sweep's escalation update of every ticket stays on its page

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 16:30:00.000000

After an outage the deadline sweep raises the escalation level of every open ticket once. At
fillfactor 90 a page has room for the new versions of only a few of its tickets; the rest move to
other pages and write an entry in each of the five indexes of tickets (7 WAL records a ticket, 12.8
MB for 20,000 tickets). At 50 every ticket on a page has room for one new version beside it, so the
update is HOT: one WAL record a ticket, no index entry (1.6 MB). The table takes about twice the
pages. PostgreSQL only; it applies to pages written from now on (a table rewrite, VACUUM FULL,
applies it to the rest).
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE tickets SET (fillfactor = 50)")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE tickets SET (fillfactor = 90)")
